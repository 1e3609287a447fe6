"""A person's time zone: reading a typed city or zone name, the common choices, a location's zone, local days.

Pure functions over ``zoneinfo`` (no I/O): a location maps to the zone of the nearest city in a small table of
major cities, so nothing is downloaded and no location leaves the bot (and none is stored: only the zone name).
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

#: The settings key (see the settings contract): an IANA name; absent means UTC.
SETTING = "timezone"
DEFAULT_ZONE = "UTC"


@dataclass(frozen=True)
class City:
    """A major city: its name as people type it, where it is, and its zone."""

    name: str
    lat: float
    lon: float
    zone: str


# Major cities of every inhabited zone region (population and spread over the map, not completeness): the
# nearest one to a shared location gives its zone, and their names are accepted when typed.
CITIES: tuple[City, ...] = tuple(
    City(name, lat, lon, zone)
    for name, lat, lon, zone in (
        # Americas
        ("Honolulu", 21.31, -157.86, "Pacific/Honolulu"),
        ("Anchorage", 61.22, -149.90, "America/Anchorage"),
        ("Vancouver", 49.28, -123.12, "America/Vancouver"),
        ("Seattle", 47.61, -122.33, "America/Los_Angeles"),
        ("San Francisco", 37.77, -122.42, "America/Los_Angeles"),
        ("Los Angeles", 34.05, -118.24, "America/Los_Angeles"),
        ("Las Vegas", 36.17, -115.14, "America/Los_Angeles"),
        ("Tijuana", 32.51, -117.04, "America/Tijuana"),
        ("Phoenix", 33.45, -112.07, "America/Phoenix"),
        ("Denver", 39.74, -104.99, "America/Denver"),
        ("Salt Lake City", 40.76, -111.89, "America/Denver"),
        ("Calgary", 51.05, -114.07, "America/Edmonton"),
        ("Edmonton", 53.55, -113.49, "America/Edmonton"),
        ("Winnipeg", 49.90, -97.14, "America/Winnipeg"),
        ("Dallas", 32.78, -96.80, "America/Chicago"),
        ("Houston", 29.76, -95.37, "America/Chicago"),
        ("Chicago", 41.88, -87.63, "America/Chicago"),
        ("Minneapolis", 44.98, -93.27, "America/Chicago"),
        ("Mexico City", 19.43, -99.13, "America/Mexico_City"),
        ("Monterrey", 25.69, -100.32, "America/Monterrey"),
        ("Guatemala City", 14.63, -90.51, "America/Guatemala"),
        ("Detroit", 42.33, -83.05, "America/Detroit"),
        ("Atlanta", 33.75, -84.39, "America/New_York"),
        ("Miami", 25.76, -80.19, "America/New_York"),
        ("Washington", 38.91, -77.04, "America/New_York"),
        ("New York", 40.71, -74.01, "America/New_York"),
        ("Boston", 42.36, -71.06, "America/New_York"),
        ("Toronto", 43.65, -79.38, "America/Toronto"),
        ("Montreal", 45.50, -73.57, "America/Toronto"),
        ("Havana", 23.11, -82.37, "America/Havana"),
        ("Panama", 8.98, -79.52, "America/Panama"),
        ("Bogota", 4.71, -74.07, "America/Bogota"),
        ("Lima", -12.05, -77.04, "America/Lima"),
        ("Caracas", 10.48, -66.90, "America/Caracas"),
        ("Halifax", 44.65, -63.57, "America/Halifax"),
        ("Santo Domingo", 18.49, -69.93, "America/Santo_Domingo"),
        ("San Juan", 18.47, -66.11, "America/Puerto_Rico"),
        ("La Paz", -16.49, -68.12, "America/La_Paz"),
        ("Santiago", -33.45, -70.67, "America/Santiago"),
        ("Buenos Aires", -34.60, -58.38, "America/Argentina/Buenos_Aires"),
        ("Montevideo", -34.90, -56.16, "America/Montevideo"),
        ("Sao Paulo", -23.55, -46.63, "America/Sao_Paulo"),
        ("Rio de Janeiro", -22.91, -43.17, "America/Sao_Paulo"),
        ("Manaus", -3.12, -60.02, "America/Manaus"),
        ("Recife", -8.05, -34.88, "America/Recife"),
        ("St. John's", 47.56, -52.71, "America/St_Johns"),
        ("Nuuk", 64.18, -51.72, "America/Nuuk"),
        # Europe
        ("Reykjavik", 64.15, -21.94, "Atlantic/Reykjavik"),
        ("Azores", 37.74, -25.68, "Atlantic/Azores"),
        ("Lisbon", 38.72, -9.14, "Europe/Lisbon"),
        ("Porto", 41.15, -8.61, "Europe/Lisbon"),
        ("Canary Islands", 28.12, -15.43, "Atlantic/Canary"),
        ("Dublin", 53.35, -6.26, "Europe/Dublin"),
        ("London", 51.51, -0.13, "Europe/London"),
        ("Manchester", 53.48, -2.24, "Europe/London"),
        ("Edinburgh", 55.95, -3.19, "Europe/London"),
        ("Madrid", 40.42, -3.70, "Europe/Madrid"),
        ("Barcelona", 41.39, 2.17, "Europe/Madrid"),
        ("Paris", 48.86, 2.35, "Europe/Paris"),
        ("Marseille", 43.30, 5.37, "Europe/Paris"),
        ("Brussels", 50.85, 4.35, "Europe/Brussels"),
        ("Amsterdam", 52.37, 4.90, "Europe/Amsterdam"),
        ("Luxembourg", 49.61, 6.13, "Europe/Luxembourg"),
        ("Zurich", 47.38, 8.54, "Europe/Zurich"),
        ("Geneva", 46.20, 6.14, "Europe/Zurich"),
        ("Berlin", 52.52, 13.40, "Europe/Berlin"),
        ("Hamburg", 53.55, 9.99, "Europe/Berlin"),
        ("Munich", 48.14, 11.58, "Europe/Berlin"),
        ("Frankfurt", 50.11, 8.68, "Europe/Berlin"),
        ("Cologne", 50.94, 6.96, "Europe/Berlin"),
        ("Copenhagen", 55.68, 12.57, "Europe/Copenhagen"),
        ("Oslo", 59.91, 10.75, "Europe/Oslo"),
        ("Stockholm", 59.33, 18.07, "Europe/Stockholm"),
        ("Vienna", 48.21, 16.37, "Europe/Vienna"),
        ("Prague", 50.08, 14.44, "Europe/Prague"),
        ("Warsaw", 52.23, 21.01, "Europe/Warsaw"),
        ("Krakow", 50.06, 19.94, "Europe/Warsaw"),
        ("Budapest", 47.50, 19.04, "Europe/Budapest"),
        ("Rome", 41.90, 12.50, "Europe/Rome"),
        ("Milan", 45.46, 9.19, "Europe/Rome"),
        ("Naples", 40.85, 14.27, "Europe/Rome"),
        ("Zagreb", 45.81, 15.98, "Europe/Zagreb"),
        ("Belgrade", 44.79, 20.45, "Europe/Belgrade"),
        ("Helsinki", 60.17, 24.94, "Europe/Helsinki"),
        ("Tallinn", 59.44, 24.75, "Europe/Tallinn"),
        ("Riga", 56.95, 24.11, "Europe/Riga"),
        ("Vilnius", 54.69, 25.28, "Europe/Vilnius"),
        ("Minsk", 53.90, 27.56, "Europe/Minsk"),
        ("Kyiv", 50.45, 30.52, "Europe/Kyiv"),
        ("Kiev", 50.45, 30.52, "Europe/Kyiv"),
        ("Odesa", 46.48, 30.72, "Europe/Kyiv"),
        ("Chisinau", 47.01, 28.86, "Europe/Chisinau"),
        ("Bucharest", 44.43, 26.10, "Europe/Bucharest"),
        ("Sofia", 42.70, 23.32, "Europe/Sofia"),
        ("Athens", 37.98, 23.73, "Europe/Athens"),
        ("Istanbul", 41.01, 28.98, "Europe/Istanbul"),
        ("Ankara", 39.93, 32.86, "Europe/Istanbul"),
        ("Moscow", 55.76, 37.62, "Europe/Moscow"),
        ("Saint Petersburg", 59.93, 30.36, "Europe/Moscow"),
        ("Samara", 53.20, 50.15, "Europe/Samara"),
        # Africa and the Middle East
        ("Casablanca", 33.57, -7.59, "Africa/Casablanca"),
        ("Dakar", 14.72, -17.47, "Africa/Dakar"),
        ("Accra", 5.60, -0.19, "Africa/Accra"),
        ("Lagos", 6.52, 3.38, "Africa/Lagos"),
        ("Algiers", 36.75, 3.06, "Africa/Algiers"),
        ("Tunis", 36.81, 10.18, "Africa/Tunis"),
        ("Tripoli", 32.89, 13.19, "Africa/Tripoli"),
        ("Cairo", 30.04, 31.24, "Africa/Cairo"),
        ("Khartoum", 15.50, 32.56, "Africa/Khartoum"),
        ("Addis Ababa", 9.03, 38.74, "Africa/Addis_Ababa"),
        ("Nairobi", -1.29, 36.82, "Africa/Nairobi"),
        ("Kinshasa", -4.44, 15.27, "Africa/Kinshasa"),
        ("Luanda", -8.84, 13.23, "Africa/Luanda"),
        ("Johannesburg", -26.20, 28.05, "Africa/Johannesburg"),
        ("Cape Town", -33.92, 18.42, "Africa/Johannesburg"),
        ("Jerusalem", 31.77, 35.21, "Asia/Jerusalem"),
        ("Tel Aviv", 32.09, 34.78, "Asia/Jerusalem"),
        ("Beirut", 33.89, 35.50, "Asia/Beirut"),
        ("Amman", 31.95, 35.93, "Asia/Amman"),
        ("Baghdad", 33.31, 44.36, "Asia/Baghdad"),
        ("Riyadh", 24.71, 46.68, "Asia/Riyadh"),
        ("Tehran", 35.69, 51.39, "Asia/Tehran"),
        ("Dubai", 25.20, 55.27, "Asia/Dubai"),
        ("Baku", 40.41, 49.87, "Asia/Baku"),
        ("Tbilisi", 41.72, 44.79, "Asia/Tbilisi"),
        ("Yerevan", 40.18, 44.51, "Asia/Yerevan"),
        # Asia and Oceania
        ("Kabul", 34.56, 69.21, "Asia/Kabul"),
        ("Karachi", 24.86, 67.01, "Asia/Karachi"),
        ("Tashkent", 41.30, 69.24, "Asia/Tashkent"),
        ("Yekaterinburg", 56.84, 60.61, "Asia/Yekaterinburg"),
        ("Almaty", 43.24, 76.89, "Asia/Almaty"),
        ("Delhi", 28.61, 77.21, "Asia/Kolkata"),
        ("New Delhi", 28.61, 77.21, "Asia/Kolkata"),
        ("Mumbai", 19.08, 72.88, "Asia/Kolkata"),
        ("Bangalore", 12.97, 77.59, "Asia/Kolkata"),
        ("Kolkata", 22.57, 88.36, "Asia/Kolkata"),
        ("Colombo", 6.93, 79.86, "Asia/Colombo"),
        ("Kathmandu", 27.72, 85.32, "Asia/Kathmandu"),
        ("Dhaka", 23.81, 90.41, "Asia/Dhaka"),
        ("Novosibirsk", 55.01, 82.93, "Asia/Novosibirsk"),
        ("Yangon", 16.87, 96.20, "Asia/Yangon"),
        ("Bangkok", 13.76, 100.50, "Asia/Bangkok"),
        ("Hanoi", 21.03, 105.85, "Asia/Bangkok"),
        ("Ho Chi Minh City", 10.82, 106.63, "Asia/Ho_Chi_Minh"),
        ("Jakarta", -6.21, 106.85, "Asia/Jakarta"),
        ("Kuala Lumpur", 3.14, 101.69, "Asia/Kuala_Lumpur"),
        ("Singapore", 1.35, 103.82, "Asia/Singapore"),
        ("Manila", 14.60, 120.98, "Asia/Manila"),
        ("Hong Kong", 22.32, 114.17, "Asia/Hong_Kong"),
        ("Taipei", 25.03, 121.57, "Asia/Taipei"),
        ("Beijing", 39.90, 116.41, "Asia/Shanghai"),
        ("Shanghai", 31.23, 121.47, "Asia/Shanghai"),
        ("Shenzhen", 22.54, 114.06, "Asia/Shanghai"),
        ("Irkutsk", 52.29, 104.28, "Asia/Irkutsk"),
        ("Ulaanbaatar", 47.89, 106.91, "Asia/Ulaanbaatar"),
        ("Perth", -31.95, 115.86, "Australia/Perth"),
        ("Seoul", 37.57, 126.98, "Asia/Seoul"),
        ("Tokyo", 35.68, 139.69, "Asia/Tokyo"),
        ("Osaka", 34.69, 135.50, "Asia/Tokyo"),
        ("Vladivostok", 43.12, 131.89, "Asia/Vladivostok"),
        ("Darwin", -12.46, 130.84, "Australia/Darwin"),
        ("Adelaide", -34.93, 138.60, "Australia/Adelaide"),
        ("Brisbane", -27.47, 153.03, "Australia/Brisbane"),
        ("Sydney", -33.87, 151.21, "Australia/Sydney"),
        ("Melbourne", -37.81, 144.96, "Australia/Melbourne"),
        ("Hobart", -42.88, 147.33, "Australia/Hobart"),
        ("Port Moresby", -9.44, 147.18, "Pacific/Port_Moresby"),
        ("Noumea", -22.28, 166.46, "Pacific/Noumea"),
        ("Auckland", -36.85, 174.76, "Pacific/Auckland"),
        ("Wellington", -41.29, 174.78, "Pacific/Auckland"),
        ("Fiji", -18.14, 178.44, "Pacific/Fiji"),
        ("Apia", -13.83, -171.76, "Pacific/Apia"),
    )
)


@dataclass(frozen=True)
class Choice:
    """One time-zone button: the zone and the city that names it."""

    zone: str
    city: str


#: The buttons offered when asking, west to east (so they read as a rough map of UTC offsets).
CHOICES: tuple[Choice, ...] = (
    Choice("America/Los_Angeles", "Los Angeles"),
    Choice("America/Denver", "Denver"),
    Choice("America/Chicago", "Chicago"),
    Choice("America/New_York", "New York"),
    Choice("America/Sao_Paulo", "São Paulo"),
    Choice("Europe/London", "London"),
    Choice("Europe/Berlin", "Berlin"),
    Choice("Europe/Kyiv", "Kyiv"),
    Choice("Europe/Moscow", "Moscow"),
    Choice("Asia/Dubai", "Dubai"),
    Choice("Asia/Kolkata", "India"),
    Choice("Asia/Shanghai", "China"),
    Choice("Asia/Tokyo", "Tokyo"),
    Choice("Australia/Sydney", "Sydney"),
    Choice("UTC", "UTC"),
)

#: Typed zone names are at most this long (the longest IANA name is 32 characters; cities are shorter).
MAX_TYPED = 64
_OFFSET_RE = re.compile(r"^(?:utc|gmt)\s*([+\-−])\s*(\d{1,2})(?::?00)?$")
_EARTH_KM = 6371.0


def zone_name(settings: Mapping[str, Any]) -> str:
    """The person's zone name from their settings: a valid IANA name, UTC when unset or unknown."""
    name = settings.get(SETTING)
    return name if isinstance(name, str) and name in all_zones() else DEFAULT_ZONE


def zone_of(settings: Mapping[str, Any]) -> ZoneInfo:
    """The person's zone (UTC when unset)."""
    return ZoneInfo(zone_name(settings))


@cache
def all_zones() -> frozenset[str]:
    """Every IANA zone name this machine knows."""
    return frozenset(zoneinfo.available_timezones())


def _folded(text: str) -> str:
    """Compared form of a typed name: case, accents and spaces vs underscores do not matter ("são paulo")."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return re.sub(r"[\s_]+", " ", plain.strip().casefold())


@cache
def _names() -> dict[str, str]:
    """Folded typed name -> zone: full IANA names, their last part ("new york") and the city table."""
    names: dict[str, str] = {}
    for zone in sorted(all_zones()):
        last = zone.rsplit("/", 1)[-1]
        names.setdefault(_folded(last), zone)
    for city in CITIES:  # cities win over zone tails (e.g. "Kiev" the city, not the old zone link)
        names[_folded(city.name)] = city.zone
    for choice in CHOICES:
        names.setdefault(_folded(choice.city), choice.zone)
    for zone in all_zones():
        names[_folded(zone)] = zone
    return names


def parse_zone(text: str) -> str | None:
    """The IANA zone for a typed zone name, city or UTC offset ("Europe/Berlin", "new york", "UTC+2"); else None.

    Case and spaces vs underscores do not matter. "UTC+2" means two hours ahead of UTC all year (the POSIX
    names Etc/GMT-2 count the other way round).
    """
    folded = _folded(text or "")
    if not folded or len(folded) > MAX_TYPED:
        return None
    if folded in ("utc", "gmt", "z"):
        return DEFAULT_ZONE
    if match := _OFFSET_RE.match(folded):
        sign, hours = match.group(1), int(match.group(2))
        name = f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
        return name if name in all_zones() else None
    return _names().get(folded)


def suggestions(text: str, limit: int = 3) -> list[str]:
    """City or zone names close to a typed name that matched nothing (for "did you mean")."""
    folded = _folded(text or "")[:MAX_TYPED]
    if not folded:
        return []
    shown = {_folded(c.name): c.name for c in CITIES}
    return [shown[m] for m in difflib.get_close_matches(folded, list(shown), n=limit, cutoff=0.7)]


def nearest_zone(lat: float, lon: float) -> str:
    """The zone of the nearest city in the table (great-circle distance): good enough for where people live."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"not a location: {lat}, {lon}")
    return min(CITIES, key=lambda c: _distance_km(lat, lon, c.lat, c.lon)).zone


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def offset_label(zone: str, at: datetime) -> str:
    """The zone's offset at ``at`` as "UTC+01:00" (or "UTC+05:30", "UTC−03:00"; plain "UTC" for zero)."""
    offset = at.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def choice_label(choice: Choice, at: datetime) -> str:
    """A button label: the city and its offset now ("Berlin · UTC+01:00")."""
    if choice.zone == DEFAULT_ZONE:
        return "UTC"
    return f"{choice.city} · {offset_label(choice.zone, at)}"


def local_now(at: datetime, zone: ZoneInfo) -> datetime:
    """``at`` (aware) as wall-clock time in ``zone``."""
    return at.astimezone(zone)


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC (midnight, or whenever the day begins after a DST gap)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    return _existing(start).astimezone(timezone.utc)


def days_ago_start(now: datetime, zone: ZoneInfo, days: int) -> datetime:
    """The UTC start of the local day ``days - 1`` days before today: "the last N days" includes today."""
    today = now.astimezone(zone).date()
    return local_day_start(today - timedelta(days=days - 1), zone)


def _existing(local: datetime) -> datetime:
    """A wall-clock time moved past a DST gap when it does not exist (02:30 on a spring-forward night -> 03:30)."""
    return local.astimezone(timezone.utc).astimezone(local.tzinfo)

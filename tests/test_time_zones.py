"""bot.time_zones: typed names, the common choices, a location's zone, and local days across DST."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.time_zones import (
    CHOICES,
    CITIES,
    all_zones,
    choice_label,
    days_ago_start,
    local_day_start,
    nearest_zone,
    offset_label,
    parse_zone,
    suggestions,
    zone_name,
    zone_of,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("  New York ", "America/New_York"),
        ("new_york", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("Munich", "Europe/Berlin"),  # a city, not a zone name
        ("Kiev", "Europe/Kyiv"),
        ("asia/kolkata", "Asia/Kolkata"),
        ("UTC", "UTC"),
        ("UTC+2", "Etc/GMT-2"),  # POSIX names count the other way round
        ("gmt-5", "Etc/GMT+5"),
        ("UTC −3", "Etc/GMT+3"),
    ],
)
def test_typed_names_cities_and_offsets(typed: str, zone: str) -> None:
    assert parse_zone(typed) == zone


@pytest.mark.parametrize("typed", ["", "   ", "Atlantis", "UTC+15", "x" * 200, "Europe/"])
def test_what_is_not_a_zone(typed: str) -> None:
    assert parse_zone(typed) is None


def test_suggestions_for_typos() -> None:
    assert "Berlin" in suggestions("Berln")
    assert suggestions("qqqqqq") == [] and suggestions("") == []


def test_every_table_zone_exists_and_choices_run_west_to_east() -> None:
    assert {c.zone for c in CITIES} <= all_zones() and {c.zone for c in CHOICES} <= all_zones()
    winter = datetime(2026, 1, 15, tzinfo=timezone.utc)
    offsets = [winter.astimezone(ZoneInfo(c.zone)).utcoffset() for c in CHOICES if c.zone != "UTC"]
    assert offsets == sorted(offsets)
    assert choice_label(CHOICES[6], winter) == "Berlin · UTC+01:00"
    assert offset_label("Asia/Kolkata", winter) == "UTC+05:30"
    assert offset_label("America/New_York", winter) == "UTC−05:00"


@pytest.mark.parametrize(
    ("lat", "lon", "zone"),
    [
        (48.2, 11.6, "Europe/Berlin"),  # near Munich
        (40.7, -73.9, "America/New_York"),
        (-33.8, 151.0, "Australia/Sydney"),
        (35.0, 135.8, "Asia/Tokyo"),  # Kyoto: Osaka is nearest
        (19.0, 72.8, "Asia/Kolkata"),
    ],
)
def test_a_location_gets_the_nearest_citys_zone(lat: float, lon: float, zone: str) -> None:
    assert nearest_zone(lat, lon) == zone


def test_a_location_off_the_globe_is_refused() -> None:
    with pytest.raises(ValueError):
        nearest_zone(91, 0)


def test_zone_of_settings_defaults_to_utc() -> None:
    assert zone_name({}) == "UTC" and zone_name({"timezone": "Mars/Olympus"}) == "UTC"
    assert zone_of({"timezone": "Europe/Berlin"}) == BERLIN


def test_local_days_across_dst() -> None:
    # Berlin springs forward on Sunday 29 March 2026: that day starts at 23:00 UTC the evening before (CET),
    # the next at 22:00 UTC (CEST).
    assert local_day_start(date(2026, 3, 29), BERLIN) == datetime(2026, 3, 28, 23, tzinfo=timezone.utc)
    assert local_day_start(date(2026, 3, 30), BERLIN) == datetime(2026, 3, 29, 22, tzinfo=timezone.utc)
    # "The last 7 days" at 00:30 Berlin time on 1 April includes today and the six days before it.
    now = datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc)
    assert days_ago_start(now, BERLIN, 7) == datetime(2026, 3, 25, 23, tzinfo=timezone.utc)

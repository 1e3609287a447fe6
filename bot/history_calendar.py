"""/history's days: check-ins bucketed by local day, streaks, weekday leanings, and a calendar picture.

Everything here is pure: the caller passes the person's zone and "now", so tests need no clock and days are
counted where the person lives (a check-in at 23:30 in Berlin belongs to that Berlin day, DST or not).
Rendering is CPU work: call ``render_calendar`` through ``asyncio.to_thread``, never on the event loop.
"""

from __future__ import annotations

import calendar
import io
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bot.history_chart import COLOURS, OTHER_COLOUR, RENDER_LOCK
from catalog import EMOTIONS

#: A day without a check-in, and the cells outside the month (which are drawn blank).
EMPTY_COLOUR = "#ececec"
BLANK_COLOUR = "#ffffff"
#: A weekday needs at least this many check-ins before we say which way it leans (one Monday says nothing).
MIN_WEEKDAY_CHECKINS = 2
#: ... and one emotion must make up at least this share of them for the weekday to lean its way.
MIN_LEAN_SHARE = 0.5
#: Inches: one month grid, and the narrowest picture (so the title and legend fit beside a single month).
PANEL_WIDTH = 2.8
MIN_WIDTH = 5.6
#: The most weeks a month touches (Monday first): every grid gets this many rows.
MAX_WEEKS = 6
#: "all" shows this many months, one row each, ending with the current one ("year in pixels").
YEAR_MONTHS = 12


def local_day(at: datetime, zone: ZoneInfo) -> date:
    """The calendar day ``at`` (an aware time) falls on in ``zone``."""
    return at.astimezone(zone).date()


def day_buckets(moments: Iterable[tuple[datetime, str]], zone: ZoneInfo) -> dict[date, list[str]]:
    """(time, emotion) pairs grouped by their local day, each day's emotions in the order given."""
    buckets: dict[date, list[str]] = defaultdict(list)
    for at, emotion in moments:
        buckets[local_day(at, zone)].append(emotion)
    return dict(buckets)


def most_common(emotions: Sequence[str]) -> str:
    """The most frequent emotion; a tie goes to the one said last (the latest word on the day counts)."""
    counts = Counter(emotions)
    best = max(counts.values())
    return next(e for e in reversed(emotions) if counts[e] == best)


def dominant_by_day(buckets: Mapping[date, Sequence[str]]) -> dict[date, str]:
    """Each day's dominant emotion."""
    return {day: most_common(emotions) for day, emotions in buckets.items() if emotions}


@dataclass(frozen=True)
class Streaks:
    """Days in a row with at least one check-in: the run going on now, and the longest ever."""

    current: int
    longest: int


def streaks(days: Iterable[date], today: date) -> Streaks:
    """The current streak counts up to today, or up to yesterday while today has no check-in yet (not broken yet)."""
    present = set(days)
    longest = run = 0
    previous: date | None = None
    for day in sorted(present):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest, previous = max(longest, run), day
    end = today if today in present else today - timedelta(days=1)
    current = 0
    while end - timedelta(days=current) in present:
        current += 1
    return Streaks(current=current, longest=longest)


def weekday_leanings(moments: Iterable[tuple[datetime, str]], zone: ZoneInfo) -> list[tuple[int, str | None]]:
    """(weekday 0 = Monday, the emotion it leans to) for each weekday with enough check-ins, Monday first.

    A weekday leans to an emotion that makes up at least MIN_LEAN_SHARE of its check-ins; None when none does
    (a weekday of mixed days says nothing about that weekday).
    """
    by_weekday: dict[int, list[str]] = defaultdict(list)
    for at, emotion in moments:
        by_weekday[local_day(at, zone).weekday()].append(emotion)
    return [
        (weekday, _leaning(emotions))
        for weekday, emotions in sorted(by_weekday.items())
        if len(emotions) >= MIN_WEEKDAY_CHECKINS
    ]


def _leaning(emotions: Sequence[str]) -> str | None:
    """The most frequent emotion when it is at least MIN_LEAN_SHARE of them and no other is as frequent."""
    counts = Counter(emotions).most_common()
    (top, n), rest = counts[0], counts[1:]
    if n < MIN_LEAN_SHARE * len(emotions) or (rest and rest[0][1] == n):
        return None
    return top


def months_between(first: date, last: date) -> list[tuple[int, int]]:
    """(year, month) of every month from ``first``'s to ``last``'s, oldest first."""
    out, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def last_months(today: date, count: int = YEAR_MONTHS) -> list[tuple[int, int]]:
    """The ``count`` months ending with ``today``'s, oldest first."""
    index = today.year * 12 + today.month - 1 - (count - 1)
    return [((index + i) // 12, (index + i) % 12 + 1) for i in range(count)]


def year_start(today: date) -> date:
    """The first day the year in pixels shows: the 1st of the oldest of its months."""
    year, month = last_months(today)[0]
    return date(year, month, 1)


@dataclass(frozen=True)
class CalendarLabels:
    """The words drawn on the picture, in the person's language (from dialogs/history.yaml)."""

    title: str
    months: Sequence[str]  # 12 full names, January first
    months_short: Sequence[str]  # 12 short names
    weekdays_short: Sequence[str]  # 7, Monday first
    emotions: Mapping[str, str]  # emotion -> legend name (for every emotion that may appear)
    other: str  # legend name of a day whose emotion is not one of the seven
    no_checkin: str


def plain(label: str) -> str:
    """A display label without its emoji ("😢 Sad" -> "Sad"): the picture's font has no emoji glyphs."""
    kept = "".join(ch for ch in label if unicodedata.category(ch) not in ("So", "Sk", "Mn", "Cf"))
    return " ".join(kept.split())


def colour(emotion: str | None) -> str:
    """A day's colour: its emotion's, neutral grey for an emotion we have no colour for, pale for no check-in."""
    if emotion is None:
        return EMPTY_COLOUR
    return COLOURS.get(emotion, OTHER_COLOUR)


def render_calendar(
    days: Mapping[date, str], first: date, last: date, labels: CalendarLabels, *, year_view: bool
) -> bytes:
    """A PNG of the days from ``first`` to ``last``: month grids side by side (weeks × weekdays), or with
    ``year_view`` one row of days for each of the ``YEAR_MONTHS`` months ending with ``last``'s ("year in pixels").

    Days outside ``first``..``last`` (before the period, or still to come) are left blank, not "no check-in".
    """
    if last < first:
        raise ValueError("nothing to draw: the period ends before it starts")
    with RENDER_LOCK:
        if year_view:
            figure = Figure(figsize=(8, 4.2), dpi=100, layout="constrained")
            _year_pixels(figure.add_subplot(), days, first, last, labels)
        else:
            months = months_between(first, last)
            width = max(MIN_WIDTH, PANEL_WIDTH * len(months) + 0.4)
            figure = Figure(figsize=(width, 3.8), dpi=100, layout="constrained")
            for i, (year, month) in enumerate(months):
                _month_grid(figure.add_subplot(1, len(months), i + 1), days, first, last, year, month, labels)
        FigureCanvasAgg(figure)
        figure.suptitle(labels.title, fontsize=11)
        _legend(figure, days, labels)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _cell(day: date | None, days: Mapping[date, str], first: date, last: date) -> tuple[float, float, float]:
    """A square's colour: blank outside the month or the period, else the day's colour."""
    if day is None or not first <= day <= last:
        return to_rgb(BLANK_COLOUR)
    return to_rgb(colour(days.get(day)))


def _month_grid(
    ax: Axes, days: Mapping[date, str], first: date, last: date, year: int, month: int, labels: CalendarLabels
) -> None:
    weeks: list[list[date | None]] = [
        [d if d.month == month else None for d in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    weeks += [[None] * 7] * (MAX_WEEKS - len(weeks))  # every month six rows high, so the grids line up
    ax.imshow([[_cell(d, days, first, last) for d in week] for week in weeks], aspect="equal", interpolation="nearest")
    for row, week in enumerate(weeks):
        for col, day in enumerate(week):
            if day is not None:
                strong = first <= day <= last and days.get(day) in COLOURS and days.get(day) != "neutral"
                ink = "white" if strong else "#555555" if first <= day <= last else "#bbbbbb"
                ax.text(col, row, str(day.day), ha="center", va="center", fontsize=7, color=ink)
    ax.set_xticks(range(7), list(labels.weekdays_short), fontsize=7)
    ax.set_yticks([])
    ax.tick_params(length=0)
    ax.set_title(f"{labels.months[month - 1]} {year}", fontsize=10)
    _no_frame(ax)


def _year_pixels(ax: Axes, days: Mapping[date, str], first: date, last: date, labels: CalendarLabels) -> None:
    months = last_months(last)
    cells = []
    for year, month in months:
        length = calendar.monthrange(year, month)[1]
        row = [date(year, month, d) if d <= length else None for d in range(1, 32)]
        cells.append([_cell(d, days, first, last) for d in row])
    ax.imshow(cells, aspect="equal", interpolation="nearest")
    ax.set_xticks([0, 4, 9, 14, 19, 24, 30], ["1", "5", "10", "15", "20", "25", "31"], fontsize=7)
    ax.set_yticks(range(len(months)), [f"{labels.months_short[m - 1]} {y}" for y, m in months], fontsize=7)
    ax.tick_params(length=0)
    # Thin white lines between the squares, so single days stay countable.
    ax.set_xticks([x - 0.5 for x in range(1, 31)], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(months))], minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)
    _no_frame(ax)


def _no_frame(ax: Axes) -> None:
    for spine in ax.spines.values():
        spine.set_visible(False)


def _legend(figure: Figure, days: Mapping[date, str], labels: CalendarLabels) -> None:
    shown = set(days.values())
    handles = [Patch(color=COLOURS[e], label=labels.emotions.get(e, e)) for e in EMOTIONS if e in shown]
    if any(e not in COLOURS for e in shown):
        handles.append(Patch(color=OTHER_COLOUR, label=labels.other))
    handles.append(Patch(color=EMPTY_COLOUR, label=labels.no_checkin))
    figure.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), frameon=False, fontsize=8)

"""/history's words and picture: dominant expressions, a trend in words, and a PNG chart of mood over time.

Rendering is CPU work: call ``render_chart`` through ``asyncio.to_thread``, never on the event loop.
Uses matplotlib's object API with the Agg canvas (no pyplot, no global figure state).
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

import matplotlib

matplotlib.use("Agg")  # before anything else touches a backend: the bot has no display

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.dates import AutoDateLocator, num2date  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from catalog import EMOTIONS  # noqa: E402
from storage import CheckIn  # noqa: E402

#: How bright (+1) or low (-1) each expression reads, for the mood line.
VALENCE: dict[str, float] = {
    "happy": 1.0,
    "surprise": 0.3,
    "neutral": 0.0,
    "disgust": -0.6,
    "angry": -0.8,
    "fear": -0.8,
    "sad": -1.0,
}
POSITIVE = frozenset({"happy"})
NEGATIVE = frozenset({"sad", "fear", "angry", "disgust"})
#: Fewer check-ins than this give no trend sentence (halves of one or two say nothing).
MIN_FOR_TREND = 4
#: Time axes spanning up to SHORT_SPAN read as clock times, up to LONG_SPAN as days, beyond as months.
SHORT_SPAN = timedelta(days=2)
LONG_SPAN = timedelta(days=300)
#: A change in (positive share - negative share) between the halves at least this big counts as a trend.
TREND_STEP = 0.2

COLOURS = {
    "happy": "#f2b705",
    "surprise": "#f28705",
    "neutral": "#8c8c8c",
    "disgust": "#6a994e",
    "angry": "#d62828",
    "fear": "#7b2cbf",
    "sad": "#1d4e89",
}
#: An emotion without a colour of its own (a self-reported "mixed"): neutral grey.
OTHER_COLOUR = "#b0b0b0"

# Matplotlib's text layout and font cache are shared state; one chart at a time is plenty for a bot.
RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class MoodPoint:
    """One check-in on the chart: when, its effective emotion, and its brightness in [-1, 1]."""

    at: datetime
    emotion: str
    valence: float


def mood_point(at: datetime, emotion: str, probabilities: Sequence[float], corrected: bool) -> MoodPoint:
    """A check-in the person corrected or said themselves counts as fully that emotion; else the shares are weighted.

    An emotion with no valence (a self-reported "mixed") sits on the neutral line.
    """
    if corrected:
        valence = VALENCE.get(emotion, 0.0)
    else:
        valence = sum(VALENCE[e] * p for e, p in zip(EMOTIONS, probabilities, strict=True))
    return MoodPoint(at, emotion, max(-1.0, min(1.0, valence)))


def said_by_person(checkin: CheckIn) -> bool:
    """Whether the emotion is the person's word: a correction, or a quick check-in without a selfie."""
    # getattr: the "source" column arrives with quick check-ins (schema v4); older rows are all selfies.
    return checkin.corrected_emotion is not None or getattr(checkin, "source", "selfie") == "self"


def points_from_checkins(checkins: Iterable[CheckIn]) -> list[MoodPoint]:
    """MoodPoints from storage check-ins, oldest first."""
    points = [mood_point(c.at, c.effective_emotion, c.probabilities, said_by_person(c)) for c in checkins]
    return sorted(points, key=lambda p: p.at)


def running_average(values: Sequence[float], window: int = 3) -> list[float]:
    """The mean of each value and up to ``window - 1`` before it."""
    out = []
    for i in range(len(values)):
        chunk = values[max(0, i - window + 1) : i + 1]
        out.append(sum(chunk) / len(chunk))
    return out


def dominant(points: Sequence[MoodPoint], k: int = 3) -> list[tuple[str, int]]:
    """The k most frequent emotions with their counts (ties in EMOTIONS order)."""
    counts = Counter(p.emotion for p in points)
    return sorted(counts.items(), key=lambda kv: (-kv[1], emotion_rank(kv[0]), kv[0]))[:k]


def emotion_rank(emotion: str) -> int:
    """Tie order: the seven in EMOTIONS order, anything else (a self-reported "mixed") after them."""
    return EMOTIONS.index(emotion) if emotion in EMOTIONS else len(EMOTIONS)


def _shares(points: Sequence[MoodPoint]) -> tuple[float, float]:
    n = len(points) or 1
    return sum(p.emotion in POSITIVE for p in points) / n, sum(p.emotion in NEGATIVE for p in points) / n


@dataclass(frozen=True)
class Trend:
    """The first and second half of a period compared: which way it went, and the shares behind it."""

    direction: str  # one of TREND_DIRECTIONS (dialogs/keys.py): the words are in dialogs/history.yaml
    positive_before: float
    positive_after: float
    negative_before: float
    negative_after: float


def trend(points: Sequence[MoodPoint]) -> Trend | None:
    """Positive vs negative expressions in the first and second half of the period; None with too few points."""
    if len(points) < MIN_FOR_TREND:
        return None
    ordered = sorted(points, key=lambda p: p.at)
    half = len(ordered) // 2
    pos1, neg1 = _shares(ordered[:half])
    pos2, neg2 = _shares(ordered[half:])
    change = (pos2 - neg2) - (pos1 - neg1)
    direction = "brighter" if change >= TREND_STEP else "lower" if change <= -TREND_STEP else "steady"
    return Trend(direction, pos1, pos2, neg1, neg2)


@dataclass(frozen=True)
class ChartLabels:
    """The words drawn on the chart, in the person's language (dialogs/history.yaml and names.yaml)."""

    title: str
    scale: tuple[str, str, str]  # the low, neutral and bright ends of the mood axis
    time_axis: str
    average: str
    emotions: Mapping[str, str]  # emotion -> its name in the legend
    months_short: Sequence[str]  # 12, January first: dates are written from these, never the system locale


def date_formatter(zone: tzinfo, months_short: Sequence[str], span: timedelta) -> FuncFormatter:
    """Tick labels in the person's zone and language: times within a day or two, else "5 Mar" (or "Mar 2026")."""

    def label(value: float, _position: int | None = None) -> str:
        at = num2date(value, tz=zone)
        if span <= SHORT_SPAN:
            return at.strftime("%H:%M")  # digits only: no locale words
        if span <= LONG_SPAN:
            return f"{at.day} {months_short[at.month - 1]}"
        return f"{months_short[at.month - 1]} {at.year}"

    return FuncFormatter(label)


def render_chart(points: Sequence[MoodPoint], labels: ChartLabels, zone: tzinfo = timezone.utc) -> bytes:
    """A PNG of mood over time: one dot per check-in coloured by emotion, and a running average line.

    The time axis reads in ``zone`` (the person's), so a check-in at 08:00 their time shows at 08:00.
    """
    if not points:
        raise ValueError("nothing to draw")
    with RENDER_LOCK:
        figure = Figure(figsize=(8, 4), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        times = [p.at for p in points]
        values = [p.valence for p in points]
        ax.axhline(0.0, color="#cccccc", linewidth=1, zorder=1)
        if len(points) > 1:
            average = running_average(values)
            ax.plot(times, average, color="#444444", linewidth=1.5, zorder=2, label=labels.average)
        for emotion in sorted({p.emotion for p in points}, key=emotion_rank):
            mine = [p for p in points if p.emotion == emotion]
            xs, ys = [p.at for p in mine], [p.valence for p in mine]
            name = labels.emotions.get(emotion, emotion)
            ax.scatter(xs, ys, s=40, color=COLOURS.get(emotion, OTHER_COLOUR), zorder=3, label=name)
        if min(times) == max(times):  # one moment: give the axis some width instead of a zero-length range
            ax.set_xlim(times[0] - timedelta(hours=1), times[0] + timedelta(hours=1))
        ax.set_ylim(-1.15, 1.15)
        ax.set_yticks([-1.0, 0.0, 1.0], list(labels.scale))
        ax.xaxis.set_major_locator(AutoDateLocator(tz=zone))
        ax.xaxis.set_major_formatter(date_formatter(zone, labels.months_short, max(times) - min(times)))
        ax.set_title(labels.title)
        ax.set_xlabel(labels.time_axis)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")
        ax.grid(axis="x", color="#eeeeee")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()

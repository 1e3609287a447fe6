"""Data model of the recommendation catalog: one immutable `Item` per movie, song, book or activity."""

from __future__ import annotations

from dataclasses import dataclass

#: The seven expression classes, in the model's fixed output order.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: What a person may answer to "how do you feel?" without a selfie: the seven, or "mixed" (never a reading).
MIXED = "mixed"
MOODS: tuple[str, ...] = (*EMOTIONS, MIXED)

#: Kinds of recommendation; one YAML file each (``<kind>.yaml``).
KINDS: tuple[str, ...] = ("movies", "songs", "books", "activities")

#: What an item does for a mood: lift it, calm it, give energy, or meet it as it is ("match").
INTENTS: tuple[str, ...] = ("lift", "soothe", "energise", "match")

#: Every item id starts with the prefix of its kind, e.g. ``movie-paddington-2``.
ID_PREFIXES: dict[str, str] = {"movies": "movie", "songs": "song", "books": "book", "activities": "activity"}


@dataclass(frozen=True)
class Item:
    """One recommendation: a movie, song, book or activity."""

    id: str
    kind: str
    title: str
    creator: str | None
    year: int | None
    why: str
    emotions: tuple[str, ...]
    intents: tuple[str, ...]
    link: str | None = None
    minutes: int | None = None
    support: bool = False
    #: Could hurt a low mood (suicide, abuse, war, grief at its rawest): never offered for sad or fear outside
    #: the supportive flow, however well it is meant (catalog.recommender).
    heavy: bool = False
    #: Explicit lyrics (songs): said in the item's text before anyone presses play.
    explicit: bool = False

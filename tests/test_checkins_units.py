"""Quick check-ins and notes, piece by piece: button data, the pending note, the catalog for "mixed"."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from bot.callback_data import Action, ButtonCodec, ButtonData
from catalog import EMOTIONS, MIXED, MOODS, load_catalog, recommend

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_action_letters_are_all_different() -> None:
    # A str Enum silently makes a repeated value an alias of the first member: two features, one letter.
    assert len({a.value for a in Action.__members__.values()}) == len(Action.__members__)


@pytest.mark.parametrize(
    "data",
    [
        ButtonData(Action.MOOD_MENU),
        *(ButtonData(Action.MOOD, emotion=m) for m in MOODS),
        ButtonData(Action.CONSENT_MOOD, issued=29_000_000, emotion=MIXED),
        ButtonData(Action.NOTE, checkin=36**13 - 1),
    ],
    ids=lambda d: f"{d.action.name}-{d.emotion}",
)
def test_new_buttons_round_trip(data: ButtonData) -> None:
    codec = ButtonCodec(b"k" * 32)
    assert codec.decode(7, codec.encode(7, data)) == data


def test_the_seven_emotions_keep_their_wire_indexes() -> None:
    # Buttons already sent (a correction) must keep meaning the same emotion after "mixed" was added.
    assert MOODS[: len(EMOTIONS)] == EMOTIONS and MOODS[-1] == MIXED


def test_mixed_draws_from_the_neutral_pool() -> None:
    catalog = load_catalog()
    for kind in ("movies", "songs", "books", "activities"):
        picks = recommend(catalog, kind, MIXED, seen=[], feedback={}, rng=random.Random(1))
        assert picks and all("neutral" in item.emotions for item in picks)

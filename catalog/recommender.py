"""Pick a few catalog items for a kind and an emotion: a pure function of the catalog and the person's history.

Rules, in order:

* The pool is the items of the kind whose ``emotions`` include the emotion. Items the person disliked (feedback
  ``-1``) are never in it. Items tagged ``support`` are reserved for supportive mode, and so, for a low mood (sad,
  fear, or a self-reported "mixed"), are items tagged ``heavy``: gentle by default.
* Nothing is repeated until the whole pool has been shown (a "cycle"); then the pool starts over. ``seen`` is read
  oldest -> newest, so cycles are tracked across calls; on a restart the most recently shown items are avoided
  when there are enough others.
* Each item gets a score: similarity to liked items minus similarity to disliked ones (shared intents and
  emotions, same creator), plus, in supportive mode, a bonus for ``soothe`` and ``support`` items. A random
  jitter from ``rng`` adds variety, so the result is deterministic for a seeded ``rng``.
* Picks avoid two items by the same creator in one answer when the scores are close, and support items get
  less of a boost for each one already picked, so supportive answers mix support steps with other soothing ideas.
* If the pool is smaller than the answer, the rest is filled from other items of the kind.
* After a happy reading a support item (a helpline, "talk to someone") never comes first: it stays on offer
  without greeting a smile with a crisis line.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Collection, Iterable, Mapping, Sequence

from catalog.loader import Catalog
from catalog.models import KINDS, MIXED, MOODS, Item

log = logging.getLogger(__name__)

MIN_COUNT = 3
MAX_COUNT = 5

INTENT_WEIGHT = 1.0
EMOTION_WEIGHT = 0.25
CREATOR_WEIGHT = 2.0
CROSS_KIND_FACTOR = 0.5
DISLIKE_WEIGHT = 1.0
SOOTHE_BONUS = 2.0
SUPPORT_BONUS = 3.0
SUPPORTIVE_MATCH_PENALTY = 1.0
SAME_CREATOR_PENALTY = 0.75
SUPPORT_REPEAT_PENALTY = 2.0
JITTER = 1.0
#: The catalog tags items with the seven emotions only; a self-reported "mixed" day draws from the even-keeled
#: neutral pool, which holds no item that presses one way (no heavy, no high-energy-only picks).
POOL_OF: dict[str, str] = {MIXED: "neutral"}
#: Moods for which ``heavy`` items wait for the supportive flow (a mixed day may be a low one too).
GENTLE_FOR: frozenset[str] = frozenset({"sad", "fear", MIXED})
#: Moods after which a ``support`` item is never the first pick.
SUPPORT_NOT_FIRST: frozenset[str] = frozenset({"happy"})

__all__ = ["KINDS", "MAX_COUNT", "MIN_COUNT", "recommend", "score_items"]


def recommend(
    catalog: Catalog,
    kind: str,
    emotion: str,
    *,
    seen: Collection[str],
    feedback: Mapping[str, int],
    count: int = 4,
    supportive: bool = False,
    rng: random.Random | None = None,
) -> list[Item]:
    """Return 3-5 items of `kind` for `emotion`, fresh first, shaped by feedback (see module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    if emotion not in MOODS:
        raise ValueError(f"unknown emotion {emotion!r} (expected one of {', '.join(MOODS)})")
    gentle = emotion in GENTLE_FOR and not supportive
    support_not_first = emotion in SUPPORT_NOT_FIRST
    emotion = POOL_OF.get(emotion, emotion)
    count = max(MIN_COUNT, min(MAX_COUNT, int(count)))
    rng = rng if rng is not None else random.Random()

    disliked = {item_id for item_id, vote in feedback.items() if vote < 0}
    eligible = [
        it
        for it in catalog.by_kind(kind)
        if it.id not in disliked and (supportive or not it.support) and not (gentle and it.heavy)
    ]
    pool = [it for it in eligible if emotion in it.emotions]

    scores = score_items(catalog, eligible, feedback, supportive=supportive)
    # One draw per eligible item in catalog order, so a seeded rng gives the same answer whatever `seen` is.
    keys = {it.id: scores[it.id] + JITTER * rng.random() for it in eligible}

    history = list(seen)
    pool_ids = [it.id for it in pool]
    shown_this_cycle = _current_cycle(pool_ids, history)
    fresh = [it for it in pool if it.id not in shown_this_cycle]
    picks = _pick(fresh, count, keys, [])
    if len(picks) < count and pool:
        # The pool is used up: start over, avoiding the most recently shown items when there are enough others.
        recent = _most_recent(pool_ids, history, count)
        log.debug("pool for %s/%s exhausted; starting over", kind, emotion)
        again = [it for it in pool if it not in picks and it.id not in recent]
        picks += _pick(again, count - len(picks), keys, picks)
        picks += _pick([it for it in pool if it not in picks], count - len(picks), keys, picks)
    if len(picks) < count:
        # Too few items for this emotion at all: fill from the rest of the kind, unseen ones first.
        seen_ids = set(history)
        others = [it for it in eligible if it not in picks and it not in pool]
        picks += _pick([it for it in others if it.id not in seen_ids], count - len(picks), keys, picks)
        picks += _pick([it for it in others if it not in picks], count - len(picks), keys, picks)
    if support_not_first:
        picks = _support_not_first(picks)
    return picks


def _support_not_first(picks: list[Item]) -> list[Item]:
    """The picks with the best non-support item moved to the front (unchanged when all are support items)."""
    lead = next((i for i, it in enumerate(picks) if not it.support), 0)
    return [picks[lead], *picks[:lead], *picks[lead + 1 :]]


def score_items(
    catalog: Catalog,
    items: Iterable[Item],
    feedback: Mapping[str, int],
    *,
    supportive: bool = False,
) -> dict[str, float]:
    """Return each item's preference score from feedback (and the supportive bonus), without randomness."""
    liked = list(_items(catalog, feedback, positive=True))
    disliked = list(_items(catalog, feedback, positive=False))
    scores: dict[str, float] = {}
    for item in items:
        score = 0.0
        if liked:
            score += sum(_similarity(item, other) for other in liked) / len(liked)
        if disliked:
            score -= DISLIKE_WEIGHT * sum(_similarity(item, other) for other in disliked) / len(disliked)
        if supportive:
            score += SUPPORT_BONUS * item.support + SOOTHE_BONUS * ("soothe" in item.intents)
            if item.intents == ("match",):
                score -= SUPPORTIVE_MATCH_PENALTY
        scores[item.id] = score
    return scores


def _items(catalog: Catalog, feedback: Mapping[str, int], *, positive: bool) -> Iterable[Item]:
    """Yield the catalog items with positive (or negative) feedback, skipping unknown ids."""
    for item_id, vote in feedback.items():
        if vote == 0 or (vote > 0) != positive:
            continue
        item = catalog.get(item_id)
        if item is not None:
            yield item


def _similarity(a: Item, b: Item) -> float:
    """Return how alike two items are: shared intents and emotions, same creator; halved across kinds."""
    score = INTENT_WEIGHT * len(set(a.intents) & set(b.intents))
    score += EMOTION_WEIGHT * len(set(a.emotions) & set(b.emotions))
    if a.creator and a.creator == b.creator:
        score += CREATOR_WEIGHT
    if a.kind != b.kind:
        score *= CROSS_KIND_FACTOR
    return score


def _current_cycle(pool_ids: Sequence[str], history: Sequence[str]) -> set[str]:
    """Return the pool ids shown since the pool was last fully used (history is oldest -> newest)."""
    pool = set(pool_ids)
    cycle: set[str] = set()
    for item_id in history:
        if item_id in pool:
            cycle.add(item_id)
            if len(cycle) == len(pool):
                cycle = set()
    return cycle


def _most_recent(pool_ids: Sequence[str], history: Sequence[str], count: int) -> set[str]:
    """Return up to `count` distinct pool ids shown most recently."""
    pool = set(pool_ids)
    recent: list[str] = []
    for item_id in reversed(history):
        if item_id in pool and item_id not in recent:
            recent.append(item_id)
            if len(recent) == count:
                break
    return set(recent)


def _pick(candidates: Sequence[Item], n: int, keys: Mapping[str, float], already: Sequence[Item]) -> list[Item]:
    """Greedily take the `n` best candidates, lowering items whose creator (or support tag) is already taken."""
    chosen: list[Item] = []
    left = list(candidates)
    while left and len(chosen) < n:
        taken = (*already, *chosen)
        creators = [it.creator for it in taken if it.creator]
        supports = sum(it.support for it in taken)

        def adjusted(item: Item, creators: list[str] = creators, supports: int = supports) -> float:
            repeats = creators.count(item.creator) if item.creator else 0
            return keys[item.id] - SAME_CREATOR_PENALTY * repeats - SUPPORT_REPEAT_PENALTY * supports * item.support

        best = max(left, key=adjusted)
        chosen.append(best)
        left.remove(best)
    return chosen

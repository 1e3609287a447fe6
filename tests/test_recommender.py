"""Tests for the pure recommender: rotation, feedback, supportive mode, determinism and bounds."""

from __future__ import annotations

import random
from types import MappingProxyType

import pytest

from catalog import EMOTIONS, KINDS, Catalog, Item, load_catalog, recommend


def song(item_id: str, creator: str, intents: tuple[str, ...], emotions: tuple[str, ...] = ("sad",)) -> Item:
    return Item(
        id=item_id,
        kind="songs",
        title=item_id,
        creator=creator,
        year=2000,
        why="Because.",
        emotions=emotions,
        intents=intents,
    )


def activity(item_id: str, intents: tuple[str, ...], support: bool = False) -> Item:
    return Item(
        id=item_id,
        kind="activities",
        title=item_id,
        creator=None,
        year=None,
        why="Because.",
        emotions=("sad",),
        intents=intents,
        minutes=2,
        support=support,
    )


def make_catalog(*items: Item) -> Catalog:
    return Catalog(items=MappingProxyType({it.id: it for it in items}))


# Ten sad songs in two groups: A (creator X, soothe) and B (creator Y, energise); plus non-sad songs.
GROUP_A = [song(f"song-a{i}", "X", ("soothe",)) for i in range(5)]
GROUP_B = [song(f"song-b{i}", "Y", ("energise",)) for i in range(5)]
OTHERS = [song(f"song-happy{i}", "Z", ("lift",), emotions=("happy",)) for i in range(4)]
LIKED_A = song("song-liked", "X", ("soothe",), emotions=("neutral",))
SMALL = make_catalog(*GROUP_A, *GROUP_B, *OTHERS, LIKED_A)
SAD_POOL = {it.id for it in GROUP_A + GROUP_B}


def ids(items: list[Item]) -> list[str]:
    return [it.id for it in items]


def test_returns_items_of_kind_and_emotion() -> None:
    picks = recommend(SMALL, "songs", "sad", seen=[], feedback={}, rng=random.Random(1))
    assert len(picks) == 4
    assert all(it.kind == "songs" and "sad" in it.emotions for it in picks)
    assert len(set(ids(picks))) == len(picks)


@pytest.mark.parametrize(("count", "expected"), [(0, 3), (1, 3), (3, 3), (4, 4), (5, 5), (50, 5)])
def test_count_is_clamped_to_3_to_5(count: int, expected: int) -> None:
    assert len(recommend(SMALL, "songs", "sad", seen=[], feedback={}, count=count, rng=random.Random(0))) == expected


def test_deterministic_given_rng() -> None:
    first = recommend(SMALL, "songs", "sad", seen=["song-a0"], feedback={"song-b1": 1}, rng=random.Random(42))
    again = recommend(SMALL, "songs", "sad", seen=["song-a0"], feedback={"song-b1": 1}, rng=random.Random(42))
    assert first == again
    spread = {
        tuple(ids(recommend(SMALL, "songs", "sad", seen=[], feedback={}, rng=random.Random(seed))))
        for seed in range(20)
    }
    assert len(spread) > 1  # the rng does add variety


def test_no_repeat_until_pool_exhausted_then_start_over() -> None:
    seen: list[str] = []
    batches = []
    for call in range(6):
        batch = ids(recommend(SMALL, "songs", "sad", seen=seen, feedback={}, count=4, rng=random.Random(call)))
        batches.append(batch)
        seen += batch
    # Calls 1-2 show 8 distinct items; call 3 shows the last 2 fresh ones first, then starts over.
    assert len(set(batches[0] + batches[1])) == 8
    assert set(batches[2][:2]) == SAD_POOL - set(batches[0] + batches[1])
    assert set(seen[:10]) == SAD_POOL
    # On restart, the items shown most recently (the last batch) are avoided.
    assert not set(batches[2][2:]) & set(batches[1])
    # The second cycle (from the restart on) again has no repeats until all 10 are shown.
    second_cycle = seen[10:20]
    assert len(set(second_cycle)) == 10
    for batch in batches:
        assert len(set(batch)) == len(batch)


def test_seen_may_be_an_unordered_set() -> None:
    seen = {"song-a0", "song-a1", "song-b0"}
    picks = recommend(SMALL, "songs", "sad", seen=seen, feedback={}, rng=random.Random(3))
    assert not set(ids(picks)) & seen


def test_disliked_item_is_never_shown_again() -> None:
    feedback = {"song-a2": -1, "song-b3": -1}
    seen: list[str] = []
    for call in range(12):
        picks = recommend(SMALL, "songs", "sad", seen=seen, feedback=feedback, count=5, rng=random.Random(call))
        assert not {"song-a2", "song-b3"} & set(ids(picks))
        seen += ids(picks)


def test_pool_of_everything_disliked_falls_back_to_other_items_of_the_kind() -> None:
    feedback = {item_id: -1 for item_id in SAD_POOL}
    picks = recommend(SMALL, "songs", "sad", seen=[], feedback=feedback, rng=random.Random(0))
    assert len(picks) == 4
    assert not set(ids(picks)) & SAD_POOL


def test_like_shifts_choices_towards_similar_items() -> None:
    def group_a_share(feedback: dict[str, int]) -> int:
        total = 0
        for seed in range(40):
            picks = recommend(SMALL, "songs", "sad", seen=[], feedback=feedback, count=3, rng=random.Random(seed))
            total += sum(it.creator == "X" for it in picks)
        return total

    neutral = group_a_share({})
    liked = group_a_share({"song-liked": 1})
    disliked = group_a_share({"song-liked": -1})
    assert liked > neutral > disliked
    # Liking an item by X that shares its intent puts X's songs first, whatever the seed.
    for seed in range(10):
        picks = recommend(SMALL, "songs", "sad", seen=[], feedback={"song-liked": 1}, count=3, rng=random.Random(seed))
        assert all(it.creator == "X" for it in picks)


def test_like_in_another_kind_still_counts_a_little() -> None:
    soothing_movie = Item(
        id="movie-calm",
        kind="movies",
        title="Calm",
        creator="Q",
        year=2001,
        why="Because.",
        emotions=("sad",),
        intents=("soothe",),
    )
    cat = make_catalog(*GROUP_A, *GROUP_B, soothing_movie)
    share = sum(
        sum(
            it.creator == "X"
            for it in recommend(
                cat, "songs", "sad", seen=[], feedback={"movie-calm": 1}, count=3, rng=random.Random(seed)
            )
        )
        for seed in range(40)
    )
    assert share > 60  # clearly more than the 50 % (60 of 120) expected without feedback


def test_supportive_mode_prefers_soothe_and_support_items() -> None:
    cat = make_catalog(
        activity("activity-talk", ("soothe",), support=True),
        activity("activity-ground", ("soothe",), support=True),
        activity("activity-breathe", ("soothe",)),
        *(activity(f"activity-run{i}", ("energise",)) for i in range(6)),
    )
    for seed in range(10):
        picks = ids(
            recommend(cat, "activities", "sad", seen=[], feedback={}, supportive=True, count=3, rng=random.Random(seed))
        )
        assert set(picks[:2]) == {"activity-talk", "activity-ground"}  # support first, then other soothing items
        assert set(picks) == {"activity-talk", "activity-ground", "activity-breathe"}
        normal = ids(recommend(cat, "activities", "sad", seen=[], feedback={}, count=5, rng=random.Random(seed)))
        assert not {"activity-talk", "activity-ground"} & set(normal)  # support items are for supportive mode only


def test_small_pool_is_topped_up_from_the_same_kind() -> None:
    cat = make_catalog(song("song-only", "X", ("soothe",), emotions=("fear",)), *GROUP_B)
    picks = recommend(cat, "songs", "fear", seen=[], feedback={}, count=4, rng=random.Random(0))
    assert ids(picks)[0] == "song-only"
    assert len(picks) == 4 and len(set(ids(picks))) == 4
    assert all(it.kind == "songs" for it in picks)


def test_unknown_feedback_ids_are_ignored() -> None:
    picks = recommend(SMALL, "songs", "sad", seen=["gone"], feedback={"gone": 1, "also-gone": -1}, rng=random.Random(0))
    assert len(picks) == 4


def test_unknown_kind_or_emotion_raises() -> None:
    with pytest.raises(ValueError, match="kind"):
        recommend(SMALL, "podcasts", "sad", seen=[], feedback={})
    with pytest.raises(ValueError, match="emotion"):
        recommend(SMALL, "songs", "joy", seen=[], feedback={})


def test_shipped_catalog_serves_every_kind_and_emotion() -> None:
    cat = load_catalog()
    rng = random.Random(7)
    for kind in KINDS:
        for emotion in EMOTIONS:
            for supportive in (False, True):
                picks = recommend(cat, kind, emotion, seen=[], feedback={}, supportive=supportive, rng=rng)
                assert 3 <= len(picks) <= 5
                assert all(it.kind == kind and emotion in it.emotions for it in picks)
                assert len({it.id for it in picks}) == len(picks)
    for seed in range(5):
        supportive = recommend(cat, "activities", "sad", seen=[], feedback={}, supportive=True, rng=random.Random(seed))
        assert supportive[0].support
        assert sum(it.support for it in supportive) == 2  # support steps mixed with other soothing ideas
        assert all("soothe" in it.intents for it in supportive)

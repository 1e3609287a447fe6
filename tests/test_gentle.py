"""Gentle by default: heavy items wait for the supportive flow on low days, explicit lyrics are marked, the help item
never greets a smile, and the support notice names the person's country's crisis line beside findahelpline.com."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from bot.replies import item_text
from bot.support_notice import support_notice
from catalog import KINDS, MIXED, CatalogError, load_catalog, recommend
from catalog.crisis_lines import CrisisLinesError, crisis_line_for, crisis_lines, load_crisis_lines
from catalog.loader import DEFAULT_FOLDER
from dialogs import load_dialogs

CATALOG = load_catalog()
DIALOGS = load_dialogs()
ROUNDS = 25  # enough answers to walk through every pool at least twice


def _answers(kind: str, emotion: str, *, supportive: bool, seed: int) -> list[list]:
    """Successive answers for one person (each remembered as seen), as the bot gives them over many days."""
    rng, seen, answers = random.Random(seed), [], []
    for _ in range(ROUNDS):
        picks = recommend(CATALOG, kind, emotion, seen=seen, feedback={}, supportive=supportive, rng=rng)
        seen += [it.id for it in picks]
        answers.append(picks)
    return answers


# -- heavy items ----------------------------------------------------------------------------------------------------


def test_the_catalog_marks_what_could_hurt_a_low_mood() -> None:
    heavy = {it.id for it in CATALOG.items.values() if it.heavy}
    # The example and its kin: suicide, abuse, the camps; a guard against the marks being dropped.
    assert {"book-reasons-to-stay-alive", "book-the-midnight-library", "book-mans-search-for-meaning",
            "movie-the-shawshank-redemption", "movie-good-will-hunting"} <= heavy  # fmt: skip
    assert not any(it.heavy for it in CATALOG.by_kind("activities"))


@pytest.mark.parametrize("emotion", ["sad", "fear", MIXED])
@pytest.mark.parametrize("kind", KINDS)
def test_no_heavy_item_is_offered_on_a_low_day_outside_the_supportive_flow(kind: str, emotion: str) -> None:
    for seed in range(3):
        shown = {it.id for picks in _answers(kind, emotion, supportive=False, seed=seed) for it in picks}
        assert not {i for i in shown if CATALOG.get(i).heavy}, (kind, emotion, seed)


def test_heavy_items_stay_available_where_they_help() -> None:
    # In the supportive flow a sad day may get the honest memoir; an angry one may get a prison drama.
    supportive = {it.id for picks in _answers("books", "sad", supportive=True, seed=1) for it in picks}
    assert "book-reasons-to-stay-alive" in supportive
    angry = {it.id for picks in _answers("movies", "angry", supportive=False, seed=1) for it in picks}
    assert "movie-the-shawshank-redemption" in angry


# -- explicit lyrics ------------------------------------------------------------------------------------------------


def test_explicit_lyrics_are_marked_in_the_item_text() -> None:
    explicit = [it for it in CATALOG.items.values() if it.explicit]
    assert {"song-killing-in-the-name", "song-you-oughta-know"} <= {it.id for it in explicit}
    assert all(it.kind == "songs" for it in explicit)
    mark = DIALOGS.text("followups.explicit")
    assert all(mark in item_text(DIALOGS, it, 1) for it in explicit)
    assert mark not in item_text(DIALOGS, CATALOG.get("song-here-comes-the-sun"), 1)


def test_the_loader_checks_the_new_flags(tmp_path: Path) -> None:
    for kind in KINDS:
        (tmp_path / f"{kind}.yaml").write_text((DEFAULT_FOLDER / f"{kind}.yaml").read_text(encoding="utf-8"))
    movies = yaml.safe_load((tmp_path / "movies.yaml").read_text())
    for flag, value, message in (("heavy", "yes", "must be true or false"), ("explicit", True, "only songs")):
        changed = [dict(movies[0], **{flag: value}), *movies[1:]]
        (tmp_path / "movies.yaml").write_text(yaml.safe_dump(changed, allow_unicode=True))
        with pytest.raises(CatalogError, match=message):
            load_catalog(tmp_path)


# -- the help item after a smile ------------------------------------------------------------------------------------


def test_the_help_item_never_tops_the_list_after_a_happy_reading() -> None:
    support_shown = 0
    for seed in range(40):
        for picks in _answers("activities", "happy", supportive=True, seed=seed)[:4]:
            assert not picks[0].support, [it.id for it in picks]
            support_shown += sum(it.support for it in picks)
    assert support_shown > 0, "support items are still offered, just not first"


# -- crisis lines ---------------------------------------------------------------------------------------------------


def test_the_crisis_line_table_is_sourced_and_consistent() -> None:
    lines = crisis_lines()
    assert len(lines) >= 10 and all(line.source.startswith("https://") for line in lines)
    assert len({line.country for line in lines}) == len(lines)


@pytest.mark.parametrize(
    ("settings", "country"),
    [
        ({"timezone": "Europe/Berlin"}, "DE"),
        ({"timezone": "America/Chicago", "language": "es"}, "US"),  # the zone wins over the language
        ({"timezone": "Asia/Calcutta"}, "IN"),  # an old alias
        ({"language": "uk"}, "UA"),  # a language of one country in the table
        ({"language": "es"}, None),  # Spain? Mexico? Argentina? Not implied.
        ({"timezone": "Asia/Tokyo"}, None),  # a country without an entry
        ({}, None),
    ],
)
def test_a_country_is_implied_only_by_zone_or_a_one_country_language(settings: dict, country: str | None) -> None:
    line = crisis_line_for(crisis_lines(), settings)
    assert (line.country if line else None) == country


def test_the_notice_names_the_line_and_keeps_findahelpline() -> None:
    berlin = support_notice(DIALOGS, {"timezone": "Europe/Berlin"})
    assert "findahelpline.com" in berlin and "0800 111 0 111" in berlin and "Germany" in berlin
    assert support_notice(DIALOGS, {}) == DIALOGS.text("support_notice")
    assert "findahelpline.com" in DIALOGS.text("support_notice")


def test_a_broken_table_is_refused(tmp_path: Path) -> None:
    good = yaml.safe_load((DEFAULT_FOLDER / "crisis_lines.yaml").read_text(encoding="utf-8"))
    for change, message in (
        (lambda t: t[0].update(source="http://example.org"), "https"),
        (lambda t: t[0].update(zones=["Mars/Olympus"]), "unknown time zone"),
        (lambda t: t[1].update(zones=t[0]["zones"]), "listed twice"),
        (lambda t: t[0].update(phone="1"), "unknown key"),
    ):
        table = yaml.safe_load(yaml.safe_dump(good))
        change(table)
        path = tmp_path / "lines.yaml"
        path.write_text(yaml.safe_dump(table))
        with pytest.raises(CrisisLinesError, match=message):
            load_crisis_lines(path)

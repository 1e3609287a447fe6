"""Tests for the curated catalog: shipped data quality, links and loader validation errors."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
import yaml

from catalog import EMOTIONS, INTENTS, KINDS, Catalog, CatalogError, Item, build_link, load_catalog

MIN_ITEMS_PER_KIND = 40
MIN_PER_EMOTION = 8
MIN_SOOTHE_OR_LIFT = 6
SEARCH_HOSTS = {"movies": "www.imdb.com", "songs": "www.youtube.com", "books": "openlibrary.org"}
SEARCH_PARAMS = {"movies": "q", "songs": "search_query", "books": "q"}
TRUSTED_ACTIVITY_HOSTS = {"findahelpline.com"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# --- shipped catalog ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_enough_items(catalog: Catalog, kind: str) -> None:
    assert len(catalog.by_kind(kind)) >= MIN_ITEMS_PER_KIND


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("emotion", EMOTIONS)
def test_every_emotion_is_covered_in_every_kind(catalog: Catalog, kind: str, emotion: str) -> None:
    pool = [it for it in catalog.by_kind(kind) if emotion in it.emotions and not it.support]
    assert len(pool) >= MIN_PER_EMOTION, f"{kind}/{emotion}: only {len(pool)} items"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("emotion", ["sad", "fear", "angry"])
def test_low_moods_have_enough_soothing_or_lifting_items(catalog: Catalog, kind: str, emotion: str) -> None:
    pool = [it for it in catalog.by_kind(kind) if emotion in it.emotions]
    helpful = [it for it in pool if {"soothe", "lift"} & set(it.intents)]
    assert len(helpful) >= MIN_SOOTHE_OR_LIFT
    assert sum("soothe" in it.intents for it in pool) >= 3


def test_support_activities_exist_for_low_moods(catalog: Catalog) -> None:
    support = [it for it in catalog.by_kind("activities") if it.support]
    assert len(support) >= 3
    for emotion in ("sad", "fear", "angry", "disgust"):
        assert sum(emotion in it.emotions for it in support) >= 2
    assert all("soothe" in it.intents for it in support)


def test_items_are_well_formed(catalog: Catalog) -> None:
    assert len(catalog) == sum(len(catalog.by_kind(k)) for k in KINDS)
    for item in catalog.items.values():
        assert item.kind in KINDS
        assert item.id.startswith({"movies": "movie-", "songs": "song-", "books": "book-"}.get(item.kind, "activity-"))
        assert item.title and item.why and "\n" not in item.why
        assert set(item.emotions) <= set(EMOTIONS) and set(item.intents) <= set(INTENTS)
        if item.kind == "activities":
            assert item.creator is None and item.year is None
            assert item.minutes is not None and 1 <= item.minutes <= 30
        else:
            assert item.creator and isinstance(item.year, int) and item.minutes is None
            assert not item.support


def test_titles_are_unique_within_a_kind(catalog: Catalog) -> None:
    for kind in KINDS:
        keys = [(it.title.lower(), it.creator) for it in catalog.by_kind(kind)]
        assert len(keys) == len(set(keys))


def test_every_link_is_https_and_built_from_the_title(catalog: Catalog) -> None:
    for item in catalog.items.values():
        if item.kind == "activities":
            if item.link is not None:
                parts = urlsplit(item.link)
                assert parts.scheme == "https" and parts.netloc in TRUSTED_ACTIVITY_HOSTS, item.id
            continue
        assert item.link is not None, item.id
        parts = urlsplit(item.link)
        assert parts.scheme == "https"
        assert parts.netloc == SEARCH_HOSTS[item.kind], item.id
        query = parse_qs(parts.query)[SEARCH_PARAMS[item.kind]][0]
        assert query.startswith(item.title), item.id  # a search for the title, never a guessed database id
        assert item.link == build_link(item.kind, item.title, item.creator, item.year)


def test_build_link_encodes_query() -> None:
    link = build_link("songs", "Don't Stop Me Now", "Queen", 1978)
    assert link == "https://www.youtube.com/results?search_query=" + quote_plus("Don't Stop Me Now Queen")
    assert build_link("movies", "Amélie", "Jean-Pierre Jeunet", 2001) == (
        "https://www.imdb.com/find/?q=Am%C3%A9lie+2001&s=tt"
    )
    assert build_link("activities", "Box breathing", None, None) is None


def test_catalog_is_read_only(catalog: Catalog) -> None:
    with pytest.raises(TypeError):
        catalog.items["x"] = catalog.get("movie-up")  # type: ignore[index]
    assert catalog.get("no-such-id") is None
    assert isinstance(catalog.get("movie-up"), Item)
    with pytest.raises(ValueError):
        catalog.by_kind("podcasts")


# --- loader errors -----------------------------------------------------------------------------------------------

VALID = {
    "movies": [
        {
            "id": "movie-a",
            "title": "A",
            "creator": "Dir",
            "year": 2000,
            "why": "Nice.",
            "emotions": ["sad"],
            "intents": ["lift"],
        },
    ],
    "songs": [
        {
            "id": "song-a",
            "title": "A",
            "creator": "Band",
            "year": 1999,
            "why": "Nice.",
            "emotions": ["happy"],
            "intents": ["energise"],
        },
    ],
    "books": [
        {
            "id": "book-a",
            "title": "A",
            "creator": "Author",
            "year": 1950,
            "why": "Nice.",
            "emotions": ["fear"],
            "intents": ["soothe"],
        },
    ],
    "activities": [
        {
            "id": "activity-a",
            "title": "Breathe",
            "minutes": 2,
            "why": "Calm.",
            "emotions": ["angry"],
            "intents": ["soothe"],
        },
    ],
}


def write_catalog(folder: Path, **overrides: list[dict]) -> Path:
    """Write the four catalog files (VALID, with per-kind overrides) into `folder`."""
    for kind in KINDS:
        items = overrides.get(kind, VALID[kind])
        (folder / f"{kind}.yaml").write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False))
    return folder


def with_changes(kind: str, **changes: object) -> list[dict]:
    """Return VALID[kind] with the first item changed (a value of ... deletes the key)."""
    item = dict(VALID[kind][0])
    for key, value in changes.items():
        if value is ...:
            item.pop(key)
        else:
            item[key] = value
    return [item]


def test_minimal_valid_catalog_loads(tmp_path: Path) -> None:
    cat = load_catalog(write_catalog(tmp_path))
    assert len(cat) == 4
    assert cat.get("movie-a").link == "https://www.imdb.com/find/?q=A+2000&s=tt"
    assert cat.get("activity-a").link is None and cat.get("activity-a").minutes == 2


def test_explicit_link_is_kept(tmp_path: Path) -> None:
    cat = load_catalog(write_catalog(tmp_path, activities=with_changes("activities", link="https://example.org/x")))
    assert cat.get("activity-a").link == "https://example.org/x"


@pytest.mark.parametrize(
    ("kind", "changes", "expected"),
    [
        ("movies", {"director": "X"}, "movies.yaml: item [0] (movie-a): director: unknown key"),
        ("movies", {"why": ...}, "movies.yaml: item [0] (movie-a): why: missing"),
        ("songs", {"creator": ...}, "songs.yaml: item [0] (song-a): creator: missing"),
        ("books", {"emotions": ["joy"]}, "books.yaml: item [0] (book-a): emotions: unknown emotion 'joy'"),
        ("books", {"emotions": []}, "books.yaml: item [0] (book-a): emotions: must be a non-empty list"),
        ("songs", {"intents": ["calm"]}, "songs.yaml: item [0] (song-a): intents: unknown intent 'calm'"),
        ("songs", {"intents": ["lift", "lift"]}, "songs.yaml: item [0] (song-a): intents: lists the same intent twice"),
        ("movies", {"year": "2000"}, "movies.yaml: item [0] (movie-a): year: must be an integer"),
        ("movies", {"year": 3000}, "movies.yaml: item [0] (movie-a): year: must be an integer"),
        (
            "movies",
            {"id": "film-a"},
            "movies.yaml: item [0] (film-a): id: must be a lowercase slug starting with 'movie-'",
        ),
        ("movies", {"id": "movie-A b"}, "movies.yaml: item [0] (movie-A b): id: must be a lowercase slug"),
        ("movies", {"title": ""}, "movies.yaml: item [0] (movie-a): title: must be a non-empty single-line string"),
        ("movies", {"minutes": 5}, "movies.yaml: item [0] (movie-a): minutes: only activities have minutes"),
        ("movies", {"link": "http://imdb.com/x"}, "movies.yaml: item [0] (movie-a): link: must be an https:// URL"),
        ("activities", {"minutes": ...}, "activities.yaml: item [0] (activity-a): minutes: missing"),
        ("activities", {"minutes": 0}, "activities.yaml: item [0] (activity-a): minutes: must be an integer"),
        ("activities", {"support": "yes"}, "activities.yaml: item [0] (activity-a): support: must be true or false"),
    ],
)
def test_invalid_item_names_file_item_and_key(tmp_path: Path, kind: str, changes: dict, expected: str) -> None:
    write_catalog(tmp_path, **{kind: with_changes(kind, **changes)})
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert str(info.value).startswith(expected)
    assert info.value.file == f"{kind}.yaml"
    assert info.value.index == 0


def test_error_names_the_item_index(tmp_path: Path) -> None:
    second = dict(VALID["songs"][0], id="song-b", emotions=["glum"])
    write_catalog(tmp_path, songs=[VALID["songs"][0], second])
    with pytest.raises(CatalogError, match=r"^songs\.yaml: item \[1\] \(song-b\): emotions: unknown emotion") as info:
        load_catalog(tmp_path)
    assert (info.value.index, info.value.item_id, info.value.key) == (1, "song-b", "emotions")


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    write_catalog(tmp_path, songs=[VALID["songs"][0], dict(VALID["songs"][0], title="Other")])
    expected = r"songs\.yaml: item \[1\] \(song-a\): id: already used \(first defined in songs\.yaml\)"
    with pytest.raises(CatalogError, match=expected):
        load_catalog(tmp_path)


def test_item_must_be_a_mapping(tmp_path: Path) -> None:
    write_catalog(tmp_path, books=["just a string"])
    with pytest.raises(CatalogError, match=r"^books\.yaml: item \[0\]: must be a mapping"):
        load_catalog(tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    write_catalog(tmp_path)
    (tmp_path / "books.yaml").unlink()
    with pytest.raises(CatalogError, match=r"^books\.yaml: file not found"):
        load_catalog(tmp_path)


def test_invalid_yaml(tmp_path: Path) -> None:
    write_catalog(tmp_path)
    (tmp_path / "songs.yaml").write_text("- id: song-a\n  title: [unclosed\n")
    with pytest.raises(CatalogError, match=r"^songs\.yaml: invalid YAML at line \d+"):
        load_catalog(tmp_path)


def test_top_level_must_be_a_list(tmp_path: Path) -> None:
    write_catalog(tmp_path)
    (tmp_path / "movies.yaml").write_text("items: []\n")
    with pytest.raises(CatalogError, match=r"^movies\.yaml: must be a non-empty list of items"):
        load_catalog(tmp_path)

"""dialogs.i18n and bot.languages: one dialog set per language, checked at start-up, English as the fallback."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import yaml

from bot.languages import language_choices, language_of, remember_telegram_language, set_language
from dialogs import TEXTS, DialogError, Shape, load_dialogs
from dialogs.i18n import ENGLISH, I18N, LANGUAGES, load_texts, supported
from dialogs.loader import DEFAULT_FOLDER
from storage import open_store

TEXTS_BY_LANGUAGE = load_texts()
TRANSLATIONS = [code for code in LANGUAGES if code != ENGLISH]


def test_at_least_two_languages_besides_english_with_native_names() -> None:
    assert len(TRANSLATIONS) >= 2
    assert LANGUAGES[ENGLISH] == "English" and LANGUAGES["es"] == "Español" and LANGUAGES["ru"] == "Русский"
    assert language_choices()[0] == (ENGLISH, "English")
    assert {code for code, _ in language_choices()} == set(LANGUAGES)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("es", "es"), ("es-MX", "es"), ("ES_es", "es"), ("ru-RU", "ru"), ("en-GB", "en"), ("pt-BR", None), ("", None)],
)
def test_telegram_language_codes(code: str, expected: str | None) -> None:
    assert supported(code) == expected


def test_the_setting_wins_over_telegram_and_english_is_the_default() -> None:
    assert language_of({}, "es-AR") == "es"
    assert language_of({"language": "ru"}, "es-AR") == "ru"
    assert language_of({"language": "xx"}, "es-AR") == "es"  # a stale setting does not silence the person
    assert language_of({}, None) == language_of({}, "ja") == ENGLISH


async def test_set_language_stores_the_choice_and_refuses_others(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "db.sqlite")
    try:
        assert await set_language(store, 7, "es-MX") == "es"
        assert (await store.settings(7))["language"] == "es"
        with pytest.raises(ValueError):
            await set_language(store, 7, "klingon")
        assert (await store.settings(7))["language"] == "es"
        assert await set_language(store, 7, None) is None
        assert "language" not in await store.settings(7)
    finally:
        await store.close()


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_each_language_answers_in_its_own_words(code: str) -> None:
    dialogs, english = TEXTS_BY_LANGUAGE.for_language(code), TEXTS_BY_LANGUAGE.english
    for key in ("welcome", "help", "consent.ask", "history.streaks", "followups.after_items", "reading.single"):
        assert dialogs.variants(key) != english.variants(key), f"{code}: {key} is still English"
    for emotion in english.emotions:
        assert dialogs.offer(emotion) != english.offer(emotion), f"{code}: {emotion} offer is still English"
        assert [b.offer for b in dialogs.buttons(emotion)] == [b.offer for b in english.buttons(emotion)]
    assert TEXTS_BY_LANGUAGE.for_language(f"{code}-XX") is dialogs
    assert TEXTS_BY_LANGUAGE.for_language("ja") is english


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_placeholders_match_english_per_language(code: str) -> None:
    """A translation uses exactly the fields its English text uses: none the code never passes (the loader's
    check), and none dropped either, so a count, a share or a title is never lost in translation."""
    dialogs, english = TEXTS_BY_LANGUAGE.for_language(code), TEXTS_BY_LANGUAGE.english
    for key, spec in TEXTS.items():
        if spec.shape is Shape.BUTTONS:
            continue
        assert dialogs.placeholders(key) == english.placeholders(key), f"{code}: {key}"


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_shipped_translations_have_no_dead_keys(code: str) -> None:
    assert TEXTS_BY_LANGUAGE.for_language(code).unused == ()


def _copy(tmp_path: Path) -> Path:
    """The shipped dialogs (English and translations) in a folder a test may break."""
    folder = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_FOLDER, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


def _edit(path: Path, change) -> None:  # noqa: ANN001
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_a_missing_key_falls_back_to_english_and_is_reported_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _copy(tmp_path)
    _edit(folder / I18N / "es" / "common.yaml", lambda data: data.pop("welcome"))
    _edit(folder / I18N / "ru" / "history.yaml", lambda data: data["months"].pop("mar"))
    with caplog.at_level(logging.WARNING, logger="dialogs"):
        texts = load_texts(folder)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        w.endswith("i18n/es/common.yaml: welcome: missing, the fallback (English) text is used") for w in warnings
    )
    assert any("i18n/ru/history.yaml: months.mar: missing" in w for w in warnings)
    spanish = texts.for_language("es")
    assert spanish.text("welcome") == texts.english.text("welcome")
    assert [entry for entry in spanish.fell_back if entry.startswith("common.yaml")] == ["common.yaml: welcome"]
    assert texts.for_language("ru").text("history.months.mar") == "March"
    assert spanish.text("no_face") != texts.english.text("no_face")  # only the missing key is English


def test_a_missing_translation_file_falls_back_key_by_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = _copy(tmp_path)
    (folder / I18N / "ru" / "followups.yaml").unlink()
    with caplog.at_level(logging.WARNING, logger="dialogs"):
        russian = load_texts(folder).for_language("ru")
    assert "followups.yaml: liked" in russian.fell_back
    assert any("i18n/ru/followups.yaml: liked: missing" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("code", TRANSLATIONS)
def test_a_wrong_placeholder_in_a_translation_stops_start_up(tmp_path: Path, code: str) -> None:
    folder = _copy(tmp_path)
    _edit(folder / I18N / code / "common.yaml", lambda data: data.update(too_large="{max_megabytes} MB"))
    with pytest.raises(DialogError) as caught:
        load_texts(folder)
    assert f"i18n/{code}/common.yaml: too_large: uses {{max_megabytes}}" in str(caught.value)
    assert "did you mean {max_mb}?" in str(caught.value)


def test_english_stays_required(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder / "common.yaml", lambda data: data.pop("welcome"))
    with pytest.raises(DialogError) as caught:
        load_texts(folder)
    assert caught.value.file == "common.yaml" and caught.value.key == "welcome"
    assert load_dialogs().fell_back == ()  # English never falls back


def test_scheduled_messages_follow_the_last_telegram_language_seen() -> None:
    assert language_of({"telegram_language": "ru"}, None) == "ru"
    assert language_of({"telegram_language": "ru"}, "es") == "es"  # an update's own code wins
    assert language_of({"telegram_language": "ru", "language": "en"}, None) == "en"  # and a choice over both


async def test_the_telegram_language_is_kept_only_for_people_with_scheduled_messages(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "db.sqlite")
    try:
        await remember_telegram_language(store, 7, {}, "es-MX")
        assert await store.settings(7) == {}  # nobody is created, nothing kept
        await store.update_settings(7, reminder={"at": "21:00", "window_minutes": 0})
        await remember_telegram_language(store, 7, await store.settings(7), "es-MX")
        assert (await store.settings(7))["telegram_language"] == "es"
        await remember_telegram_language(store, 7, await store.settings(7), "ja")  # not one we speak: kept as is
        assert (await store.settings(7))["telegram_language"] == "es"
    finally:
        await store.close()

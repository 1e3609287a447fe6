"""Tests for the dialog flows: shipped texts, helpers, and start-up validation errors naming file and key.

What the code sends is checked against the code itself in tests/test_dialog_keys.py.
"""

from __future__ import annotations

import logging
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import EMOTIONS, KINDS
from dialogs import OFFERS, Button, DialogError, Dialogs, load_dialogs
from dialogs.loader import DEFAULT_FOLDER

COMMANDS = ("/start", "/help", "/privacy", "/history", "/export", "/forget")


@pytest.fixture(scope="module")
def dialogs() -> Dialogs:
    return load_dialogs()


# --- shipped flows -----------------------------------------------------------------------------------------------


def test_shipped_flows_load(dialogs: Dialogs) -> None:
    assert {"common", "emotions", "followups"} <= set(dialogs.flows)


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_each_emotion_has_varied_openers_offer_and_buttons(dialogs: Dialogs, emotion: str) -> None:
    flow = dialogs.emotion_flow(emotion)
    assert len(flow.lines) >= 3 and len(set(flow.lines)) == len(flow.lines)
    assert flow.offer.endswith("?")
    assert [b.offer for b in flow.buttons][-1] == "not_now"
    assert {b.offer for b in flow.buttons} == set(OFFERS)
    assert all(isinstance(b, Button) and b.label for b in flow.buttons)
    assert flow.label and dialogs.label(emotion) == flow.label
    assert dialogs.buttons(emotion) == flow.buttons


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_openers_describe_the_expression_without_diagnosing(dialogs: Dialogs, emotion: str) -> None:
    banned = re.compile(
        r"\b(you are|you're) (sad|angry|afraid|scared|depressed|anxious|disgusted)\b|\bdepress|\bdisorder",
        re.IGNORECASE,
    )
    for line in dialogs.emotion_flow(emotion).lines:
        assert not banned.search(line), line
    for seed in range(10):
        text = dialogs.opening(emotion, random.Random(seed), share="72%")
        assert "{" not in text
        assert text in {line.format(share="72%") for line in dialogs.emotion_flow(emotion).lines}


def test_opening_always_needs_share(dialogs: Dialogs) -> None:
    # Lines may leave {share} out, so the caller must pass it whichever line is picked.
    with pytest.raises(TypeError, match="share"):
        dialogs.opening("sad", random.Random(0))


def test_welcome_and_privacy_explain_storage_and_controls(dialogs: Dialogs) -> None:
    for key in ("welcome", "privacy"):
        text = dialogs.text(key).lower()
        assert "never store" in text and "photos" in text
        assert "diagnosis" in text
        assert "/export" in text and "/forget" in text
        assert "emotion scores" in text


def test_help_lists_every_command(dialogs: Dialogs) -> None:
    text = dialogs.text("help")
    for command in COMMANDS:
        assert command in text
    assert "[7d|30d|all]" in text
    for command in COMMANDS:
        assert dialogs.has(f"commands.{command[1:]}")


def test_support_notice_is_gentle_and_gives_real_resources(dialogs: Dialogs) -> None:
    text = dialogs.text("support_notice")
    assert "https://findahelpline.com" in text
    assert "emergency" in text
    assert "talking to someone can help" in text
    assert "isn't a diagnosis" in text


def test_text_helpers(dialogs: Dialogs) -> None:
    assert dialogs.text("welcome") == dialogs.text("common.welcome")
    assert dialogs.text("rate_limited", seconds=30).count("30") == 1
    assert dialogs.text("too_large", max_mb=10).find("10 MB") > 0
    assert dialogs.text("correction_saved", label=dialogs.label("sad")).endswith("😢 Sad.")
    assert dialogs.text("history_periods.7d") == "last 7 days"
    item = {"title": "Up", "creator": "Pete Docter", "year": 2009, "why": "Warm.", "minutes": "", "link": ""}
    line = dialogs.text("followups.item.movies", **item)
    assert line.startswith("🎬 Up (2009)") and line.endswith("Warm.")
    assert dialogs.offer("happy").endswith("?")
    for kind in KINDS:
        assert dialogs.text(f"followups.chosen.{kind}", rng=random.Random(1))
    with pytest.raises(TypeError, match="seconds"):
        dialogs.text("rate_limited")
    with pytest.raises(KeyError, match="unknown dialog text"):
        dialogs.text("no.such.key")
    with pytest.raises(KeyError, match="unknown emotion"):
        dialogs.opening("joy")


def test_variants_are_picked_with_the_rng(dialogs: Dialogs) -> None:
    variants = dialogs.variants("free_text")
    assert len(variants) >= 2
    picked = {dialogs.text("free_text", rng=random.Random(seed)) for seed in range(30)}
    assert picked == set(variants)
    assert dialogs.text("free_text", rng=random.Random(5)) == dialogs.text("free_text", rng=random.Random(5))


def test_dialogs_are_read_only(dialogs: Dialogs) -> None:
    with pytest.raises(TypeError):
        dialogs.texts["common.welcome"] = ("hi",)  # type: ignore[index]


# --- validation errors -------------------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for path in DEFAULT_FOLDER.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(folder: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Load `name`, apply `change` to its data and write it back."""
    path = folder / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def expect_error(folder: Path, message: str) -> DialogError:
    """Loading `folder` fails, and one of the problems listed starts with `message` ("<file>: <key>: …")."""
    with pytest.raises(DialogError) as info:
        load_dialogs(folder)
    assert any(str(problem).startswith(message) for problem in info.value.problems), str(info.value)
    return info.value


def test_copied_flows_load(folder: Path) -> None:
    assert load_dialogs(folder).flows == load_dialogs().flows


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("emotions.yaml", lambda d: d["sad"].pop("lines"), "emotions.yaml: sad.lines: missing"),
        (
            "emotions.yaml",
            lambda d: d["sad"].update(lines="one line"),
            "emotions.yaml: sad.lines: must be a non-empty list of strings",
        ),
        (
            "emotions.yaml",
            lambda d: d["sad"].update(lines=[]),
            "emotions.yaml: sad.lines: must be a non-empty list of strings",
        ),
        (
            "emotions.yaml",
            lambda d: d["fear"].update(offer=["a", "b"]),
            "emotions.yaml: fear.offer: must be one string",
        ),
        ("emotions.yaml", lambda d: d.pop("neutral"), "emotions.yaml: neutral.label: missing"),
        (
            "emotions.yaml",
            lambda d: d["sad"]["buttons"][1].update(offer="podcasts"),
            "emotions.yaml: sad.buttons[1].offer: unknown offer 'podcasts'",
        ),
        (
            "emotions.yaml",
            lambda d: d["sad"]["buttons"][1].update(offer="movies"),
            "emotions.yaml: sad.buttons[1].offer: 'movies' is listed twice",
        ),
        (
            "emotions.yaml",
            lambda d: d["sad"]["buttons"][0].pop("label"),
            "emotions.yaml: sad.buttons[0].label: missing",
        ),
        (
            "emotions.yaml",
            lambda d: d["sad"]["buttons"][0].update(colour="red"),
            "emotions.yaml: sad.buttons[0].colour: unknown key",
        ),
        (
            "emotions.yaml",
            lambda d: d["sad"]["lines"].append("Hi {nmae}"),
            "emotions.yaml: sad.lines[4]: uses {nmae}, which the code never passes (allowed: share)",
        ),
        (
            "emotions.yaml",
            lambda d: d["angry"].update(label=42),
            "emotions.yaml: angry.label: must be a one-line string",
        ),
        (
            "common.yaml",
            lambda d: d.update(welcome="Hello {user}!"),
            "common.yaml: welcome: uses {user}, which the code never passes (allowed: none)",
        ),
        ("common.yaml", lambda d: d.update(welcome="Hello {}!"), "common.yaml: welcome: bad placeholder syntax"),
        ("common.yaml", lambda d: d.update(welcome="Hello {name"), "common.yaml: welcome: bad placeholder syntax"),
        (
            "common.yaml",
            lambda d: d.update(help=42),
            "common.yaml: help: must be a string or a non-empty list of strings",
        ),
        ("common.yaml", lambda d: d.update(free_text=["ok", 3]), "common.yaml: free_text: must be a string"),
        ("common.yaml", lambda d: d.update(error="  "), "common.yaml: error: must not be empty"),
        ("common.yaml", lambda d: d.pop("no_face"), "common.yaml: no_face: missing"),
        ("common.yaml", lambda d: d["not_quite"].pop("prompt"), "common.yaml: not_quite.prompt: missing"),
        (
            "common.yaml",
            lambda d: d["forget_confirm"].update({True: "Yes"}),
            "common.yaml: forget_confirm.True: keys must",
        ),
        ("followups.yaml", lambda d: d["chosen"].pop("books"), "followups.yaml: chosen.books: missing"),
        (
            "followups.yaml",
            lambda d: d["item"].update(songs="{title} by {artist}"),
            "followups.yaml: item.songs: uses {artist}, which the code never passes (allowed: creator, link",
        ),
    ],
)
def test_invalid_flow_names_file_and_key(folder: Path, name: str, change: Callable, message: str) -> None:
    edit(folder, name, change)
    error = expect_error(folder, message)
    assert error.file == name


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d["reading"].pop("single"), "reading.single"),
        (lambda d: d.pop("history_rate_limited"), "history_rate_limited"),
    ],
)
def test_a_text_the_code_sends_missing_from_the_yaml_fails_at_load(folder: Path, change: Callable, key: str) -> None:
    edit(folder, "common.yaml", change)
    error = expect_error(folder, f"common.yaml: {key}: missing")
    assert f"{folder.resolve()}/common.yaml: {key}: missing" in str(error)


def test_a_field_the_code_never_passes_fails_at_load(folder: Path) -> None:
    edit(folder, "common.yaml", lambda d: d.update(no_face=d["no_face"] + " Hi {name}!"))
    error = expect_error(folder, "common.yaml: no_face: uses {name}, which the code never passes (allowed: none)")
    assert (error.file, error.key) == ("common.yaml", "no_face")
    assert f"{folder.resolve()}/common.yaml: no_face: uses {{name}}" in str(error)


def test_a_misspelt_field_fails_at_load_naming_the_field_meant(folder: Path) -> None:
    edit(folder, "common.yaml", lambda d: d["reading"].update(single="Mostly {emotoin}, {share}."))
    expect_error(
        folder,
        "common.yaml: reading.single: uses {emotoin}, which the code never passes (allowed: emotion, share); "
        "did you mean {emotion}?",
    )


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        # Labels are shown as they are, never formatted.
        ("emotions.yaml", lambda d: d["sad"].update(label="{share} Sad"), "emotions.yaml: sad.label: uses {share}"),
        (
            "emotions.yaml",
            lambda d: d["sad"]["buttons"][0].update(label="🎬 {kind}"),
            "emotions.yaml: sad.buttons[0].label: uses {kind}, which the code never passes (allowed: none)",
        ),
        # mark_vote finds the pressed 👍 by its label, so a label has no variants.
        ("common.yaml", lambda d: d.update(like_label=["👍", "👌"]), "common.yaml: like_label: must be a one-line"),
        ("followups.yaml", lambda d: d["item"].update(books={"title": "x"}), "followups.yaml: item.books: must be"),
    ],
)
def test_labels_and_shapes_follow_the_table(folder: Path, name: str, change: Callable, message: str) -> None:
    edit(folder, name, change)
    expect_error(folder, message)


def test_every_problem_is_listed_at_once(folder: Path) -> None:
    edit(folder, "common.yaml", lambda d: d["reading"].pop("single") and d.update(no_face="Hi {name}"))
    edit(folder, "followups.yaml", lambda d: d["item"].update(songs="{title} by {artist}"))
    edit(folder, "emotions.yaml", lambda d: d["sad"].update(lines="one line"))
    with pytest.raises(DialogError) as info:
        load_dialogs(folder)
    found = {(problem.file, problem.key) for problem in info.value.problems}
    assert found == {
        ("common.yaml", "reading.single"),
        ("common.yaml", "no_face"),
        ("followups.yaml", "item.songs"),
        ("emotions.yaml", "sad.lines"),
    }
    assert len(str(info.value).splitlines()) == 4


def test_yes_key_is_reported_not_silently_turned_into_true(folder: Path) -> None:
    (folder / "extra.yaml").write_text("confirm:\n  yes: Sure\n  no: Nope\n", encoding="utf-8")
    expect_error(folder, "extra.yaml: confirm.True: keys must be plain names")


def test_invalid_yaml_names_file_and_line(folder: Path) -> None:
    (folder / "common.yaml").write_text("welcome: [unclosed\nhelp: x\n", encoding="utf-8")
    expect_error(folder, "common.yaml: invalid YAML at line")


def test_missing_required_file(folder: Path) -> None:
    (folder / "followups.yaml").unlink()
    expect_error(folder, "followups.yaml: file not found")


def test_flow_must_be_a_mapping(folder: Path) -> None:
    (folder / "extra.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    expect_error(folder, "extra.yaml: must be a non-empty mapping")


def test_a_text_no_code_sends_is_a_warning_not_an_error(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    (folder / "checkin.yaml").write_text('evening:\n  question: "How did today go, {name}?"\n', encoding="utf-8")
    edit(folder, "emotions.yaml", lambda d: d.update(joy=d["happy"]) or d["sad"].update(after_like="Glad. 💙"))
    edit(folder, "common.yaml", lambda d: d.update(extra={}))
    with caplog.at_level(logging.WARNING, logger="dialogs.loader"):
        loaded = load_dialogs(folder)
    unused = ["checkin.yaml: evening.question", "common.yaml: extra", "emotions.yaml: joy.label"]
    assert set(unused) <= set(loaded.unused) and "emotions.yaml: sad.after_like" in loaded.unused
    assert all(any(entry in record.getMessage() for record in caplog.records) for entry in unused)
    with pytest.raises(KeyError, match="unknown dialog text"):
        loaded.text("checkin.evening.question", name="Ada")


def test_changed_words_need_no_code(folder: Path) -> None:
    edit(folder, "common.yaml", lambda d: d.update(not_now="Alright, see you soon!"))
    edit(folder, "emotions.yaml", lambda d: d["happy"].update(lines=["Big smile!", "Sunny face!", "Grinning!"]))
    loaded = load_dialogs(folder)
    assert loaded.text("not_now") == "Alright, see you soon!"
    assert loaded.opening("happy", random.Random(0), share="72%") in {"Big smile!", "Sunny face!", "Grinning!"}

"""Button data: round trips, tamper detection, per-person signatures, versioning and the 64-byte limit."""

from __future__ import annotations

import pytest

from bot.callback_data import FIELDS, MAX_BYTES, VERSION, Action, ButtonCodec, ButtonData, ButtonError
from catalog import EMOTIONS, KINDS

KEY = b"k" * 32
USER = 123456789
BIG = 36**13 - 1  # the largest id the format carries (far beyond SQLite's rowids in practice)

EXAMPLES = [
    ButtonData(Action.KIND, checkin=1, kind="movies"),
    ButtonData(Action.MORE, checkin=BIG, kind="activities"),
    ButtonData(Action.OTHER, checkin=42),
    ButtonData(Action.NOT_NOW, checkin=0),
    ButtonData(Action.NOT_QUITE, checkin=7),
    *(ButtonData(Action.CORRECT, checkin=BIG, emotion=e) for e in EMOTIONS),
    ButtonData(Action.FEEDBACK, rec=BIG, vote=1),
    ButtonData(Action.FEEDBACK, rec=3, vote=-1),
    ButtonData(Action.FORGET, issued=29_000_000),
    ButtonData(Action.KEEP),
]


@pytest.mark.parametrize("data", EXAMPLES, ids=lambda d: d.action.name)
def test_round_trip_and_size(data: ButtonData) -> None:
    codec = ButtonCodec(KEY)
    wire = codec.encode(USER, data)
    assert wire.isascii() and len(wire.encode()) <= MAX_BYTES
    assert wire.startswith(VERSION + data.action.value)
    assert codec.decode(USER, wire) == data


def test_every_action_and_kind_is_covered() -> None:
    assert set(FIELDS) == set(Action)
    codec = ButtonCodec(KEY)
    for kind in KINDS:
        assert codec.decode(USER, codec.encode(USER, ButtonData(Action.KIND, checkin=5, kind=kind))).kind == kind


@pytest.mark.parametrize("data", EXAMPLES, ids=lambda d: d.action.name)
def test_any_changed_character_is_detected(data: ButtonData) -> None:
    codec = ButtonCodec(KEY)
    wire = codec.encode(USER, data)
    for i, char in enumerate(wire):
        for replacement in {"0", "a", "Z", ":", "-"} - {char}:
            tampered = wire[:i] + replacement + wire[i + 1 :]
            with pytest.raises(ButtonError):
                codec.decode(USER, tampered)


def test_signature_binds_person_and_key() -> None:
    codec = ButtonCodec(KEY)
    wire = codec.encode(USER, ButtonData(Action.KIND, checkin=9, kind="songs"))
    with pytest.raises(ButtonError) as exc:
        codec.decode(USER + 1, wire)
    assert exc.value.reason == "signature"
    with pytest.raises(ButtonError):
        ButtonCodec(b"x" * 32).decode(USER, wire)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "malformed"),
        ("", "malformed"),
        ("x" * 65, "malformed"),
        ("1k:1:0:ééé", "malformed"),
        ("garbage", "malformed"),
        ("0k:1:0:AAAAAAAAAAA", "version"),
        ("2k:1:0:AAAAAAAAAAA", "version"),
        ("1k:1:0:AAAAAAAAAAA", "signature"),
    ],
)
def test_unusable_data(raw: str | None, reason: str) -> None:
    with pytest.raises(ButtonError) as exc:
        ButtonCodec(KEY).decode(USER, raw)
    assert exc.value.reason == reason


def test_signed_but_malformed_fields_are_rejected() -> None:
    # Only someone with the key could produce these; still, the decoder must not trust the shape.
    codec = ButtonCodec(KEY)
    for payload in ("1k:1", "1k:1:9", "1z:1", "1f:1:*", "1c:1:8", "1k:A:0"):
        wire = f"{payload}:{codec._sign(USER, payload)}"
        with pytest.raises(ButtonError) as exc:
            codec.decode(USER, wire)
        assert exc.value.reason == "malformed", payload


def test_encode_rejects_bad_values() -> None:
    codec = ButtonCodec(KEY)
    with pytest.raises(ValueError):
        codec.encode(USER, ButtonData(Action.KIND, checkin=-1, kind="movies"))
    with pytest.raises(ValueError):
        codec.encode(USER, ButtonData(Action.KIND, checkin=1, kind="podcasts"))
    with pytest.raises(ValueError):
        codec.encode(USER, ButtonData(Action.FEEDBACK, rec=1, vote=0))
    with pytest.raises(ValueError):
        ButtonCodec(b"short")

"""Inline-button data: compact, versioned and signed, so buttons work after a restart and tampering shows.

Wire format (ASCII, at most 64 bytes, Telegram's limit)::

    1k:2s:0:Xq3v9AbCdEf
    ^^ ^^^^ ^^^^^^^^^^^
    |  |    signature: 8 bytes of HMAC-SHA256(key, "<user id>|<payload>"), base64url
    |  fields of the action, ':'-separated (ids in base 36, kinds/emotions as indexes)
    version "1" + action letter

The signature covers the id of the person the button was made for, so a button only works for them;
the handler still takes the user id from the update and checks that referenced rows are theirs.
Nothing about a button's meaning lives in memory: everything is in the data or in the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import Enum

from catalog import EMOTIONS, KINDS, MOODS

VERSION = "1"
MAX_BYTES = 64
SIGNATURE_BYTES = 8
_SIGNATURE_CHARS = 11  # base64url of 8 bytes, without padding
_ID_RE = re.compile(r"^[0-9a-z]{1,13}$")
#: Fields that are non-negative integers, sent in base 36.
INT_FIELDS = frozenset(
    {"checkin", "rec", "issued", "faces", "section", "choice", "minute", "window", "days", "day", "lang"}
)
#: A reading's probabilities are sent as one byte each: 0..READING_STEPS.
READING_STEPS = 255
_READING_RE = re.compile(r"^[A-Za-z0-9_-]{10}$")  # base64url of 7 bytes, unpadded


class Action(str, Enum):
    """What a button does; the value is its one-letter code on the wire."""

    KIND = "k"  # show items of a kind for a check-in's emotion
    MORE = "m"  # more items of the same kind
    OTHER = "o"  # back to the kinds offer
    NOT_NOW = "n"  # decline the offer
    NOT_QUITE = "q"  # ask which emotion fits better
    CORRECT = "c"  # store the emotion the person picked
    FEEDBACK = "f"  # 👍 / 👎 on a shown recommendation
    FORGET = "x"  # confirm /forget
    KEEP = "y"  # cancel /forget
    CONSENT = "a"  # agree to keep check-ins (from /start or /privacy)
    CONSENT_READING = "r"  # agree, and keep the reading the question came with
    DECLINE = "d"  # keep nothing (or stop keeping)
    # Quick check-ins without a selfie, and notes
    MOOD_MENU = "j"  # "Just tell me": show the quick check-in buttons
    MOOD = "e"  # the person picked their mood (one of catalog.MOODS)
    CONSENT_MOOD = "s"  # agree, and keep the mood the question came with
    NOTE = "p"  # add a note to a check-in: the next text message becomes it
    # /settings, time zone and reminders (upper-case letters: the menu's own family)
    SETTINGS = "S"  # open /settings or one of its sections
    ZONE = "Z"  # set the time zone to one of bot.time_zones.CHOICES (or ask for a typed one)
    REMIND = "R"  # set the daily reminder (a local minute of the day and a window), or turn it off
    RETENTION = "T"  # how long check-ins are kept (days; 0 = forever)
    WEEKLY = "W"  # the weekly summary's day (0-6 = Monday-Sunday, 7 = off)
    LANGUAGE = "L"  # the language to answer in (an index into bot.languages.language_choices(), or follow Telegram)


#: The fields each action carries, in wire order.
FIELDS: dict[Action, tuple[str, ...]] = {
    Action.KIND: ("checkin", "kind"),
    Action.MORE: ("checkin", "kind"),
    Action.OTHER: ("checkin",),
    Action.NOT_NOW: ("checkin",),
    Action.NOT_QUITE: ("checkin",),
    Action.CORRECT: ("checkin", "emotion"),
    Action.FEEDBACK: ("rec", "vote"),
    Action.FORGET: ("issued",),
    Action.KEEP: (),
    Action.CONSENT: (),
    # The reading travels in the button, because nothing is stored before the person agrees.
    Action.CONSENT_READING: ("issued", "reading", "faces"),
    Action.DECLINE: (),
    Action.MOOD_MENU: (),
    Action.MOOD: ("emotion",),
    # Like CONSENT_READING: nothing is stored before the person agrees, so the mood travels in the button.
    Action.CONSENT_MOOD: ("issued", "emotion"),
    Action.NOTE: ("checkin",),
    Action.SETTINGS: ("section",),
    Action.ZONE: ("choice",),
    Action.REMIND: ("minute", "window"),
    Action.RETENTION: ("days",),
    Action.WEEKLY: ("day",),
    Action.LANGUAGE: ("lang",),
}


@dataclass(frozen=True)
class ButtonData:
    """A decoded button: the action and the fields it needs (the others stay None)."""

    action: Action
    checkin: int | None = None
    kind: str | None = None
    emotion: str | None = None  # one of catalog.MOODS (CORRECT only ever sends the seven EMOTIONS)
    rec: int | None = None  # recommendation row id
    vote: int | None = None  # +1 or -1
    issued: int | None = None  # unix minutes when the button was made (for buttons that expire)
    reading: tuple[float, ...] | None = None  # 7 probabilities in EMOTIONS order, to 1/255
    faces: int | None = None  # faces in the photo of a reading
    section: int | None = None  # a /settings section (bot.handlers.settings.Section)
    choice: int | None = None  # an index into bot.time_zones.CHOICES, or its length for "Other…"
    minute: int | None = None  # a local minute of the day (0-1439) for the reminder, 1440 for off
    window: int | None = None  # minutes after ``minute`` the reminder may come at random (0 = exactly)
    days: int | None = None  # days check-ins are kept (0 = forever)
    day: int | None = None  # a weekday, 0 = Monday (7 = off)
    lang: int | None = None  # an index into bot.languages.language_choices(), or its length to follow Telegram


class ButtonError(ValueError):
    """Button data that cannot be used; ``reason`` is "malformed", "version" or "signature"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ButtonCodec:
    """Encodes and checks button data with one secret key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the button secret must be at least 16 bytes")
        self._secret = secret

    def encode(self, user_id: int, data: ButtonData) -> str:
        """The callback_data string for ``data``, signed for ``user_id``."""
        fields = [_encode_field(name, getattr(data, name)) for name in FIELDS[data.action]]
        payload = ":".join([VERSION + data.action.value, *fields])
        wire = f"{payload}:{self._sign(user_id, payload)}"
        if len(wire) > MAX_BYTES:  # cannot happen with the field encodings above; guard the invariant
            raise ValueError(f"callback data is {len(wire)} bytes, over Telegram's {MAX_BYTES}")
        return wire

    def decode(self, user_id: int, raw: str | None) -> ButtonData:
        """Check the signature for ``user_id`` and parse; raise ButtonError for anything unusable."""
        if not raw or len(raw) > MAX_BYTES or not raw.isascii():
            raise ButtonError("malformed", "empty, too long or not ASCII")
        payload, _, signature = raw.rpartition(":")
        head = payload.split(":", 1)[0]
        if len(head) != 2:
            raise ButtonError("malformed", "no version/action header")
        if head[0] != VERSION:
            raise ButtonError("version", f"button format {head[0]!r}, this bot speaks {VERSION!r}")
        if len(signature) != _SIGNATURE_CHARS or not hmac.compare_digest(signature, self._sign(user_id, payload)):
            raise ButtonError("signature", "signature does not match")
        try:
            action = Action(head[1])
        except ValueError:
            raise ButtonError("malformed", f"unknown action {head[1]!r}") from None
        values = payload.split(":")[1:]
        names = FIELDS[action]
        if len(values) != len(names):
            raise ButtonError("malformed", f"{action.name} takes {len(names)} fields, got {len(values)}")
        return ButtonData(action, **{n: _decode_field(n, v) for n, v in zip(names, values, strict=True)})

    def _sign(self, user_id: int, payload: str) -> str:
        mac = hmac.new(self._secret, f"{int(user_id)}|{payload}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:SIGNATURE_BYTES]).rstrip(b"=").decode()


def _encode_field(name: str, value: object) -> str:
    if name in INT_FIELDS:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 36**13:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        return _base36(value)
    if name == "kind":
        return str(KINDS.index(value))  # ValueError for an unknown kind
    if name == "emotion":
        return str(MOODS.index(value))  # the seven emotions keep their old indexes; "mixed" came after them
    if name == "vote":
        if value not in (1, -1):
            raise ValueError(f"vote must be +1 or -1, got {value!r}")
        return "+" if value == 1 else "-"
    if name == "reading":
        return _encode_reading(value)
    raise ValueError(f"unknown field {name!r}")


def _decode_field(name: str, text: str) -> object:
    if name in INT_FIELDS:
        if not _ID_RE.match(text):
            raise ButtonError("malformed", f"bad {name} {text!r}")
        return int(text, 36)
    if name in ("kind", "emotion"):
        names = KINDS if name == "kind" else MOODS
        if not (len(text) == 1 and text.isdigit() and int(text) < len(names)):
            raise ButtonError("malformed", f"bad {name} {text!r}")
        return names[int(text)]
    if name == "vote":
        if text not in ("+", "-"):
            raise ButtonError("malformed", f"bad vote {text!r}")
        return 1 if text == "+" else -1
    if name == "reading":
        return _decode_reading(text)
    raise ButtonError("malformed", f"unknown field {name!r}")


def _encode_reading(value: object) -> str:
    probs = list(value) if isinstance(value, (tuple, list)) else []
    if len(probs) != len(EMOTIONS) or not all(isinstance(p, (int, float)) and 0 <= p <= 1 for p in probs):
        raise ValueError(f"reading must be {len(EMOTIONS)} probabilities in [0, 1], got {value!r}")
    raw = bytes(round(float(p) * READING_STEPS) for p in probs)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_reading(text: str) -> tuple[float, ...]:
    if not _READING_RE.match(text):
        raise ButtonError("malformed", f"bad reading {text!r}")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    total = sum(raw)
    if total == 0:
        raise ButtonError("malformed", "empty reading")
    return tuple(b / total for b in raw)  # renormalised: the steps' rounding must not leave a sum != 1


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out

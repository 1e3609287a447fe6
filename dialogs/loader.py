"""Load and validate the bot's texts: one YAML file per flow, checked at start-up.

Every ``*.yaml`` file in the folder is a *flow*; its name (without ``.yaml``) is the flow's namespace. A flow is a
mapping whose leaves are texts: a string, or a list of strings (variants, one picked at random). Texts are
addressed by dotted keys, ``"<flow>.<key>.<subkey>"``; keys of ``common.yaml`` may also be used without the
``common.`` prefix. Texts may use ``{placeholder}`` fields from :data:`PLACEHOLDERS` (``{{``/``}}`` for braces).

``emotions.yaml`` is special: it has one entry per emotion with ``label``, ``lines``, ``offer`` and ``buttons``
(an ordered list of ``{offer, label}``, offers from :data:`OFFERS`). Other keys in an emotion entry, and any
other file, are plain texts, so adding words or a whole new flow needs no code change. The keys the bot relies
on are listed in :data:`REQUIRED_KEYS` and checked at load time.
"""

from __future__ import annotations

import logging
import random
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from catalog.models import EMOTIONS, KINDS

log = logging.getLogger(__name__)

DEFAULT_FOLDER = Path(__file__).resolve().parent

#: What an emotion's buttons can offer: a catalog kind, or declining.
OFFERS: tuple[str, ...] = (*KINDS, "not_now")

#: The only ``{fields}`` texts may use; the bot passes their values to :meth:`Dialogs.text`.
PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "share",  # how strongly the face reads as the emotion, pre-formatted, e.g. "72%"
        "emotion",  # emotion name, e.g. "sad"
        "label",  # emotion label with emoji, e.g. "😢 Sad"
        "kind",  # catalog kind, e.g. "movies"
        "title",
        "creator",
        "year",
        "why",
        "minutes",
        "link",  # item fields, for rendering a recommendation
        "count",  # a number of things, e.g. photos in /history
        "period",  # a history period label, e.g. "last 7 days"
        "seconds",  # wait time when rate-limited
        "max_mb",  # upload size limit
        "name",  # the person's first name
    }
)

#: Texts the bot relies on, per flow; a missing one stops start-up with a DialogError.
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "common": (
        "welcome",
        "privacy",
        "help",
        "commands.start",
        "commands.help",
        "commands.privacy",
        "commands.history",
        "commands.export",
        "commands.forget",
        "analysing",
        "no_face",
        "many_faces",
        "face_too_small",
        "uncertain",
        "unreadable_image",
        "too_large",
        "not_an_image",
        "sticker",
        "video",
        "voice",
        "group_chat",
        "unknown_command",
        "free_text",
        "rate_limited",
        "not_now",
        "stale_button",
        "error",
        "more_label",
        "other_ideas_label",
        "like_label",
        "dislike_label",
        "not_quite.label",
        "not_quite.prompt",
        "correction_saved",
        "forget_confirm.text",
        "forget_confirm.confirm",
        "forget_confirm.cancel",
        "forgotten",
        "forget_cancelled",
        "export_empty",
        "export_caption",
        "history_usage",
        "history_header",
        "history_empty",
        "history_periods.7d",
        "history_periods.30d",
        "history_periods.all",
        "support_notice",
    ),
    "followups": (
        *(f"chosen.{kind}" for kind in KINDS),
        *(f"item.{kind}" for kind in KINDS),
        *(f"open_label.{kind}" for kind in KINDS),
        "supportive_intro",
        "pool_restarted",
        "nothing_left",
        "after_items",
        "liked",
        "disliked",
    ),
}

#: Flows that must exist (file names).
REQUIRED_FILES: tuple[str, ...] = ("common.yaml", "emotions.yaml", "followups.yaml")

_EMOTION_KEYS = ("label", "lines", "offer", "buttons")
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_FLOW_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_TEXT = 4096  # Telegram's message length limit
_MAX_LABEL = 64


class DialogError(ValueError):
    """A dialog file is missing or invalid; the message names the file and the key path."""

    def __init__(self, file: str, key: str | None, message: str) -> None:
        self.file = file
        self.key = key
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")


@dataclass(frozen=True)
class Button:
    """One inline button under an emotion's offer: what it offers and its label."""

    offer: str
    label: str


@dataclass(frozen=True)
class EmotionFlow:
    """What the bot says for one emotion: label, opening lines, offer question and ordered buttons."""

    emotion: str
    label: str
    lines: tuple[str, ...]
    offer: str
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Dialogs:
    """All validated texts (dotted key -> variants) and the per-emotion flows."""

    texts: Mapping[str, tuple[str, ...]]
    emotions: Mapping[str, EmotionFlow]
    flows: tuple[str, ...]

    def __post_init__(self) -> None:
        """Store texts and emotions as read-only mappings."""
        for name in ("texts", "emotions"):
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, MappingProxyType(dict(value)))

    def has(self, key: str) -> bool:
        """Return True when `key` names a text (``common.`` may be left out)."""
        return self._resolve(key) is not None

    def placeholders(self, key: str) -> frozenset[str]:
        """Return the placeholder names used by any variant of the text `key`."""
        return frozenset().union(*(_fields(v) for v in self.variants(key)))

    def variants(self, key: str) -> tuple[str, ...]:
        """Return all variants of the text `key`; raise KeyError for an unknown key."""
        resolved = self._resolve(key)
        if resolved is None:
            raise KeyError(f"unknown dialog text {key!r}")
        return self.texts[resolved]

    def text(self, key: str, *, rng: random.Random | None = None, **fmt: Any) -> str:
        """Return the text `key` (one variant, picked with `rng`) with placeholders filled from `fmt`."""
        variants = self.variants(key)
        missing = self.placeholders(key) - fmt.keys()
        if missing:
            raise KeyError(f"dialog text {key!r} needs {', '.join(sorted(missing))}")
        chosen = variants[0] if len(variants) == 1 else (rng or random).choice(variants)
        return chosen.format(**fmt)

    def opening(self, emotion: str, rng: random.Random | None = None, **fmt: Any) -> str:
        """Return one opening line for `emotion` (pass ``share=`` e.g. "72%")."""
        return self.text(f"emotions.{self.emotion_flow(emotion).emotion}.lines", rng=rng, **fmt)

    def offer(self, emotion: str, **fmt: Any) -> str:
        """Return the question shown above the emotion's buttons."""
        return self.text(f"emotions.{self.emotion_flow(emotion).emotion}.offer", **fmt)

    def buttons(self, emotion: str) -> tuple[Button, ...]:
        """Return the emotion's ordered buttons."""
        return self.emotion_flow(emotion).buttons

    def label(self, emotion: str) -> str:
        """Return the emotion's display label, e.g. "😢 Sad"."""
        return self.emotion_flow(emotion).label

    def emotion_flow(self, emotion: str) -> EmotionFlow:
        """Return the EmotionFlow for `emotion`; raise KeyError for an unknown emotion."""
        try:
            return self.emotions[emotion]
        except KeyError:
            raise KeyError(f"unknown emotion {emotion!r}") from None

    def _resolve(self, key: str) -> str | None:
        """Return the stored key for `key`, trying the ``common.`` namespace second."""
        if key in self.texts:
            return key
        if f"common.{key}" in self.texts:
            return f"common.{key}"
        return None


def load_dialogs(folder: str | Path | None = None) -> Dialogs:
    """Read and validate every flow file in `folder`; raise DialogError naming the file and key."""
    base = Path(folder) if folder is not None else DEFAULT_FOLDER
    for name in REQUIRED_FILES:
        if not (base / name).is_file():
            raise DialogError(name, None, f"file not found in {base}")
    texts: dict[str, tuple[str, ...]] = {}
    emotions: dict[str, EmotionFlow] = {}
    flows: list[str] = []
    for path in sorted(base.glob("*.yaml")):
        flow = path.stem
        if not _FLOW_RE.match(flow):
            raise DialogError(path.name, None, "flow file names must be lowercase letters, digits and _")
        data = _read(path)
        if flow == "emotions":
            emotions = _parse_emotions(data, path.name, texts)
        else:
            _flatten(data, path.name, flow, "", texts)
        flows.append(flow)
    for flow, keys in REQUIRED_KEYS.items():
        for key in keys:
            if f"{flow}.{key}" not in texts:
                raise DialogError(f"{flow}.yaml", key, "missing (the bot needs this text)")
    log.info("dialogs loaded: %d texts in %s", len(texts), ", ".join(flows))
    return Dialogs(texts=MappingProxyType(texts), emotions=MappingProxyType(emotions), flows=tuple(flows))


def _read(path: Path) -> dict[str, Any]:
    """Parse one YAML file whose top level must be a non-empty mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise DialogError(path.name, None, f"invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or not data:
        raise DialogError(path.name, None, "must be a non-empty mapping of keys to texts")
    return data


def _parse_emotions(data: dict[str, Any], file: str, texts: dict[str, tuple[str, ...]]) -> dict[str, EmotionFlow]:
    """Validate emotions.yaml: exactly the 7 emotions, each with label, lines, offer and buttons."""
    for emotion in data:
        _check_key(emotion, file, "")
        if emotion not in EMOTIONS:
            raise DialogError(file, str(emotion), f"unknown emotion (expected one of {', '.join(EMOTIONS)})")
    flows: dict[str, EmotionFlow] = {}
    for emotion in EMOTIONS:
        entry = data.get(emotion)
        if entry is None:
            raise DialogError(file, emotion, "missing")
        if not isinstance(entry, dict):
            raise DialogError(file, emotion, "must be a mapping with label, lines, offer and buttons")
        for key in _EMOTION_KEYS:
            if key not in entry:
                raise DialogError(file, f"{emotion}.{key}", "missing")
        label = _label(entry["label"], file, f"{emotion}.label")
        lines = entry["lines"]
        if not isinstance(lines, list) or not lines or not all(isinstance(s, str) and s.strip() for s in lines):
            raise DialogError(file, f"{emotion}.lines", "must be a non-empty list of strings")
        offer = entry["offer"]
        if not isinstance(offer, str) or not offer.strip():
            raise DialogError(file, f"{emotion}.offer", "must be a non-empty string")
        buttons = _parse_buttons(entry["buttons"], file, f"{emotion}.buttons")
        rest = {k: v for k, v in entry.items() if k != "buttons"}
        _flatten(rest, file, "emotions", emotion, texts)
        flows[emotion] = EmotionFlow(
            emotion=emotion,
            label=label,
            lines=texts[f"emotions.{emotion}.lines"],
            offer=texts[f"emotions.{emotion}.offer"][0],
            buttons=buttons,
        )
    return flows


def _parse_buttons(value: Any, file: str, path: str) -> tuple[Button, ...]:
    """Validate an ordered list of ``{offer, label}`` buttons."""
    if not isinstance(value, list) or not value:
        raise DialogError(file, path, "must be a non-empty list of {offer, label} mappings")
    buttons: list[Button] = []
    for i, raw in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(raw, dict):
            raise DialogError(file, where, "must be a mapping with offer and label")
        for key in raw:
            if key not in ("offer", "label"):
                raise DialogError(file, f"{where}.{key}", "unknown key (allowed: offer, label)")
        for key in ("offer", "label"):
            if key not in raw:
                raise DialogError(file, f"{where}.{key}", "missing")
        offer = raw["offer"]
        if offer not in OFFERS:
            raise DialogError(file, f"{where}.offer", f"unknown offer {offer!r} (expected one of {', '.join(OFFERS)})")
        if any(b.offer == offer for b in buttons):
            raise DialogError(file, f"{where}.offer", f"{offer!r} is listed twice")
        buttons.append(Button(offer=offer, label=_label(raw["label"], file, f"{where}.label")))
    if not any(b.offer in KINDS for b in buttons):
        raise DialogError(file, path, f"must offer at least one of {', '.join(KINDS)}")
    return tuple(buttons)


def _label(value: Any, file: str, path: str) -> str:
    """Validate a short one-line button or display label."""
    if not isinstance(value, str) or not value.strip() or "\n" in value or len(value) > _MAX_LABEL:
        raise DialogError(file, path, f"must be a one-line string of at most {_MAX_LABEL} characters")
    _check_placeholders(value, file, path)
    return value.strip()


def _flatten(node: Any, file: str, flow: str, path: str, texts: dict[str, tuple[str, ...]]) -> None:
    """Walk a mapping of texts, validating each leaf and storing it under ``<flow>.<path>``."""
    if isinstance(node, dict):
        if not node:
            raise DialogError(file, path or None, "must not be an empty mapping")
        for key, child in node.items():
            _check_key(key, file, path)
            _flatten(child, file, flow, f"{path}.{key}" if path else key, texts)
        return
    if isinstance(node, str):
        variants = [node]
    elif isinstance(node, list) and node and all(isinstance(v, str) for v in node):
        variants = node
    else:
        raise DialogError(file, path or None, "must be a string, a non-empty list of strings, or a mapping")
    cleaned = []
    for i, variant in enumerate(variants):
        where = path if len(variants) == 1 and isinstance(node, str) else f"{path}[{i}]"
        text = variant.strip()
        if not text:
            raise DialogError(file, where, "must not be empty")
        if len(text) > _MAX_TEXT:
            raise DialogError(file, where, f"is longer than {_MAX_TEXT} characters")
        _check_placeholders(text, file, where)
        cleaned.append(text)
    texts[f"{flow}.{path}"] = tuple(cleaned)


def _check_key(key: Any, file: str, parent: str) -> None:
    """Reject keys that are not plain names (e.g. YAML turning ``yes:`` into True)."""
    if not isinstance(key, str) or not _KEY_RE.match(key):
        where = f"{parent}.{key}" if parent else str(key)
        raise DialogError(file, where, "keys must be plain names (letters, digits, _ or -); quote yes/no/on/off")


def _check_placeholders(text: str, file: str, path: str) -> None:
    """Reject malformed braces and placeholders not in PLACEHOLDERS."""
    try:
        fields = _fields(text)
    except ValueError as exc:
        raise DialogError(
            file, path, f"bad placeholder syntax ({exc}); write {{{{ and }}}} for literal braces"
        ) from None
    unknown = fields - PLACEHOLDERS
    if unknown:
        raise DialogError(
            file, path, f"unknown placeholder {{{sorted(unknown)[0]}}} (allowed: {', '.join(sorted(PLACEHOLDERS))})"
        )


def _fields(text: str) -> frozenset[str]:
    """Return the ``{field}`` names in a format string; raise ValueError for positional or nested fields."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(text):
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"{{{field}}} is not a plain name")
        names.add(field)
    return frozenset(names)

"""Load the bot's texts, one YAML file per flow, and check them at start-up against the table in dialogs/keys.py.

Every ``*.yaml`` file in the folder is a *flow*; its name (without ``.yaml``) starts the dotted keys of its texts,
e.g. ``followups.item.movies``; keys of ``common.yaml`` may also be used without ``common.``. A text is a string or
a list of strings (variants, one picked at random) and may use ``{field}`` placeholders (``{{``/``}}`` for braces).

Which texts must exist, their shape and the fields each may use come from :data:`dialogs.keys.TEXTS`, the table
:meth:`Dialogs.text` also reads. ``load_dialogs`` lists every problem at once, each naming the file and the key,
and stops start-up with a :class:`DialogError`, so a broken file never waits for the first person to hit it.
Texts the code never sends are only logged as warnings (see :func:`load_dialogs`).
"""

from __future__ import annotations

import difflib
import logging
import random
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from catalog.models import KINDS, MOODS
from dialogs.keys import MAX_LABEL, TEXTS, Shape, TextSpec, qualify

log = logging.getLogger(__name__)

DEFAULT_FOLDER = Path(__file__).resolve().parent

#: What an emotion's buttons can offer: a catalog kind, or declining.
OFFERS: tuple[str, ...] = (*KINDS, "not_now")

_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_TEXT = 4096  # Telegram's message length limit
_BUTTON_LABEL = TextSpec(frozenset(), Shape.LABEL)  # emotion buttons are shown as is, like every label


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a dialog file: the file name, the dotted key inside it (if any) and what is wrong."""

    file: str
    key: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}" if self.key else f"{self.file}: {self.message}"


class DialogError(ValueError):
    """The dialog files do not match what the code sends; the message lists every problem, one per line."""

    def __init__(self, folder: Path, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = _shown(folder)
        super().__init__("\n".join(f"{shown}/{problem}" for problem in self.problems))

    @property
    def file(self) -> str:
        """The file of the first problem."""
        return self.problems[0].file

    @property
    def key(self) -> str | None:
        """The key of the first problem."""
        return self.problems[0].key


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
    """All checked texts (dotted key -> variants), the per-emotion flows, and YAML keys no code sends."""

    texts: Mapping[str, tuple[str, ...]]
    emotions: Mapping[str, EmotionFlow]
    flows: tuple[str, ...]
    unused: tuple[str, ...] = ()  # "<file>: <key>" of each YAML text not in dialogs/keys.py
    fell_back: tuple[str, ...] = ()  # "<file>: <key>" of each text missing here and taken from the fallback set

    def __post_init__(self) -> None:
        """Store texts and emotions as read-only mappings."""
        for name in ("texts", "emotions"):
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, MappingProxyType(dict(value)))

    def has(self, key: str) -> bool:
        """Return True when `key` names a text the code sends (``common.`` may be left out)."""
        return qualify(key) in self.texts

    def placeholders(self, key: str) -> frozenset[str]:
        """Return the placeholder names used by any variant of the text `key`."""
        return frozenset().union(*(_fields(v) for v in self.variants(key)))

    def variants(self, key: str) -> tuple[str, ...]:
        """Return all variants of the text `key`; raise KeyError for a key not in dialogs/keys.py."""
        return self.texts[self._resolve(key)]

    def text(self, key: str, *, rng: random.Random | None = None, **fmt: Any) -> str:
        """Return the text `key` (one variant, picked with `rng`) filled from `fmt`.

        `fmt` must hold exactly the fields dialogs/keys.py lists for `key`: the start-up check allows a text any of
        them, which only holds if every caller passes them all (TypeError otherwise).
        """
        resolved = self._resolve(key)
        expected = TEXTS[resolved].fields
        if fmt.keys() != expected:
            raise TypeError(f"dialog text {key!r} takes {_names(expected)} (dialogs/keys.py), got {_names(fmt)}")
        variants = self.texts[resolved]
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

    def _resolve(self, key: str) -> str:
        """Return the table key for `key`; raise KeyError when the code has no such text."""
        resolved = qualify(key)
        if resolved not in TEXTS or resolved not in self.texts:
            raise KeyError(f"unknown dialog text {key!r} (add it to dialogs/keys.py and a YAML file)")
        return resolved


@dataclass(frozen=True)
class _Leaf:
    """A value found in a YAML file: its file, its key inside the file, and the raw value."""

    file: str
    key: str
    value: Any


def load_dialogs(folder: str | Path | None = None, *, fallback: Dialogs | None = None) -> Dialogs:
    """Read every flow file in `folder` and check it against dialogs/keys.py; raise DialogError listing all problems.

    A YAML text the code never sends is logged as a warning, not an error: it cannot break a conversation (a typo
    in a key the code needs already fails as that key missing), and stopping the bot over dead words would only
    block a deploy. The shipped files are held to none by tests/test_dialog_keys.py, so dead texts do not pile up.

    With a `fallback` (a translation, with English as the fallback) a missing file or key is no error: the fallback's
    text is used and each such key is logged now, at start-up, as a warning naming the file and the key. A text that
    is there but wrong (shape, placeholders the code never passes) is still an error.
    """
    base = Path(folder) if folder is not None else DEFAULT_FOLDER
    leaves, flows, problems = _read_folder(base, required=fallback is None)
    values = _check_texts(leaves, flows, problems, fallback)
    if problems:
        raise DialogError(base, problems)
    unused = tuple(f"{leaf.file}: {leaf.key}" for key, leaf in leaves.items() if key not in TEXTS)
    for entry in unused:
        log.warning("%s/%s: not sent by the code (not in dialogs/keys.py)", _shown(base), entry)
    fell_back = tuple(_where(key) for key in TEXTS if key not in leaves and fallback is not None)
    for entry in fell_back:
        log.warning("%s/%s: missing, the fallback (English) text is used", _shown(base), entry)
    texts = {key: value for key, value in values.items() if TEXTS[key].shape is not Shape.BUTTONS}
    log.info("dialogs loaded: %d texts in %s", len(texts), ", ".join(flows))
    emotions = _emotion_flows(texts, values)
    return Dialogs(texts=texts, emotions=emotions, flows=tuple(flows), unused=unused, fell_back=fell_back)


def _where(key: str) -> str:
    """ "<file>: <key inside it>" for a table key, as problems and warnings name it."""
    flow, local = key.split(".", 1)
    return f"{flow}.yaml: {local}"


def _fallback_value(fallback: Dialogs, key: str) -> tuple[Any, ...]:
    """The fallback set's checked value of a table key (an emotion's buttons live in its EmotionFlow)."""
    if TEXTS[key].shape is Shape.BUTTONS:
        return fallback.emotions[key.split(".")[1]].buttons
    return fallback.texts[key]


def _read_folder(base: Path, *, required: bool = True) -> tuple[dict[str, _Leaf], list[str], list[Problem]]:
    """Every leaf of every YAML file by dotted key, the flows read, and the problems found on the way.

    Unless `required`, a missing flow file is no problem (a translation falls back to English key by key).
    """
    leaves: dict[str, _Leaf] = {}
    flows: list[str] = []
    problems: list[Problem] = []
    for flow in sorted({key.split(".", 1)[0] for key in TEXTS}):
        if required and not (base / f"{flow}.yaml").is_file():
            problems.append(Problem(f"{flow}.yaml", None, f"file not found in {_shown(base)}"))
    for path in sorted(base.glob("*.yaml")):
        data = _read(path, problems)
        if data is not None:
            _collect(data, path.name, path.stem, "", leaves, problems)
            flows.append(path.stem)
    return leaves, flows, problems


def _read(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """Parse one YAML file whose top level must be a non-empty mapping (None, with a problem, otherwise)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problems.append(Problem(path.name, None, f"invalid YAML{where}: {getattr(exc, 'problem', exc)}"))
        return None
    if not isinstance(data, dict) or not data:
        problems.append(Problem(path.name, None, "must be a non-empty mapping of keys to texts"))
        return None
    return data


def _collect(
    node: dict[Any, Any], file: str, flow: str, parent: str, leaves: dict[str, _Leaf], problems: list[Problem]
) -> None:
    """Walk a mapping down to the table's keys (or to non-mappings, which no table key can be under)."""
    for key, child in node.items():
        path = f"{parent}.{key}" if parent else str(key)
        # YAML reads an unquoted yes/no/on/off key as a boolean: say so rather than report the text as missing.
        if not isinstance(key, str) or not _KEY_RE.match(key):
            message = "keys must be plain names (letters, digits, _ or -); quote yes/no/on/off"
            problems.append(Problem(file, path, message))
        elif isinstance(child, dict) and child and f"{flow}.{path}" not in TEXTS:
            _collect(child, file, flow, path, leaves, problems)
        else:
            leaves[f"{flow}.{path}"] = _Leaf(file, path, child)


def _check_texts(
    leaves: Mapping[str, _Leaf], flows: Sequence[str], problems: list[Problem], fallback: Dialogs | None = None
) -> dict[str, tuple[Any, ...]]:
    """The checked value of every table key found; a problem for each invalid one, and each missing one unless the
    `fallback` set has it."""
    values: dict[str, tuple[Any, ...]] = {}
    for key, spec in TEXTS.items():
        flow, local = key.split(".", 1)
        leaf = leaves.get(key)
        if leaf is None and fallback is not None:
            values[key] = _fallback_value(fallback, key)
            continue
        if leaf is None:
            if flow in flows:  # a missing or unreadable file is one problem already, not one per key
                problems.append(Problem(f"{flow}.yaml", local, "missing (the code sends this text)"))
            continue
        found = len(problems)
        value = _buttons(leaf, problems) if spec.shape is Shape.BUTTONS else _variants(leaf, spec, problems)
        if len(problems) == found:
            values[key] = value
    return values


def _variants(leaf: _Leaf, spec: TextSpec, problems: list[Problem]) -> tuple[str, ...]:
    """The stripped variants of a text, after checking its shape and each variant."""
    variants = _as_list(leaf.value, spec.shape)
    if variants is None:
        problems.append(Problem(leaf.file, leaf.key, f"must be {spec.shape.value}"))
        return ()
    single = isinstance(leaf.value, str)
    for i, variant in enumerate(variants):
        _check_text(variant, spec, leaf.file, leaf.key if single else f"{leaf.key}[{i}]", problems)
    return tuple(v.strip() for v in variants)


def _as_list(raw: Any, shape: Shape) -> list[str] | None:
    """The variants of a YAML value when it has `shape` (a lone string is one variant), else None."""
    if isinstance(raw, str):
        return None if shape is Shape.LIST else [raw]
    if shape not in (Shape.VARIANTS, Shape.LIST) or not isinstance(raw, list) or not raw:
        return None
    return raw if all(isinstance(v, str) for v in raw) else None


def _check_text(text: str, spec: TextSpec, file: str, where: str, problems: list[Problem]) -> None:
    """One variant: not empty, within its length limit, and using only fields the code passes for it."""
    text = text.strip()
    if not text:
        problems.append(Problem(file, where, "must not be empty"))
    elif spec.shape is Shape.LABEL and ("\n" in text or len(text) > MAX_LABEL):
        problems.append(Problem(file, where, f"must be {Shape.LABEL.value}"))
    elif len(text) > _MAX_TEXT:
        problems.append(Problem(file, where, f"is longer than {_MAX_TEXT} characters"))
    try:
        used = _fields(text)
    except ValueError as exc:
        problems.append(Problem(file, where, f"bad placeholder syntax ({exc}); write {{{{ and }}}} for braces"))
        return
    for field in sorted(used - spec.fields):
        problems.append(Problem(file, where, _unknown_field(field, spec.fields)))


def _unknown_field(field: str, allowed: frozenset[str]) -> str:
    """The message for a placeholder the code never passes, with the likely intended one when it is a typo."""
    message = f"uses {{{field}}}, which the code never passes (allowed: {_names(allowed)})"
    close = difflib.get_close_matches(field, sorted(allowed), n=1)
    return f"{message}; did you mean {{{close[0]}}}?" if close else message


def _buttons(leaf: _Leaf, problems: list[Problem]) -> tuple[Button, ...]:
    """An emotion's ordered ``{offer, label}`` buttons: known offers, none twice, at least one catalog kind."""
    if not isinstance(leaf.value, list) or not leaf.value:
        problems.append(Problem(leaf.file, leaf.key, f"must be {Shape.BUTTONS.value}"))
        return ()
    buttons: list[Button] = []
    for i, raw in enumerate(leaf.value):
        button = _button(raw, leaf.file, f"{leaf.key}[{i}]", problems)
        if button is not None and any(b.offer == button.offer for b in buttons):
            problems.append(Problem(leaf.file, f"{leaf.key}[{i}].offer", f"{button.offer!r} is listed twice"))
        elif button is not None:
            buttons.append(button)
    if not any(b.offer in KINDS for b in buttons):
        problems.append(Problem(leaf.file, leaf.key, f"must offer at least one of {', '.join(KINDS)}"))
    return tuple(buttons)


def _button(raw: Any, file: str, where: str, problems: list[Problem]) -> Button | None:
    """One ``{offer, label}`` mapping as a Button, or None with the problems found."""
    if not isinstance(raw, dict):
        problems.append(Problem(file, where, "must be a mapping with offer and label"))
        return None
    found = len(problems)
    for key in sorted(set(raw) - {"offer", "label"}, key=str):
        problems.append(Problem(file, f"{where}.{key}", "unknown key (allowed: offer, label)"))
    for key in ("offer", "label"):
        if key not in raw:
            problems.append(Problem(file, f"{where}.{key}", "missing"))
    if "offer" in raw and raw["offer"] not in OFFERS:
        expected = ", ".join(OFFERS)
        problems.append(Problem(file, f"{where}.offer", f"unknown offer {raw['offer']!r} (expected one of {expected})"))
    if "label" in raw:
        _variants(_Leaf(file, f"{where}.label", raw["label"]), _BUTTON_LABEL, problems)
    if len(problems) > found:
        return None
    return Button(offer=raw["offer"], label=raw["label"].strip())


def _emotion_flows(
    texts: Mapping[str, tuple[str, ...]], values: Mapping[str, tuple[Any, ...]]
) -> dict[str, EmotionFlow]:
    """One EmotionFlow per emotion, from texts already checked."""
    return {
        emotion: EmotionFlow(
            emotion=emotion,
            label=texts[f"emotions.{emotion}.label"][0],
            lines=texts[f"emotions.{emotion}.lines"],
            offer=texts[f"emotions.{emotion}.offer"][0],
            buttons=values[f"emotions.{emotion}.buttons"],
        )
        for emotion in MOODS  # "mixed" too: a quick check-in may say it, and it gets its own offer
    }


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


def _names(fields: Iterable[str]) -> str:
    return ", ".join(sorted(fields)) or "none"


def _shown(folder: Path) -> str:
    """`folder` as a person would find it: relative to the working directory when inside it (e.g. "dialogs")."""
    folder = folder.resolve()
    try:
        return str(folder.relative_to(Path.cwd()))
    except ValueError:
        return str(folder)

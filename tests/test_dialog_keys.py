"""The table of texts the code sends (dialogs/keys.py) against the code in bot/ and the shipped YAML.

The scan reads bot/ with ``ast`` and finds every key handed to a ``…dialogs.text/variants/has/placeholders`` call,
also through helpers that pass a parameter on as the key (``reply_with(key)``, ``admit_or_explain(…, text_key)``).
A key expression is followed through ``a if c else b``, ``DICT.get(x, default)``, and loops over module-level
constants; an f-string is kept as a pattern. Anything else is reported as unresolved, so a new indirection makes
this test fail instead of silently escaping it.
"""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.app import COMMANDS
from bot.handlers.history import PERIODS
from dialogs import TEXTS, Dialogs, Shape, load_dialogs, qualify
from dialogs.keys import HISTORY_PERIODS, MENU_COMMANDS

BOT = Path(__file__).resolve().parents[1] / "bot"
#: Dialogs methods whose first argument is a text key.
KEY_METHODS = frozenset({"text", "variants", "has", "placeholders"})


@dataclass
class Scan:
    """Where each key is sent: literal keys, f-string patterns (regexes) and expressions the scan cannot follow."""

    keys: dict[str, list[str]] = field(default_factory=dict)
    patterns: dict[str, list[str]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)

    def missing_from_table(self) -> list[str]:
        """Literal keys with no table entry, and patterns no table key matches, each with where it is sent."""
        missing = [f"{key} ({', '.join(at)})" for key, at in self.keys.items() if qualify(key) not in TEXTS]
        missing += [f"{p} ({', '.join(at)})" for p, at in self.patterns.items() if not _matching(p)]
        return missing


def _matching(pattern: str) -> list[str]:
    """Table keys an f-string pattern can produce, as the code would write them (``common.`` optional)."""
    return [key for key in TEXTS if re.fullmatch(pattern, key) or re.fullmatch(pattern, key.removeprefix("common."))]


def _add(found: dict[str, list[str]], key: str, at: str) -> None:
    if at not in found.setdefault(key, []):
        found[key].append(at)


@dataclass(frozen=True)
class _Module:
    path: str
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        while node in self.parents:
            node = self.parents[node]
            yield node


#: Module-level dicts and sequences of strings, by name: (keys, values); a sequence's items are both.
Constants = dict[str, tuple[list[str], list[str]]]
#: Helpers that pass a parameter on as the key, by name: (position, name) of that parameter.
Forwarders = dict[str, tuple[int, str]]


def scan(root: Path) -> Scan:
    """Every key the Python files under ``root`` send to dialogs, rescanned until no new forwarding helper turns up."""
    modules = [_parse(path, root) for path in sorted(root.rglob("*.py"))]
    constants = _constants(modules)
    forwarders: Forwarders = {}
    while True:
        result, found = Scan(), dict(forwarders)
        for module in modules:
            for call, expr in _key_arguments(module, forwarders):
                _Site(module, constants, found, result, f"{module.path}:{call.lineno}").resolve(expr)
        if found == forwarders:
            return result
        forwarders = found


def _parse(path: Path, root: Path) -> _Module:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return _Module(f"{root.name}/{path.relative_to(root)}", tree, parents)


def _constants(modules: list[_Module]) -> Constants:
    found: Constants = {}
    for module in modules:
        for node in module.tree.body:
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            value = getattr(node, "value", None)
            if isinstance(target, ast.Name) and isinstance(value, ast.Dict):
                found[target.id] = (_strings(value.keys), _strings(value.values))
            elif isinstance(target, ast.Name) and isinstance(value, (ast.Tuple, ast.List, ast.Set)):
                found[target.id] = (_strings(value.elts), _strings(value.elts))
    return found


def _strings(nodes: list[ast.expr | None]) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _key_arguments(module: _Module, forwarders: Forwarders) -> Iterator[tuple[ast.Call, ast.expr]]:
    """Each call in the module that takes a text key, with the key's expression."""
    for call in ast.walk(module.tree):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in KEY_METHODS and call.args:
            if ast.unparse(func.value).lower().endswith("dialogs"):  # dialogs, services.dialogs, DIALOGS, …
                yield call, call.args[0]
        elif (name := _last_name(func)) in forwarders:
            position, param = forwarders[name]
            given = [*call.args[position : position + 1], *(k.value for k in call.keywords if k.arg == param)]
            yield from ((call, expr) for expr in given[:1])


def _last_name(expr: ast.expr) -> str:
    """``commands.TEXT_COMMANDS`` -> "TEXT_COMMANDS", ``reply_with`` -> "reply_with"; "" for anything else."""
    return expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", "")


@dataclass(frozen=True)
class _Site:
    """One call that sends a key: resolves the key's expression into ``result``."""

    module: _Module
    constants: Constants
    forwarders: Forwarders
    result: Scan
    at: str

    def resolve(self, expr: ast.expr) -> None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            _add(self.result.keys, expr.value, self.at)
        elif isinstance(expr, ast.IfExp):
            self.resolve(expr.body)
            self.resolve(expr.orelse)
        elif isinstance(expr, ast.JoinedStr):
            parts = (re.escape(v.value) if isinstance(v, ast.Constant) else "[^.]+" for v in expr.values)
            _add(self.result.patterns, "".join(parts), self.at)
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "get":
            self._dict_get(expr, expr.func.value)
        elif isinstance(expr, ast.Name) and self._forwarded(expr):
            pass  # the helper's callers are scanned for this argument instead
        elif isinstance(expr, ast.Name) and (values := self._loop_values(expr)) is not None:
            for key in values:
                _add(self.result.keys, key, self.at)
        else:
            self.result.unresolved.append(f"{self.at}: {ast.unparse(expr)}")

    def _dict_get(self, call: ast.Call, source: ast.expr) -> None:
        """``CONSTANT.get(x, default)``: every value, and the default."""
        if _last_name(source) not in self.constants:
            self.result.unresolved.append(f"{self.at}: {ast.unparse(call)}")
            return
        for key in self.constants[_last_name(source)][1]:
            _add(self.result.keys, key, self.at)
        for default in call.args[1:2]:
            self.resolve(default)

    def _forwarded(self, name: ast.Name) -> bool:
        """When ``name`` is a parameter of an enclosing function, record that function as a forwarding helper."""
        for node in self.module.ancestors(name):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
                if name.id in params:
                    self.forwarders[node.name] = (params.index(name.id), name.id)
                    return True
        return False

    def _loop_values(self, name: ast.Name) -> list[str] | None:
        """What a ``for`` variable takes over ``CONSTANT``, ``CONSTANT.items()`` or ``.values()``; None otherwise."""
        loop = next((n for n in self.module.ancestors(name) if isinstance(n, ast.For) and name.id in _names(n)), None)
        if loop is None:
            return None
        over, method = loop.iter, None
        if isinstance(over, ast.Call) and isinstance(over.func, ast.Attribute) and not over.args:
            over, method = over.func.value, over.func.attr
        if _last_name(over) not in self.constants or method not in (None, "items", "values"):
            return None
        keys, values = self.constants[_last_name(over)]
        second = method == "items" and _names(loop).index(name.id) == 1
        return values if method == "values" or second else keys


def _names(loop: ast.For) -> list[str]:
    """The variable names a ``for`` binds, in order."""
    targets = loop.target.elts if isinstance(loop.target, ast.Tuple) else [loop.target]
    return [t.id if isinstance(t, ast.Name) else "" for t in targets]


# --- the shipped code and files ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bot_scan() -> Scan:
    return scan(BOT)


def test_every_key_the_bot_sends_is_in_the_table(bot_scan: Scan) -> None:
    assert bot_scan.keys, "the scan found no dialog keys in bot/ at all"
    assert not bot_scan.unresolved, "keys the scan cannot follow; use a literal or a module-level constant"
    assert not bot_scan.missing_from_table(), "add these to dialogs/keys.py (and a YAML file)"


def test_the_table_has_no_text_the_bot_never_sends(bot_scan: Scan) -> None:
    sent = {qualify(key) for key in bot_scan.keys} | {key for p in bot_scan.patterns for key in _matching(p)}
    # Emotion texts are read by Dialogs itself (opening, offer, label, buttons) for every emotion.
    never = [key for key in TEXTS if key not in sent and not key.startswith("emotions.")]
    assert not never, "the code sends none of these: remove them from dialogs/keys.py"


def test_lists_the_table_repeats_match_the_code() -> None:
    assert MENU_COMMANDS == COMMANDS
    assert set(HISTORY_PERIODS) == set(PERIODS)


def test_the_shipped_yaml_holds_only_texts_the_code_sends() -> None:
    assert load_dialogs().unused == ()


# --- the scan itself ---------------------------------------------------------------------------------------------


def test_the_scan_catches_a_key_missing_from_the_table(tmp_path: Path) -> None:
    source = tmp_path / "bot"
    (source / "handlers").mkdir(parents=True)
    (source / "handlers" / "new.py").write_text(
        "KEYS = {'a': 'new.from_a_dict'}\n"
        "NAMES = ('welcome', 'new.from_a_loop')\n"
        "def say(dialogs, key):\n"
        "    return dialogs.text(key)\n"
        "def handler(services, flag, x):\n"
        "    say(services.dialogs, 'new.through_a_helper')\n"
        "    services.dialogs.text('welcome' if flag else 'new.in_a_branch')\n"
        "    services.dialogs.text(KEYS.get(x, 'new.by_default'))\n"
        "    services.dialogs.text(f'new.pattern.{x}')\n"
        "    services.dialogs.variants(x.key)\n"
        "    for name in NAMES:\n"
        "        services.dialogs.text(name)\n",
        encoding="utf-8",
    )
    found = scan(source)
    missing = {entry.split(" ")[0] for entry in found.missing_from_table()}
    assert missing == {
        "new.from_a_dict",
        "new.from_a_loop",
        "new.through_a_helper",
        "new.in_a_branch",
        "new.by_default",
        re.escape("new.pattern.") + "[^.]+",
    }
    assert found.keys["welcome"] == ["bot/handlers/new.py:7", "bot/handlers/new.py:12"]
    assert found.unresolved == ["bot/handlers/new.py:10: x.key"]


# --- Dialogs.text reads the table too ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dialogs() -> Dialogs:
    return load_dialogs()


def test_text_refuses_a_key_not_in_the_table(dialogs: Dialogs) -> None:
    # Even a text present in the mapping: the table, not the YAML, says what the code may send.
    extra = Dialogs(texts={**dialogs.texts, "common.analysing": ("Looking…",)}, emotions=dialogs.emotions, flows=())
    for key in ("analysing", "common.analysing", "no.such.key"):
        with pytest.raises(KeyError, match="unknown dialog text"):
            extra.text(key)
        assert not dialogs.has(key)


@pytest.mark.parametrize(
    ("key", "fields"),
    [
        ("rate_limited", {}),  # a field the text needs, not passed
        ("no_face", {"name": "Ada"}),  # a field the table does not list
        ("reading.single", {"emotion": "sad"}),
        ("followups.item.movies", {"title": "Up", "creator": "Pete Docter", "year": 2009, "why": "Warm."}),
    ],
)
def test_text_refuses_fields_that_differ_from_the_table(dialogs: Dialogs, key: str, fields: dict[str, object]) -> None:
    with pytest.raises(TypeError, match=re.escape(f"dialog text {key!r} takes")):
        dialogs.text(key, **fields)


def test_every_table_text_loads_and_renders_with_its_fields(dialogs: Dialogs) -> None:
    for key, spec in TEXTS.items():
        if spec.shape is not Shape.BUTTONS:  # buttons come through Dialogs.buttons, checked in test_dialogs.py
            assert dialogs.text(key, rng=random.Random(0), **dict.fromkeys(spec.fields, "x")).strip(), key

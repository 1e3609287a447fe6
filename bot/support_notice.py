"""The support notice's text: the gentle words and findahelpline.com always, and the person's country's crisis line
when their time zone or language implies one (catalog/crisis_lines.yaml)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catalog.crisis_lines import CrisisLine, crisis_line_for, crisis_lines
from dialogs import Dialogs


def support_notice(dialogs: Dialogs, settings: Mapping[str, Any], lines: Sequence[CrisisLine] | None = None) -> str:
    """The notice, with "In <country>: <line>" added when a country is implied (``lines``: the shipped table)."""
    text = dialogs.text("support_notice")
    line = crisis_line_for(crisis_lines() if lines is None else lines, settings)
    if line is None:
        return text
    return f"{text}\n\n{dialogs.text('support_line', country=line.name, line=line.line)}"

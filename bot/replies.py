"""Plain-text building blocks for replies: emotions with emoji and shares, catalog items, long-text limits."""

from __future__ import annotations

import random
from collections.abc import Sequence

from catalog import Item
from dialogs import Dialogs
from fer_engine import FaceResult

#: Telegram's limits, in characters (close enough to UTF-16 units for our texts).
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200


def emoji(dialogs: Dialogs, emotion: str) -> str:
    """The emoji of an emotion, taken from its display label ("😊 Happy" -> "😊")."""
    return dialogs.label(emotion).split(" ", 1)[0]


def emotion_word(dialogs: Dialogs, emotion: str) -> str:
    """An emotion's plain name in the dialogs' language, for inside a sentence ("happy", "alegría")."""
    return dialogs.text(f"names.{emotion}")


def percent(share: float) -> str:
    """A share as a whole percentage, e.g. 0.617 -> "62%"."""
    return f"{round(max(0.0, min(1.0, share)) * 100)}%"


def emotion_share(dialogs: Dialogs, emotion: str, share: float) -> str:
    """One emotion with emoji and share, e.g. "😊 happy 62%"."""
    return f"{emoji(dialogs, emotion)} {emotion_word(dialogs, emotion)} {percent(share)}"


def top_emotions(dialogs: Dialogs, face: FaceResult, k: int = 3) -> list[str]:
    """The face's k most likely emotions, one "😊 happy 62%" string each, most likely first."""
    return [emotion_share(dialogs, emotion, share) for emotion, share in face.top(k)]


def item_text(dialogs: Dialogs, item: Item, number: int) -> str:
    """One numbered catalog item: title, creator/year or minutes, and why."""
    body = dialogs.text(
        f"followups.item.{item.kind}",
        title=item.title,
        creator=item.creator or "",
        year=item.year or "",
        why=item.why,
        minutes=item.minutes or "",
        link=item.link or "",
    )
    if item.explicit:  # said before anyone presses play
        body = f"{body}\n{dialogs.text('followups.explicit')}"
    return f"{number}. {body}"


def items_text(
    dialogs: Dialogs,
    kind: str,
    items: Sequence[Item],
    *,
    supportive: bool = False,
    restarted: bool = False,
    rng: random.Random | None = None,
) -> str:
    """The message showing recommended items (header, numbered items, the 👍/👎 hint)."""
    parts = [dialogs.text("followups.supportive_intro" if supportive else f"followups.chosen.{kind}", rng=rng)]
    if restarted:
        parts.append(dialogs.text("followups.pool_restarted"))
    parts.extend(item_text(dialogs, item, n) for n, item in enumerate(items, start=1))
    parts.append(dialogs.text("followups.after_items", rng=rng))
    return clip("\n\n".join(parts), MAX_TEXT)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (Telegram rejects longer messages)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

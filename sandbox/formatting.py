"""Telegram text formatting checks: HTML and MarkdownV2 are validated like the real API and reduced to plain text."""

from __future__ import annotations

import html
import re

#: Tags the Bot API accepts with ``parse_mode=HTML``.
HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_TAG_NAME = re.compile(r"[^\s>]*")  # like tdlib: up to whitespace or ">"


class FormattingError(ValueError):
    """The text cannot be parsed with its parse_mode (the API's "can't parse entities")."""


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def check_html(text: str) -> None:
    """Raise :class:`FormattingError` where Telegram would reject HTML-formatted text."""
    stack: list[tuple[str, int]] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i] != "<":
            i += 1
            continue
        start = i
        if text.startswith("</", i):
            match = _TAG_NAME.match(text, i + 2)
            name = match.group(0).lower() if match else ""
            end = text.find(">", i)
            if end < 0:
                raise FormattingError(f"Unclosed end tag at byte offset {_offset(text, start)}")
            if not stack:
                raise FormattingError(f"Unexpected end tag at byte offset {_offset(text, start)}")
            expected = stack[-1][0]
            if name and name != expected:
                raise FormattingError(
                    f'Unmatched end tag at byte offset {_offset(text, start)}, expected "</{expected}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
            i = end + 1
            continue
        match = _TAG_NAME.match(text, i + 1)
        name = match.group(0).lower() if match else ""
        if name not in HTML_TAGS:
            raise FormattingError(f'Unsupported start tag "{name}" at byte offset {_offset(text, start)}')
        end = text.find(">", i)
        if end < 0:
            raise FormattingError(f"Unclosed start tag at byte offset {_offset(text, start)}")
        stack.append((name, start))
        i = end + 1
    if stack:
        raise FormattingError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')


def html_to_plain(text: str) -> str:
    """The text the user sees for HTML-formatted ``text`` (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^>]*)?>", "", text))


def check_markdown_v2(text: str) -> None:
    """Raise :class:`FormattingError` for unescaped reserved characters and unclosed entities in MarkdownV2."""
    i = 0
    n = len(text)
    open_marks: list[tuple[str, int]] = []
    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) < 127:
                i += 2
                continue
            i += 1
            continue
        if c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = i + len(fence)
            while True:
                end = text.find(fence, end)
                if end < 0:
                    kind = "pre" if fence == "```" else "code"
                    raise FormattingError(
                        f"Can't find end of {kind.capitalize()} entity at byte offset {_offset(text, i)}"
                    )
                if text[end - 1] != "\\":
                    break
                end += 1
            i = end + len(fence)
            continue
        if c == "[":
            open_marks.append(("[", i))
            i += 1
            continue
        if c == "]":
            if not open_marks or open_marks[-1][0] != "[":
                raise FormattingError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
            open_marks.pop()
            if text.startswith("(", i + 1):
                close = i + 2
                while close < n and text[close] != ")":
                    close += 2 if text[close] == "\\" else 1
                if close >= n:
                    raise FormattingError(f"Can't find end of a URL at byte offset {_offset(text, i + 1)}")
                i = close + 1
            else:
                i += 1
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote
            continue
        if c == "|" and text.startswith("||", i):
            mark = "||"
        elif c == "_" and text.startswith("__", i):
            mark = "__"
        elif c in "*_~":
            mark = c
        elif c in _MDV2_RESERVED:
            raise FormattingError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        else:
            i += 1
            continue
        if open_marks and open_marks[-1][0] == mark:
            open_marks.pop()
        else:
            open_marks.append((mark, i))
        i += len(mark)
    if open_marks:
        mark, at = open_marks[-1]
        names = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler", "[": "TextUrl"}
        raise FormattingError(f"Can't find end of {names.get(mark, mark)} entity at byte offset {_offset(text, at)}")


def markdown_to_plain(text: str) -> str:
    """The text the user sees for MarkdownV2/Markdown ``text`` (markup and escapes removed)."""
    text = re.sub(r"\[((?:\\.|[^\]\\])*)\]\((?:\\.|[^)\\])*\)", r"\1", text)
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c in "*_~`|":
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def validate_and_plain(text: str, parse_mode: str | None) -> str:
    """Check ``text`` against ``parse_mode`` (None/HTML/MarkdownV2/Markdown) and return the visible text."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text
    if mode == "html":
        check_html(text)
        return html_to_plain(text)
    if mode == "markdownv2":
        check_markdown_v2(text)
        return markdown_to_plain(text)
    if mode == "markdown":
        return markdown_to_plain(text)
    raise FormattingError(f"unsupported parse_mode {parse_mode!r}")

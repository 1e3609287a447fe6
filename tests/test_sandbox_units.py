"""Unit tests for the sandbox helpers (formatting checks, image sniffing) and ``python -m sandbox``."""

from __future__ import annotations

import asyncio
import json
import os
import struct
import sys
import urllib.request
from pathlib import Path

import pytest

from sandbox.formatting import FormattingError, check_html, check_markdown_v2, validate_and_plain
from sandbox.media import image_info

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("plain", "plain"),
        ("<b>bold</b> &amp; <i>it</i>", "bold & it"),
        ('<a href="https://example.org">link</a> &lt;3', "link <3"),
        ('<span class="tg-spoiler">s</span><pre><code class="language-py">x</code></pre>', "sx"),
    ],
)
def test_html_accepted(text: str, plain: str) -> None:
    assert validate_and_plain(text, "HTML") == plain


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("é<b", "Unclosed start tag at byte offset 2"),
    ],
)
def test_html_rejected(text: str, error: str) -> None:
    with pytest.raises(FormattingError) as exc:
        check_html(text)
    assert str(exc.value) == error


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("*bold* _it_ __under__ ~strike~ ||spoiler||", "bold it under strike spoiler"),
        ("Score: 5\\.0\\!", "Score: 5.0!"),
        ("[site](https://example.org/a_(b\\))", "site"),
        ("`code with . and !` ```\npre.!\n```", "code with . and ! \npre.!\n"),
        ("> quoted", "> quoted"),
    ],
)
def test_markdown_v2_accepted(text: str, plain: str) -> None:
    check_markdown_v2(text)
    assert validate_and_plain(text, "MarkdownV2") == plain


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Hello!", "Character '!' is reserved"),
        ("3.5 stars", "Character '.' is reserved"),
        ("a-b", "Character '-' is reserved"),
        ("(note)", "Character '(' is reserved"),
        ("*open", "Can't find end of Bold entity"),
        ("`open", "Can't find end of Code entity"),
    ],
)
def test_markdown_v2_rejected(text: str, error: str) -> None:
    with pytest.raises(FormattingError, match=error.replace("(", r"\(").replace(".", r"\.")):
        check_markdown_v2(text)


def test_unknown_parse_mode() -> None:
    with pytest.raises(FormattingError):
        validate_and_plain("x", "rtf")


def test_image_info() -> None:
    ihdr = struct.pack(">II", 640, 480) + b"\x08\x02\x00\x00\x00"
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
    assert image_info(png) == ("image/png", 640, 480)
    jpeg = (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", 16)
        + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\xff\xc0"
        + struct.pack(">HBHH", 17, 8, 200, 300)
        + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    )
    assert image_info(jpeg) == ("image/jpeg", 300, 200)
    assert image_info(b"GIF89a" + struct.pack("<HH", 10, 20)) == ("image/gif", 10, 20)
    assert image_info(b"not an image at all") is None
    assert image_info(b"\xff\xd8\xff") is None


async def test_python_m_sandbox_runs_standalone() -> None:
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        "0",
        "--token",
        "42:MAIN",
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = None
        while url is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), 15)).decode()
            assert line, "sandbox exited early"
            if "listening on " in line:
                url = line.split("listening on ", 1)[1].split()[0]

        def fetch() -> dict:
            with urllib.request.urlopen(f"{url}/bot42:MAIN/getMe", timeout=5) as resp:
                return json.load(resp)

        body = await asyncio.to_thread(fetch)
        assert body["ok"] is True and body["result"]["id"] == 42
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)

"""Small media helpers: image size sniffing (JPEG/PNG/GIF/WebP) without Pillow, MIME/extension guesses,
and the one way stored files are served."""

from __future__ import annotations

import mimetypes
import struct
from urllib.parse import quote

from aiohttp import web

#: Headers on every stored file: whoever uploaded it chose its bytes and its claimed type, so a
#: browser must never run it as a page of this origin (an uploaded text/html "photo" would be
#: stored XSS).  Images and media still load in <img>/<video>: these headers only stop navigation.
STORED_FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}

_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}

_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "audio/ogg": "oga",
    "text/csv": "csv",
    "application/pdf": "pdf",
}


def image_info(data: bytes) -> tuple[str, int, int] | None:
    """``(mime_type, width, height)`` of a JPEG, PNG, GIF or WebP image, or ``None`` if not recognised."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return "image/png", width, height
        if data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
            return "image/gif", width, height
        if data[:2] == b"\xff\xd8":
            size = _jpeg_size(data)
            return ("image/jpeg", *size) if size else None
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            size = _webp_size(data)
            return ("image/webp", *size) if size else None
    except (struct.error, IndexError):
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        i += 2
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue
        if marker == 0xD9:
            return None
        (seg_len,) = struct.unpack(">H", data[i : i + 2])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[i + 3 : i + 7])
            return width, height
        i += seg_len
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def guess_mime(file_name: str | None, declared: str | None = None, data: bytes = b"") -> str:
    """Best MIME type from the content (images), the declared type, or the file name."""
    info = image_info(data) if data else None
    if info:
        return info[0]
    if declared and declared != "application/octet-stream":
        return declared
    if file_name:
        guessed = mimetypes.guess_type(file_name, strict=False)[0]
        if guessed:
            return guessed
    return declared or "application/octet-stream"


def extension_for(mime_type: str, file_name: str | None = None) -> str:
    """A file extension (no dot) for a stored file."""
    if mime_type in _EXTENSIONS:
        return _EXTENSIONS[mime_type]
    if file_name and "." in file_name:
        ext = file_name.rsplit(".", 1)[1].lower()
        if ext.isalnum() and len(ext) <= 8:
            return ext
    guessed = mimetypes.guess_extension(mime_type or "", strict=False)
    return guessed.lstrip(".") if guessed else "bin"


def stored_file_response(data: bytes, mime_type: str, file_name: str | None = None) -> web.Response:
    """A stored file as a download (``attachment``), never rendered in place, with ``STORED_FILE_HEADERS``."""
    disposition = "attachment"
    if file_name:
        disposition += f"; filename*=UTF-8''{quote(file_name, safe='')}"
    return web.Response(
        body=data,
        content_type=mime_type,
        headers={**STORED_FILE_HEADERS, "Content-Disposition": disposition},
    )

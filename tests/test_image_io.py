"""Decoding: every kind of bad input gets a clear ImageError; good but unusual images decode."""

from __future__ import annotations

import io
import resource
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from fer_engine.errors import EmptyImage, ImageError, ImageTooLarge, UnreadableImage
from fer_engine.image_io import decode_image, read_image_file


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header declares width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def test_empty_file():
    with pytest.raises(EmptyImage, match="empty"):
        decode_image(b"")


@pytest.mark.parametrize("data", [b"not an image at all", b"\x00" * 5000, b"%PDF-1.4 hello"])
def test_unreadable_bytes(data):
    with pytest.raises(UnreadableImage, match="not an image format"):
        decode_image(data)


def test_truncated_jpeg(photos_dir):
    data = (photos_dir / "obama.jpg").read_bytes()
    with pytest.raises(UnreadableImage, match="truncated"):
        decode_image(data[: len(data) // 2])


def test_truncated_png(photos_dir):
    data = (photos_dir / "lin-manuel-miranda.png").read_bytes()
    with pytest.raises(UnreadableImage):
        decode_image(data[: len(data) // 3])


def test_decompression_bomb_is_refused_before_decoding():
    bomb = _png_declaring(40000, 40000)
    assert len(bomb) < 1000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageTooLarge, match="too many pixels"):
        decode_image(bomb)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100_000, "decoding the bomb must not allocate its pixels"


def test_file_over_byte_limit():
    with pytest.raises(ImageTooLarge, match="limit"):
        decode_image(b"\xff\xd8" + b"\0" * 2000, max_bytes=1000)


def test_error_messages_are_readable():
    with pytest.raises(ImageError) as info:
        decode_image(b"garbage")
    assert str(info.value)[0].isupper() and str(info.value).endswith(".")


def test_png_with_alpha_flattened_on_white(photos_dir):
    image = read_image_file(photos_dir / "32bit.png")
    assert image.shape == (1200, 626, 3) and image.dtype == np.uint8
    rgba = np.zeros((10, 10, 4), np.uint8)  # fully transparent black
    out = decode_image(_encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert (out == 255).all()


def test_sixteen_bit_png_scaled_to_eight_bits():
    ramp = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).astype(np.uint16)  # up to 65520
    out = decode_image(_encode(Image.fromarray(ramp), "PNG"))
    assert out.dtype == np.uint8 and out.shape == (64, 64, 3)
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] >= 250


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (40, 30), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    out = decode_image(data)
    assert out.shape == (30, 40, 3)
    assert out[0, 0, 2] > 200 and out[0, 0, 0] < 50  # red in BGR order


def test_webp_decodes():
    out = decode_image(_encode(Image.new("RGB", (32, 16), (0, 255, 0)), "WEBP"))
    assert out.shape == (16, 32, 3) and out[8, 16, 1] > 200


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_rotation_honoured(fmt):
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, :50] = 255  # white band on the left of the stored (landscape) pixels
    pil = Image.fromarray(image)
    exif = pil.getexif()
    exif[274] = 6  # "rotate 90 degrees clockwise to display"
    out = decode_image(_encode(pil, fmt, exif=exif))
    assert out.shape[:2] == (200, 100), "portrait after rotation"
    assert out[:40].mean() > 200 and out[-40:].mean() < 50, "the left band is now on top"


def test_bomb_under_pillows_own_limit_is_still_refused():
    # 9000 x 9000 = 81 Mpx: under Pillow's bomb threshold, over ours.
    with pytest.raises(ImageTooLarge, match="9000x9000"):
        decode_image(_png_declaring(9000, 9000))

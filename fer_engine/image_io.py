"""Safe image decoding: any common format in, an upright 8-bit BGR array out, memory bounded."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fer_engine.errors import EmptyImage, ImageTooLarge, UnreadableImage

log = logging.getLogger(__name__)

#: Largest encoded file accepted (bytes).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Largest decoded image accepted (pixels); checked from the header before any pixel is decoded.
MAX_PIXELS = 40_000_000
JPEG_END = b"\xff\xd9"
JPEG_END_SEARCH = 4096


def decode_image(data: bytes, *, max_bytes: int = MAX_FILE_BYTES, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode image bytes to an (H, W, 3) uint8 BGR array, rotated as its EXIF orientation says.

    Raises EmptyImage, ImageTooLarge or UnreadableImage (all ``ImageError``) with a readable message.
    Animated images give their first frame; transparency is flattened onto white; 16-bit and
    float images are scaled to 8 bits.
    """
    if not data:
        raise EmptyImage("The file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise ImageTooLarge(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooLarge(
                    f"The image declares {width}x{height} pixels; the limit is {max_pixels / 1e6:.0f} megapixels."
                )
            if image.format == "JPEG" and image.mode in ("RGB", "L"):
                return _decode_jpeg(data)
            image.load()
            image = ImageOps.exif_transpose(image)
            return _to_bgr(image)
    except ImageTooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge("The image declares too many pixels to decode safely (a decompression bomb?).") from exc
    except UnidentifiedImageError as exc:
        raise UnreadableImage("This is not an image format I can read (JPEG, PNG, WebP, GIF, BMP, TIFF).") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnreadableImage(f"The image file is damaged or truncated: {exc}.") from exc


def read_image_file(path: str | Path, **limits) -> np.ndarray:
    """Read and decode an image file (see ``decode_image``)."""
    path = Path(path)
    max_bytes = limits.get("max_bytes", MAX_FILE_BYTES)
    size = path.stat().st_size
    if size > max_bytes:
        raise ImageTooLarge(f"{path.name} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.")
    return decode_image(path.read_bytes(), **limits)


def _decode_jpeg(data: bytes) -> np.ndarray:
    """OpenCV's JPEG decoder: several times faster than Pillow's path, and it honours EXIF rotation.

    libjpeg fills a truncated file with grey and only warns, so the end-of-image marker is
    checked first (some cameras append a few bytes after it, hence the search near the end).
    """
    if JPEG_END not in data[-JPEG_END_SEARCH:]:
        raise UnreadableImage("The JPEG file is truncated (its end is missing); please send it again.")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableImage("The JPEG file is damaged and cannot be decoded.")
    return image


def _to_bgr(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max()
        scale = 255.0 / (65535.0 if top > 255 else 255.0)
        grey = np.clip(array * scale, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[..., ::-1])

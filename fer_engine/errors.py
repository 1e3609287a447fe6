"""Error types for input the engine cannot use; each carries a message fit to show a person."""

from __future__ import annotations


class ImageError(ValueError):
    """Base class: the image cannot be analysed.  ``str(error)`` is a readable explanation."""

    code = "image_error"


class EmptyImage(ImageError):
    code = "empty"


class UnreadableImage(ImageError):
    code = "unreadable"


class ImageTooLarge(ImageError):
    """The file or its declared pixel count is over the limit (this includes decompression bombs)."""

    code = "too_large"


class ModelNotFound(FileNotFoundError):
    """The trained model is missing (the repository ships one in ``weights/``)."""

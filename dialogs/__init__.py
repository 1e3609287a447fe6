"""The bot's texts, one YAML file per flow, checked at start-up against the table of texts the code sends."""

from dialogs.keys import TEXTS, Shape, TextSpec, qualify
from dialogs.loader import (
    OFFERS,
    Button,
    DialogError,
    Dialogs,
    EmotionFlow,
    Problem,
    load_dialogs,
)

__all__ = [
    "OFFERS",
    "TEXTS",
    "Button",
    "DialogError",
    "Dialogs",
    "EmotionFlow",
    "Problem",
    "Shape",
    "TextSpec",
    "load_dialogs",
    "qualify",
]

"""The bot's texts, one YAML file per flow, validated at start-up."""

from dialogs.loader import (
    OFFERS,
    PLACEHOLDERS,
    REQUIRED_KEYS,
    Button,
    DialogError,
    Dialogs,
    EmotionFlow,
    load_dialogs,
)

__all__ = [
    "OFFERS",
    "PLACEHOLDERS",
    "REQUIRED_KEYS",
    "Button",
    "DialogError",
    "Dialogs",
    "EmotionFlow",
    "load_dialogs",
]

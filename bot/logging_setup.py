"""Logging for the bot: one stream handler, secrets redacted from every line, chatty HTTP loggers quietened."""

from __future__ import annotations

import logging
from collections.abc import Iterable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Replaces each secret (the bot token, the webhook secret) with "[redacted]" in the formatted line.

    Applied to the whole line, exception text included: httpx and PTB errors can carry request URLs,
    and Telegram's URLs contain the token.
    """

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self._secrets:
            line = line.replace(secret, "[redacted]")
        return line


#: How PTB begins its report of a failed start-up call (setWebhook, deleteWebhook) before raising it.
BOOTSTRAP_FAILURE_PREFIX = "Network Retry Loop (Bootstrap"


class BootstrapFailureToDebug(logging.Filter):
    """Turns PTB's report of a failed start-up call (an ERROR with a traceback) into a DEBUG line.

    PTB raises the error after reporting it, and ``python -m bot`` reports that in one line naming
    the cause (``bot.app.UpdatesNotStarted``); a second ERROR with a traceback would bury it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.getMessage().startswith(BOOTSTRAP_FAILURE_PREFIX):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Set up the root logger once for the process."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(FORMAT, secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO (with the token in it); PTB's DEBUG lines include whole updates.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLevelName(level)))
    telegram_ext = logging.getLogger("telegram.ext")  # PTB's network loops log here
    if not any(isinstance(f, BootstrapFailureToDebug) for f in telegram_ext.filters):
        telegram_ext.addFilter(BootstrapFailureToDebug())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

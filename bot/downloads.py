"""Photo downloads from Telegram: bounded memory, one copy of the bytes, timeouts and retries that fit.

Telegram's file servers are slow under load (seconds, not milliseconds), and with a self-hosted Bot API
a file may be far larger than 20 MB; 64 updates in flight times the upload limit would be unbounded.
So every download first reserves its size from one shared ``ByteBudget`` and waits when it is spent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Document, PhotoSize

from bot.outgoing import retry_network_errors

log = logging.getLogger(__name__)

#: Seconds to wait for a file's bytes (PTB's default of 5 s times out under real Telegram load).
DOWNLOAD_READ_TIMEOUT = 30.0
DOWNLOAD_CONNECT_TIMEOUT = 10.0
#: Pauses before the second and third try of a download that failed on the network.
DOWNLOAD_RETRY_DELAYS = (1.0, 3.0)


class ByteBudget:
    """At most ``limit`` bytes reserved at once; ``reserve(n)`` waits until ``n`` more fit."""

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError("the byte budget must be positive")
        self.limit = limit
        self.reserved = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def reserve(self, size: int) -> AsyncIterator[None]:
        """Hold ``size`` bytes (at most the whole budget) for the duration of the block."""
        size = min(max(size, 0), self.limit)
        async with self._changed:
            await self._changed.wait_for(lambda: self.reserved + size <= self.limit)
            self.reserved += size
        try:
            yield
        finally:
            async with self._changed:
                self.reserved -= size
                self._changed.notify_all()


class _KeepBytes:
    """A write-only "file" that keeps the bytes object it is given: no copy into a buffer."""

    data: bytes = b""

    def write(self, data: bytes) -> int:
        self.data = data
        return len(data)


async def download(media: PhotoSize | Document) -> bytes:
    """The file's bytes (one copy in memory), retrying network failures; BadRequest (e.g. too big) is raised."""

    async def once() -> bytes:
        telegram_file = await media.get_file()
        out = _KeepBytes()
        await telegram_file.download_to_memory(
            out,  # type: ignore[arg-type]  # only write() is called
            read_timeout=DOWNLOAD_READ_TIMEOUT,
            connect_timeout=DOWNLOAD_CONNECT_TIMEOUT,
        )
        return out.data

    return await retry_network_errors(once, DOWNLOAD_RETRY_DELAYS, "download")

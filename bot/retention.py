"""How long check-ins are kept: "retention_days" in a person's settings (absent = forever).

Older check-ins, and the recommendations they led to, are deleted at start-up, once a day, and right after the
person changes the setting. The clock is ``Services.clock``, so tests move it instead of waiting.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot.services import Services

log = logging.getLogger(__name__)

#: The settings key (see the settings contract): days to keep check-ins; absent = forever.
SETTING = "retention_days"
#: How often the sweep over everyone runs.
SWEEP_EVERY = timedelta(days=1)


def days_of(settings: dict[str, Any]) -> int | None:
    """The person's retention in days, or None for forever (or an unreadable value: keeping is the safe side)."""
    days = settings.get(SETTING)
    return days if isinstance(days, int) and not isinstance(days, bool) and days > 0 else None


async def apply(services: Services, user_id: int) -> int:
    """Delete one person's check-ins older than their retention; returns how many were deleted."""
    days = days_of(await services.store.settings(user_id))
    if days is None:
        return 0
    return await services.store.delete_older_than(user_id, services.clock() - timedelta(days=days))


async def sweep(services: Services) -> int:
    """Apply everyone's retention; returns the number of check-ins deleted."""
    now = services.clock()
    deleted = 0
    for user_id, settings in (await services.store.people_with_setting(SETTING)).items():
        if (days := days_of(settings)) is not None:
            deleted += await services.store.delete_older_than(user_id, now - timedelta(days=days))
    log.info("retention sweep: %d old check-ins deleted", deleted)
    return deleted

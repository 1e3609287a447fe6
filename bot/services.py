"""The long-lived objects every handler shares, and how handlers reach them through PTB's ``bot_data``."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram import User

from bot.callback_data import ButtonCodec
from bot.config import Settings
from bot.downloads import ByteBudget
from bot.languages import language_of, remember_telegram_language
from bot.rate_limit import RateLimiter
from catalog import Catalog, load_catalog
from dialogs import Dialogs
from dialogs.i18n import Texts, load_texts
from fer_engine import Analyzer
from fer_engine.faces import DetectorSettings
from storage import Store, open_store
from storage.limits import RateLimits
from storage.store import utc_now

if TYPE_CHECKING:  # bot.reminders needs Services itself
    from bot.reminders import ReminderScheduler

log = logging.getLogger(__name__)

CHARTS_PER_MINUTE = 6
#: Button presses per person and minute (a person taps a few; a script taps hundreds).
BUTTONS_PER_MINUTE = 40
#: /export builds a file of everything: a few a minute is plenty.
EXPORTS_PER_MINUTE = 3
#: Bytes of photos being downloaded or read at once, as a number of maximum-size uploads.
DOWNLOAD_BUDGET_UPLOADS = 4
SETTINGS_KEY = "moodlens.settings"
SERVICES_KEY = "moodlens.services"


@dataclass
class Services:
    """Shared, thread-safe (analyzer) or event-loop-only (the rest) helpers; owned by whoever created them."""

    analyzer: Analyzer
    store: Store
    catalog: Catalog
    dialogs: Dialogs
    executor: ThreadPoolExecutor
    #: Photos per person (the limits live in the database, shared by every worker: bot.rate_limit).
    limiter: RateLimiter
    codec: ButtonCodec
    #: Bounds the photo bytes held in memory across everyone's downloads (see bot.downloads).
    downloads: ByteBudget
    #: /history renders a chart (~100 ms of CPU each): a flood of them must not hog the cores either.
    chart_limiter: RateLimiter
    button_limiter: RateLimiter
    export_limiter: RateLimiter
    rng: random.Random = field(default_factory=random.Random)
    #: "Now" for local days, reminders and retention; tests move it instead of waiting.
    clock: Callable[[], datetime] = utc_now
    #: Daily reminders (bot.reminders), attached by build_application.
    reminders: ReminderScheduler | None = None

    #: Every language's dialogs (dialogs.i18n); ``dialogs`` is their English set, for what has no person to answer.
    texts: Texts | None = None

    async def dialogs_for(self, user: User | None) -> Dialogs:
        """The dialogs in the person's language (bot.languages.language_of); English without a person."""
        if user is None or self.texts is None:
            return self.dialogs
        settings = await self.store.settings(user.id)
        await remember_telegram_language(self.store, user.id, settings, user.language_code)
        return self.dialogs_in(settings, user.language_code)

    def dialogs_in(self, settings: Mapping[str, Any], telegram_code: str | None = None) -> Dialogs:
        """The dialogs for settings already read; without an update (a scheduled message) only the setting counts."""
        if self.texts is None:
            return self.dialogs
        return self.texts.for_language(language_of(settings, telegram_code))


async def open_services(settings: Settings, *, analyzer: Analyzer | None = None) -> Services:
    """Load the model, catalog and dialogs, open the database and start the recognition pool."""
    analyzer = analyzer or Analyzer(settings.fer_model_dir, detector=DetectorSettings(backend=settings.face_detector))
    catalog = load_catalog()
    texts = load_texts()  # every language, checked now: a broken translation stops start-up, a gap is a warning
    store = await open_store(settings.database)
    limits = RateLimits(store.database)
    return Services(
        analyzer=analyzer,
        store=store,
        catalog=catalog,
        dialogs=texts.english,
        texts=texts,
        executor=ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="recognition"),
        limiter=RateLimiter(limits, "photos", settings.photos_per_minute, settings.photos_in_flight),
        codec=ButtonCodec(settings.button_secret),
        downloads=ByteBudget(DOWNLOAD_BUDGET_UPLOADS * settings.max_upload_bytes),
        chart_limiter=RateLimiter(limits, "charts", CHARTS_PER_MINUTE, 1),
        button_limiter=RateLimiter(limits, "buttons", BUTTONS_PER_MINUTE, 1),
        export_limiter=RateLimiter(limits, "exports", EXPORTS_PER_MINUTE, 1),
    )


async def close_services(services: Services) -> None:
    """Finish running recognitions and close the database."""
    services.executor.shutdown(wait=True, cancel_futures=True)
    await services.store.close()


def settings_of(context: Any) -> Settings:
    """The Settings stored in the application's bot_data."""
    return context.application.bot_data[SETTINGS_KEY]


def services_of(context: Any) -> Services:
    """The Services stored in the application's bot_data."""
    return context.application.bot_data[SERVICES_KEY]

"""Builds the python-telegram-bot Application: handlers, the command menu, the error handler."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, LinkPreviewOptions, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import retention, weekly_summary
from bot.config import SANDBOX_TOKEN, Settings
from bot.handlers import awaiting, buttons, commands, data_rights, history, moods, photos, time_zone
from bot.handlers import reminders as remind_command
from bot.handlers import settings as settings_menu
from bot.handlers.groups import on_group_message
from bot.outgoing import RetryingRateLimiter
from bot.polling import TrackingApplication
from bot.reminders import TICK, ReminderScheduler
from bot.services import SERVICES_KEY, SETTINGS_KEY, Services
from bot.webhook_server import WebhookServer
from dialogs import Dialogs
from dialogs.i18n import ENGLISH

__all__ = [
    "COMMANDS", "Services", "UpdatesNotStarted", "build_application", "polling", "register_webhook", "running",
    "webhook",
]  # fmt: skip

log = logging.getLogger(__name__)

#: The command menu, in order; descriptions come from dialogs (common.commands.*).
COMMANDS = ("start", "help", "privacy", "mood", "history", "remind", "settings", "export", "forget")
#: Updates handled at once; recognition itself is bounded by the worker pool and the per-person limits.
CONCURRENT_UPDATES = 64


def build_application(settings: Settings, services: Services) -> Application:
    """The Application with every handler registered; the caller runs it (polling or webhook) and owns services."""
    builder = (
        ApplicationBuilder()
        .application_class(TrackingApplication)
        .token(settings.token or SANDBOX_TOKEN)
        .concurrent_updates(CONCURRENT_UPDATES)
        .rate_limiter(RetryingRateLimiter())
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
    )
    if settings.api_base_url:
        builder = builder.base_url(settings.api_base_url)
        builder = builder.base_file_url(settings.file_base_url or _file_url_for(settings.api_base_url))
    app = builder.build()
    app.bot_data[SETTINGS_KEY] = settings
    app.bot_data[SERVICES_KEY] = services
    services.reminders = ReminderScheduler(services)
    _add_handlers(app)
    app.add_error_handler(on_error)
    return app


UpdateSource = Callable[[Application], Awaitable[object]]


class UpdatesNotStarted(Exception):
    """The update source (polling or the webhook) could not start; the message names the cause."""


def polling(timeout: int = 10) -> UpdateSource:
    """Long polling as the update source (``timeout``: seconds each getUpdates may wait).

    Updates are confirmed to Telegram only once handled (bot.polling): a crash loses none.
    """

    async def start(app: Application) -> None:
        try:
            if isinstance(app, TrackingApplication):  # what build_application makes
                await app.start_confirmed_polling(timeout)
            else:  # any other PTB Application (test stand-ins): PTB's own poller
                assert app.updater is not None
                await app.updater.start_polling(poll_interval=0.0, timeout=timeout)
        except TelegramError as exc:  # the deleteWebhook call polling begins with
            raise UpdatesNotStarted(f"polling could not begin, deleteWebhook failed: {exc}") from exc

    return start


def webhook(listen: str, port: int, url: str, secret_token: str | None, *, register: bool = True) -> UpdateSource:
    """A webhook server on ``listen:port`` as the update source, registered with Telegram as ``url``.

    The bot's own server (bot.webhook_server) answers Telegram once an update is handled and serves
    ``/healthz``; the port is bound before the URL is registered, so a busy port registers nothing.
    ``register=False``: one of several workers behind a proxy, which only serves; the URL and the shared
    secret are registered once, elsewhere (``python -m bot set-webhook``), not by each worker.
    """
    where = f"[{listen}]:{port}" if ":" in listen else f"{listen}:{port}"

    async def start(app: Application) -> None:
        if isinstance(app, TrackingApplication):  # what build_application makes
            server = WebhookServer(app, urlsplit(url).path, secret_token)
            try:
                await server.start(listen, port)
            except OSError as exc:  # the errno's own words: aiohttp wraps them in a longer sentence
                reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
                raise UpdatesNotStarted(f"could not start the webhook on {where}: {reason}") from exc
            app.webhook_server = server
            if register:
                await register_webhook(app.bot, url, secret_token)
            return
        assert app.updater is not None  # any other PTB Application: PTB's own webhook server
        try:
            await app.updater.start_webhook(
                listen=listen,
                port=port,
                url_path=urlsplit(url).path.lstrip("/"),
                webhook_url=url,
                secret_token=secret_token,
            )
        except TelegramError as exc:  # setWebhook: refused, or Telegram unreachable
            raise UpdatesNotStarted(f"could not register the webhook {url} with Telegram: {exc}") from exc
        except OSError as exc:  # binding the server: the port is taken, the address is not this machine's
            reason = (exc.strerror or str(exc)).lower()
            raise UpdatesNotStarted(f"could not start the webhook on {where}: {reason}") from exc

    return start


async def register_webhook(bot: Bot, url: str, secret_token: str | None) -> None:
    """setWebhook for every update type; UpdatesNotStarted (naming the cause) when Telegram refuses it.

    Pending updates are kept: whatever arrived while no worker served is delivered now.
    """
    try:
        await bot.set_webhook(url, secret_token=secret_token, allowed_updates=Update.ALL_TYPES)
    except TelegramError as exc:
        raise UpdatesNotStarted(f"could not register the webhook {url} with Telegram: {exc}") from exc


@asynccontextmanager
async def running(app: Application, start_updates: UpdateSource) -> AsyncIterator[Application]:
    """What ``Application.run_polling``/``run_webhook`` do, for callers that own the event loop.

    Initialise, set the command menu (post_init), start the handlers and the update source; on exit,
    or when the update source fails to start, stop whatever started.  Used by ``python -m bot``
    (which shares its loop with the sandbox), tests and benchmarks.
    """
    async with app:  # shuts the app down on the way out, which it refuses while the app still runs
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            await start_updates(app)
            yield app
        finally:
            await _stop(app)


async def _stop(app: Application) -> None:
    """Stop the update source and the handlers, each only if running (stopping either twice raises).

    Either one left running would make ``shutdown`` raise "This Application is still running!",
    which hides the error that got us here.
    """
    try:
        if isinstance(app, TrackingApplication):
            await app.stop_confirmed_polling()
            if app.webhook_server is not None:
                await app.webhook_server.stop()
                app.webhook_server = None
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
    finally:
        if app.running:
            await app.stop()


def _file_url_for(api_base_url: str) -> str:
    """Telegram's layout: ``.../bot`` for methods, ``.../file/bot`` for downloads."""
    head, sep, _ = api_base_url.rpartition("/bot")
    return f"{head}/file/bot" if sep else f"{api_base_url}/file"


async def drop_forged(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop an update whose private chat is not its sender's own: Telegram never sends one.

    A private chat's id is the person's user id.  An update claiming one person as sender in
    another person's chat is forged (``/export`` would send the sender's data into that chat).
    """
    chat, user = update.effective_chat, update.effective_user
    if chat is not None and user is not None and chat.type == ChatType.PRIVATE and chat.id != user.id:
        log.warning("dropped update %s: its private chat is not the sender's", update.update_id)
        raise ApplicationHandlerStop


def _add_handlers(app: Application) -> None:
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    # Group -3 runs before everything: forged updates stop here.
    app.add_handler(TypeHandler(Update, drop_forged), -3)
    # Then a private text answering an open question (a typed time zone, time or note); others pass through.
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, awaiting.on_text), awaiting.HANDLER_GROUP)
    # Group -1 runs first: anything outside a private chat is answered (when addressed) and stops there.
    app.add_handler(MessageHandler(~filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, on_group_message), -1)

    for command, key in commands.TEXT_COMMANDS.items():
        app.add_handler(CommandHandler(command, commands.reply_with(key), filters=private))
    for command, key in commands.CONSENT_COMMANDS.items():
        app.add_handler(CommandHandler(command, commands.reply_with_consent_choice(key), filters=private))
    app.add_handler(CommandHandler("history", history.on_history, filters=private))
    app.add_handler(CommandHandler("timezone", time_zone.on_timezone_command, filters=private))
    app.add_handler(CommandHandler("settings", settings_menu.on_settings, filters=private))
    app.add_handler(CommandHandler("remind", remind_command.on_remind, filters=private))
    app.add_handler(MessageHandler(private & filters.LOCATION, time_zone.on_location))
    app.add_handler(CommandHandler("mood", moods.on_mood, filters=private))
    app.add_handler(CommandHandler("export", data_rights.on_export, filters=private))
    app.add_handler(CommandHandler("forget", data_rights.on_forget, filters=private))
    app.add_handler(MessageHandler(private & filters.COMMAND, commands.reply_with("unknown_command")))
    app.add_handler(MessageHandler(private & filters.PHOTO, photos.on_photo))
    # Animations arrive with a `document` too, so they must be caught before documents.
    moving = filters.VIDEO | filters.VIDEO_NOTE | filters.ANIMATION
    app.add_handler(MessageHandler(private & moving, commands.reply_with("video")))
    app.add_handler(MessageHandler(private & filters.Sticker.ALL, commands.reply_with("sticker")))
    app.add_handler(MessageHandler(private & (filters.VOICE | filters.AUDIO), commands.reply_with("voice")))
    app.add_handler(MessageHandler(private & filters.Document.ALL, photos.on_document))
    app.add_handler(MessageHandler(private, commands.reply_with("free_text")))  # text and anything else
    app.add_handler(CallbackQueryHandler(buttons.on_button))


async def _post_init(app: Application) -> None:
    """Set the command menu (setMyCommands) from the dialog texts; schedule reminders and the retention sweep."""
    services: Services = app.bot_data[SERVICES_KEY]
    await _start_daily_jobs(app, services)
    # One menu per language (Telegram shows the one for the person's app language): English is the default list.
    languages = services.texts.by_language if services.texts is not None else {ENGLISH: services.dialogs}
    for code, dialogs in languages.items():
        menu = [BotCommand(name, dialogs.text(f"commands.{name}")) for name in COMMANDS]
        try:
            await app.bot.set_my_commands(menu, language_code=None if code == ENGLISH else code)
        except TelegramError as exc:  # the menu is a convenience; the bot works without it
            log.warning("could not set the command menu (%s): %s", code, exc)


async def _start_daily_jobs(app: Application, services: Services) -> None:
    """Rebuild the reminders from the database and apply retention now; then tick both, and the weekly
    summaries, on PTB's JobQueue."""
    assert services.reminders is not None
    await services.reminders.rebuild()
    await retention.sweep(services)
    if app.job_queue is None:  # python-telegram-bot without its job-queue extra
        log.warning("no JobQueue: reminders and the daily retention sweep will not run")
        return
    reminders = services.reminders

    async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
        await reminders.run_due(context.bot)

    async def sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
        await retention.sweep(services)

    app.job_queue.run_repeating(tick, interval=TICK, name="reminders")
    app.job_queue.run_repeating(sweep, interval=retention.SWEEP_EVERY, name="retention")

    async def weekly(context: ContextTypes.DEFAULT_TYPE) -> None:
        await weekly_summary.send_due(services, context.bot)

    app.job_queue.run_repeating(weekly, interval=weekly_summary.TICK, name="weekly_summary")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error (never the update's content) and tell the person something went wrong, if possible."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("a person has blocked the bot; reply dropped")
        return
    if update is None and isinstance(error, NetworkError):
        log.warning("network problem talking to Telegram: %s", error)
        return
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=error)
    if not isinstance(update, Update):
        return
    services: Services | None = context.application.bot_data.get(SERVICES_KEY)
    dialogs = await _error_dialogs(services, update) if services else None
    text = dialogs.text("error") if dialogs else "Sorry, something went wrong."
    try:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(text)
                return
            except TelegramError:
                pass  # already answered: fall through to a message
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            await context.bot.send_message(chat.id, text)
    except TelegramError as exc:
        log.warning("could not send the error reply: %s", exc)


async def _error_dialogs(services: Services, update: Update) -> Dialogs:
    """The person's language for the error reply; English when even that fails (the database may be the error)."""
    try:
        return await services.dialogs_for(update.effective_user)
    except Exception:  # reporting one error must not raise another
        log.warning("no language for the error reply; English it is", exc_info=True)
        return services.dialogs

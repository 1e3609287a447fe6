"""``python -m bot``: run MoodLens against Telegram (with a token) or the local sandbox (without one).

``python -m bot set-webhook`` registers WEBHOOK_URL and WEBHOOK_SECRET_TOKEN with Telegram once and exits:
for several webhook workers behind one proxy, each started with WEBHOOK_REGISTER=0.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys

from telegram import Bot
from telegram.error import InvalidToken

from bot.app import UpdatesNotStarted, UpdateSource, build_application, polling, register_webhook, running, webhook
from bot.config import SANDBOX_TOKEN, Settings, SettingsError, load_settings
from bot.logging_setup import configure_logging
from bot.services import close_services, open_services
from fer_engine import ModelNotFound

log = logging.getLogger("bot")

USAGE = "usage: python -m bot [set-webhook]"


def sandbox_banner(url: str) -> str:
    """What a person sees when the bot runs against the local sandbox: where it is and how to talk to it."""
    return "\n".join(
        [
            f"MoodLens is running against the local Telegram sandbox at {url} (no TELEGRAM_BOT_TOKEN set).",
            f"Chat with it in a browser: {url}/",
            "Or talk to it through the sandbox control API, for example:",
            f"  curl -s {url}/sandbox/send_message -H 'Content-Type: application/json' "
            """-d '{"user_id": 1, "text": "/start"}'""",
            f"  curl -s {url}/sandbox/send_photo -F user_id=1 -F file=@selfie.jpg",
            f"  curl -s '{url}/sandbox/chats/1/messages'",
            f"Press a button: POST {url}/sandbox/press_button with user_id, message_id and callback_data.",
            "Press Ctrl+C to stop.",
        ]
    )


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM); the sandbox, if any, shares this event loop."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    services = await open_services(settings)
    server = None
    try:
        if settings.sandbox:
            from sandbox import start_server  # only needed without a token

            server = await start_server(settings.sandbox_host, settings.sandbox_port, token=SANDBOX_TOKEN)
            settings = dataclasses.replace(settings, api_base_url=server.base_url, file_base_url=server.base_file_url)
        app = build_application(settings, services)
        async with running(app, _update_source(settings)):
            how = (
                f"webhook on {settings.webhook_listen}:{settings.webhook_port}"
                if settings.mode == "webhook"
                else "polling"
            )
            if settings.mode == "webhook" and not settings.webhook_register:
                how += ", registered elsewhere"
            log.info("MoodLens is running as @%s (%s)", app.bot.username, how)
            if server is not None:
                print(sandbox_banner(server.url), flush=True)
            await stop.wait()
            log.info("stopping")
    finally:
        await close_services(services)
        if server is not None:
            await server.stop()


def _update_source(settings: Settings) -> UpdateSource:
    """Long polling by default; a webhook server when BOT_MODE=webhook."""
    if settings.mode != "webhook":
        return polling()
    assert settings.webhook_url is not None
    return webhook(
        settings.webhook_listen,
        settings.webhook_port,
        settings.webhook_url,
        settings.webhook_secret_token,
        register=settings.webhook_register,
    )


async def set_webhook(settings: Settings) -> None:
    """Register the webhook once (the workers behind the proxy only serve it) and log where updates go."""
    assert settings.token is not None and settings.webhook_url is not None
    urls = {"base_url": settings.api_base_url, "base_file_url": settings.file_base_url}
    async with Bot(settings.token, **{k: v for k, v in urls.items() if v}) as bot:
        await register_webhook(bot, settings.webhook_url, settings.webhook_secret_token)
        log.info("webhook registered: Telegram now posts updates for @%s to %s", bot.username, settings.webhook_url)


def main(argv: list[str] | None = None) -> int:
    """Entry point: load settings, set up logging, serve (or register the webhook); returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["set-webhook"]):
        print(USAGE, file=sys.stderr)
        return 2
    registering = argv == ["set-webhook"]
    # set-webhook is checked like a worker behind the proxy: a token, the URL and the shared secret.
    env = {**os.environ, "BOT_MODE": "webhook", "WEBHOOK_REGISTER": "0"} if registering else None
    try:
        settings = load_settings(env)
    except SettingsError as exc:
        print(f"moodlens: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, [s for s in (settings.token, settings.webhook_secret_token) if s])
    try:
        asyncio.run(set_webhook(settings) if registering else serve(settings))
    except ModelNotFound as exc:
        log.error("%s (or set FER_MODEL_DIR to a folder with fer_cnn.tflite)", exc)
        return 1
    except KeyboardInterrupt:
        pass
    except InvalidToken:
        log.error("MoodLens could not start: Telegram refused TELEGRAM_BOT_TOKEN (check it with @BotFather)")
        return 1
    except UpdatesNotStarted as exc:
        # The message names the cause; the traceback adds nothing for whoever runs the bot.
        log.error("MoodLens could not start: %s", exc)
        log.debug("start-up failure in detail", exc_info=exc)
        return 1
    except Exception as exc:  # the last stop: through the redacting log, never a raw traceback
        # PTB's errors carry request URLs and the token; an uncaught traceback would print them unredacted.
        log.error("MoodLens could not start or stopped unexpectedly: %s", exc, exc_info=exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

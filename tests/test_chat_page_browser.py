"""The chat page in real headless Chromium against the sandbox and the REAL bot (python-telegram-bot Application).

Needs the ``playwright`` Python package (its driver only: never ``playwright install``) and Debian's ``chromium``
at /usr/bin/chromium (or CHROMIUM_PATH).  Without them the tests skip, except when CI is set: then they fail.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.app import polling, running
from fer_engine.datasets import data_dir
from sandbox import RunningServer, start_server

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A fake webcam, so the selfie button can be tested too.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
SELFIE = data_dir() / "photos" / "obama.jpg"
#: The README's picture; rewritten only on request (UPDATE_SCREENSHOT=1), so test runs leave the tree clean.
README_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "chat-page.png"
VIEWPORT = {"width": 900, "height": 1000}
TIMEOUT_MS = 20_000
ME = 424242


def _missing_requirement() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the Python package 'playwright' is not installed (pip install playwright; no 'playwright install')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)"
    return None


@pytest.fixture(scope="module")
def browser_requirements() -> None:
    missing = _missing_requirement()
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the chat page browser test must run in CI, but {missing}", pytrace=False)
    pytest.skip(f"chat page browser test skipped: {missing} (with CI set this fails)")


@pytest.fixture
async def browser(browser_requirements: None) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def real_bot(browser_requirements: None, tmp_path: Path) -> AsyncIterator[RunningServer]:
    """The sandbox on a free port with the real MoodLens Application polling it."""
    from bot.app import build_application
    from bot.config import load_settings
    from bot.services import close_services, open_services

    server = await start_server("127.0.0.1", 0)
    env = {
        "SANDBOX_DB_PATH": str(tmp_path / "moodlens.db"),
        "TELEGRAM_API_BASE_URL": server.base_url,
        "TELEGRAM_FILE_BASE_URL": server.base_file_url,
        "LOG_LEVEL": "WARNING",
    }
    if os.environ.get("FER_MODEL_DIR"):
        env["FER_MODEL_DIR"] = os.environ["FER_MODEL_DIR"]
    settings = load_settings(env, env_file=None)
    services = await open_services(settings)
    try:
        async with running(build_application(settings, services), polling(timeout=1)):
            yield server
    finally:
        await close_services(services)
        await server.stop()


# -- a tiny stand-in bot, only for page mechanics the real bot does not show on demand -------------------------


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    await message.chat.send_action(ChatAction.TYPING)
    await asyncio.sleep(0.3)
    if message.photo:
        await message.reply_text(f"photo {message.photo[-1].width}x{message.photo[-1].height}")
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Edit me", callback_data="edit"),
                InlineKeyboardButton("Alert", callback_data="alert"),
            ],
            [InlineKeyboardButton("Docs", url="https://example.org/docs")],
        ]
    )
    await message.reply_text(f"<b>echo</b>: {message.text} <script>x</script>", reply_markup=keyboard)


async def _edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if query.data == "alert":
        await query.answer("Careful!", show_alert=True)
        return
    await query.answer("Saved!")
    await query.edit_message_text("edited <i>in place</i>", parse_mode="HTML")


@pytest.fixture
async def echo_bot(browser_requirements: None) -> AsyncIterator[RunningServer]:
    server = await start_server("127.0.0.1", 0, max_upload_bytes=200_000)
    app = ApplicationBuilder().token(server.token).base_url(server.base_url).base_file_url(server.base_file_url).build()
    app.add_handler(MessageHandler(filters.ALL, _echo))
    app.add_handler(CallbackQueryHandler(_edit))
    try:
        async with running(app, polling(timeout=1)):
            yield server
    finally:
        await server.stop()


# -- page helpers ------------------------------------------------------------------------------------------------


async def open_chat(
    browser: Any,
    server: RunningServer,
    errors: list[str],
    *,
    name: str | None = None,
    user_id: int | None = None,
    locale: str = "en-GB",
) -> Any:
    """A fresh tab on the chat page (script errors go to ``errors``), switched to ``name``/``user_id`` if given."""
    context = await browser.new_context(viewport=VIEWPORT, locale=locale, timezone_id="Europe/London")
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "413" not in msg.text else None)
    await page.goto(server.url + "/")
    await page.locator("body[data-feed=ws]").wait_for()
    if user_id is not None:
        await page.fill("#who-id", str(user_id))
        if name is not None:
            await page.fill("#who-name", name)
        await page.click("#who-apply")
        await page.locator("#empty").wait_for()
        await page.locator("body[data-feed=ws]").wait_for()
    return page


async def send_text(page: Any, text: str) -> None:
    await page.fill("#composer-input", text)
    await page.press("#composer-input", "Enter")


def bot_messages(page: Any) -> Any:
    return page.locator("#log li.msg.bot")


async def wait_count(locator: Any, at_least: int, timeout_s: float = TIMEOUT_MS / 1000) -> int:
    """Wait until ``locator`` matches at least ``at_least`` elements."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (count := await locator.count()) < at_least:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"expected at least {at_least} of {locator}, found {count}")
        await asyncio.sleep(0.1)
    return count


async def image_loaded(img: Any) -> int:
    """The naturalWidth of an <img> once it has loaded."""
    for _ in range(100):
        width = await img.evaluate("el => el.complete ? el.naturalWidth : -1")
        if width >= 0:
            return width
        await asyncio.sleep(0.1)
    raise AssertionError("image never finished loading")


# -- tests ---------------------------------------------------------------------------------------------------------


async def test_real_conversation_selfie_movies_history(real_bot: RunningServer, browser: Any, tmp_path: Path) -> None:
    from dialogs import load_dialogs
    from fer_engine import EMOTIONS

    dialogs = load_dialogs()
    errors: list[str] = []
    page = await open_chat(browser, real_bot, errors, name="Alex", user_id=ME)

    # The bot's command menu (setMyCommands) is the "/" button; /start from it.
    await page.locator("#menu-button").wait_for(state="visible")
    await page.click("#menu-button")
    await page.locator("#command-menu .menu-item:has(.menu-cmd:text-is('/start'))").click()
    await wait_count(bot_messages(page), 1)
    assert "/start" in await page.locator("#log li.msg.user").first.inner_text()
    # The welcome asks before anything is kept: agree with its button.
    await page.locator("#log li.msg.bot .kb-btn", has_text=dialogs.text("consent.keep_label")).click()
    await wait_count(bot_messages(page), 2)

    # A selfie through the file input: the user's photo shows inline, the reading names the emotions.
    await page.set_input_files("#file-input", str(SELFIE))
    user_photo = page.locator("#log li.msg.user .photo img")
    await user_photo.wait_for()
    assert await image_loaded(user_photo) > 0
    offer_button = page.locator("#log li.msg.bot .kb-btn", has_text=re.compile("Movies|Songs|Books|Activities"))
    await offer_button.first.wait_for()
    reading = (await page.locator("#log li.msg.bot").nth(2).inner_text()).lower()
    assert "%" in reading and any(emotion in reading for emotion in EMOTIONS), reading

    # A category button: 3-5 recommendations with 👍/👎 buttons.
    movies = page.locator("#log li.msg.bot .kb-btn", has_text="Movies")
    await (movies.first if await movies.count() else offer_button.first).click()
    like = page.locator("#log li.msg.bot .kb-btn", has_text=dialogs.text("like_label"))
    await like.first.wait_for()
    assert 3 <= await like.count() <= 5

    # /history typed into the box: a chart photo from the bot.
    bot_photos = page.locator("#log li.msg.bot .photo img")
    before = await bot_photos.count()
    await send_text(page, "/history")
    await wait_count(bot_photos, before + 1)
    chart = bot_photos.nth(before)
    assert await image_loaded(chart) > 0
    assert "history" in (await page.locator("#log li.msg.user").last.inner_text())

    # A README screenshot of the real conversation (the selfie, the reading and the offer in view).
    await page.locator("#log li.msg.user .photo").first.scroll_into_view_if_needed()
    await page.evaluate(
        """() => {
            const scroller = document.getElementById('chat-scroll');
            const first = document.querySelector('#log li.msg.user .photo').closest('li');
            scroller.scrollTop = first.offsetTop - 12;
        }"""
    )
    await page.mouse.move(0, 0)
    await page.evaluate("() => document.activeElement && document.activeElement.blur()")
    await page.locator("#toast").wait_for(state="hidden")
    await asyncio.sleep(0.2)
    screenshot = README_SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / "chat-page.png"
    await page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 20_000

    # /export: the CSV document (the JSON one follows it) is a download link to this origin.
    await send_text(page, "/export")
    doc = page.locator("#log li.msg.bot a.doc").first
    await doc.wait_for()
    assert (await doc.get_attribute("download") or "").endswith(".csv")
    href = await doc.get_attribute("href")
    assert href and href.startswith("/sandbox/files/")
    download = await page.request.get(real_bot.url + href)
    assert download.ok and "csv" in download.headers["content-type"]
    assert not errors, errors


async def test_the_browser_language_is_the_persons_language(real_bot: RunningServer, browser: Any) -> None:
    """The page sends the browser's language as Telegram sends the app's: a Spanish browser gets Spanish."""
    from dialogs.i18n import load_texts

    spanish = load_texts().for_language("es")
    errors: list[str] = []
    page = await open_chat(browser, real_bot, errors, name="Ana", user_id=ME + 7, locale="es-ES")
    await send_text(page, "/help")
    await wait_count(bot_messages(page), 1)
    assert spanish.text("help").splitlines()[0] in await bot_messages(page).first.inner_text()
    # A photo sent through the file input carries the language too; its reading and question are Spanish.
    await page.set_input_files("#file-input", str(SELFIE))
    ask = page.locator("#log li.msg.bot .kb-btn", has_text=spanish.text("consent.keep_reading_label"))
    await ask.first.wait_for()
    reading = await bot_messages(page).nth(1).inner_text()
    assert spanish.variants("reading.single")[0].split("{", 1)[0] in reading, reading
    # The command menu is the Spanish one.
    await page.click("#menu-button")
    await page.locator("#command-menu .menu-item", has_text=spanish.text("commands.history")).wait_for()
    assert errors == []


async def test_two_people_see_only_their_own_chats(real_bot: RunningServer, browser: Any) -> None:
    # Two tabs of one browser: each gets its own random id from sessionStorage.
    context = await browser.new_context(viewport=VIEWPORT)
    first, second = await context.new_page(), await context.new_page()
    for page in (first, second):
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(real_bot.url + "/chat")
        await page.locator("body[data-feed=ws]").wait_for()
    first_id, second_id = await first.input_value("#who-id"), await second.input_value("#who-id")
    assert first_id != second_id

    await send_text(first, "/help")
    await send_text(second, "/privacy")
    await wait_count(bot_messages(first), 1)
    await wait_count(bot_messages(second), 1)
    await asyncio.sleep(0.5)  # anything misrouted would have arrived by now
    first_user = await first.locator("#log li.msg.user").all_inner_texts()
    second_user = await second.locator("#log li.msg.user").all_inner_texts()
    assert len(first_user) == 1 and "/help" in first_user[0]
    assert len(second_user) == 1 and "/privacy" in second_user[0]
    assert await bot_messages(first).count() == 1 and await bot_messages(second).count() == 1

    # Switching the first tab to the second person's id shows that person's transcript instead.
    await first.fill("#who-id", second_id)
    await first.click("#who-apply")
    await first.locator("#log li.msg.user", has_text="/privacy").wait_for()
    assert await first.locator("#log li.msg.user", has_text="/help").count() == 0
    assert await first.evaluate("() => JSON.parse(sessionStorage.getItem('moodlens.sandbox.who')).id") == int(second_id)


async def test_page_mechanics_with_a_stand_in_bot(echo_bot: RunningServer, browser: Any) -> None:
    errors: list[str] = []
    page = await open_chat(browser, echo_bot, errors, name="Sam", user_id=777)

    # Text is shown as text (never parsed as HTML); keyboards under the bot's message; url buttons open a tab.
    await send_text(page, "hi <img src=x onerror=alert(1)>")
    reply = bot_messages(page).first
    await reply.wait_for()
    assert "<b>echo</b>" in await reply.inner_text()
    assert await page.locator("#log img").count() == 0
    docs = reply.locator("a.kb-btn", has_text="Docs")
    assert await docs.get_attribute("target") == "_blank"
    assert "noopener" in (await docs.get_attribute("rel") or "")

    # An answer with show_alert is a dialog to dismiss.
    await reply.locator("button.kb-btn", has_text="Alert").click()
    await page.locator("#alert-dialog[open]", has_text="Careful!").wait_for()
    await page.locator("#alert-dialog button", has_text="OK").click()
    await page.locator("#alert-dialog").wait_for(state="hidden")

    # A callback button: the answer is a toast and the message is edited in place (the keyboard goes away).
    await reply.locator("button.kb-btn", has_text="Edit me").click()
    await page.locator("#toast", has_text="Saved!").wait_for()
    await reply.locator("i", has_text="in place").wait_for()
    assert "edited" in await reply.inner_text()
    assert await reply.locator(".kb-btn").count() == 0
    assert await bot_messages(page).count() == 1

    # The webcam (Chromium's fake camera): a snapshot goes out as a photo.
    await page.click("#camera-button")
    await page.locator("#camera-shoot:enabled").wait_for()
    await page.click("#camera-shoot")
    await page.locator("#log li.msg.user .photo img").wait_for()
    await page.locator("#log li.msg.bot", has_text=re.compile(r"photo \d+x\d+")).wait_for()
    assert await page.locator("#error").is_hidden(), await page.inner_text("#error")

    # Readable at phone width: nothing sticks out sideways, the box and buttons stay on screen.
    await page.set_viewport_size({"width": 380, "height": 740})
    assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    for selector in ("#composer-input", "#send-button", "#who-id", "#camera-button"):
        box = await page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 380, selector

    # Too large for the sandbox (checked by the page, and by the server when the page does not know the limit).
    big = {"name": "big.jpg", "mimeType": "image/jpeg", "buffer": SELFIE.read_bytes()}
    await page.set_input_files("#file-input", files=[big])
    await page.locator("#error", has_text="too large").wait_for()
    await page.route("**/chat/config.json", lambda route: route.fulfill(json={"ok": True, "bot": {}}))
    await page.reload()
    await page.locator("body[data-feed=ws]").wait_for()
    await page.set_input_files("#file-input", files=[big])
    await page.locator("#error", has_text="too large").wait_for()
    assert "195" in await page.inner_text("#error")  # the limit from the server's 413 answer, in KB
    assert not errors, errors


async def test_long_poll_fallback_when_the_websocket_fails(echo_bot: RunningServer, browser: Any) -> None:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.route_web_socket(re.compile(r".*/sandbox/ws.*"), lambda ws: ws.close())
    await page.goto(echo_bot.url + "/")
    await page.locator("body[data-feed=poll]").wait_for()
    await send_text(page, "over long polling")
    await page.locator("#typing.active").wait_for()
    await bot_messages(page).filter(has_text="over long polling").wait_for()
    assert await page.locator("#typing.active").count() == 0

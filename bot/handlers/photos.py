"""Photos and image documents: limits, download into memory, recognition in the pool, reading, offer.

Every answer quotes the photo it is about, so with several photos on the way each answer is clear.
The picture is only ever held in memory for the recognition and then dropped: neither the bytes nor the
file_id are stored or logged.  Only the emotion scores of the main face become a check-in, and only for a
person who agreed; until they choose, the reading comes with the question (and its answer in the button).
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import PurePosixPath

from telegram import Chat, Document, Message, PhotoSize, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import keyboards
from bot.config import Settings
from bot.downloads import download
from bot.flows import follow_up_checkin
from bot.handlers.guards import admit_or_explain, show_chat_action
from bot.rate_limit import Ticket
from bot.recognition import Recognition, main_face, reading_text, recognise_in_pool
from bot.services import Services, services_of, settings_of
from dialogs import Dialogs
from fer_engine import ImageError, ImageTooLarge
from storage import NotConsented

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
#: Document types that are certainly not images (no point downloading them).
NOT_IMAGE_PREFIXES = ("text/", "video/", "audio/", "application/pdf", "application/zip", "application/json")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo: read the largest size Telegram offers."""
    message = update.effective_message
    assert message is not None and message.photo
    await _handle_image(update, context, message.photo[-1])


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file: images are read like photos; anything else gets a pointer."""
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    if not _may_be_image(document):
        dialogs = await services_of(context).dialogs_for(update.effective_user)
        await message.reply_text(dialogs.text("not_an_image"), do_quote=True)
        return
    await _handle_image(update, context, document)


def _may_be_image(document: Document) -> bool:
    mime = (document.mime_type or "").lower()
    if mime.startswith("image/"):
        return True
    suffix = PurePosixPath(document.file_name or "").suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return True
    return not mime.startswith(NOT_IMAGE_PREFIXES) and not suffix  # unknown type, no name: try it


async def _handle_image(update: Update, context: ContextTypes.DEFAULT_TYPE, media: PhotoSize | Document) -> None:
    services, settings = services_of(context), settings_of(context)
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    dialogs = await services.dialogs_for(user)
    ticket = await admit_or_explain(services.limiter, user.id, message, dialogs, "rate_limited")
    if ticket is None:
        return
    try:
        result = await _recognise(services, settings, dialogs, message, chat, media, ticket)
    finally:
        await ticket.aclose()  # idempotent; also when cancelled before the ticket was entered
    if result is not None:
        await _reply_reading(services, dialogs, update, result)


async def _recognise(
    services: Services,
    settings: Settings,
    dialogs: Dialogs,
    message: Message,
    chat: Chat,
    media: PhotoSize | Document,
    ticket: Ticket,
) -> Recognition | None:
    """Check the size, download into memory, recognise in the pool; None when a refusal was already sent."""
    await show_chat_action(chat, ChatAction.TYPING)  # at once, even if this photo waits for earlier ones
    too_large = dialogs.text("too_large", max_mb=settings.max_upload_label)
    if media.file_size is not None and media.file_size > settings.max_upload_bytes:
        await message.reply_text(too_large, do_quote=True)
        return None
    # Telegram may not say the size (documents): then reserve the most a file may be.
    size = media.file_size or settings.max_upload_bytes
    async with ticket, services.downloads.reserve(size):
        try:
            data = await download(media)
        except BadRequest as exc:
            if "too big" in str(exc).lower():
                await message.reply_text(too_large, do_quote=True)
                return None
            raise
        try:
            return await recognise_in_pool(
                services.executor, services.analyzer, data, max_bytes=settings.max_upload_bytes
            )
        except ImageTooLarge:
            await message.reply_text(too_large, do_quote=True)
        except ImageError as exc:
            log.info("photo not readable (%s)", exc.code)
            await message.reply_text(dialogs.text("unreadable_image"), do_quote=True)
        finally:
            del data  # the picture is not kept beyond the recognition
    return None


async def _reply_reading(services: Services, dialogs: Dialogs, update: Update, result: Recognition) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    analysis = result.analysis
    log.info("photo analysed: %d face(s) in %.0f ms", len(analysis.faces), result.seconds * 1000)
    text = reading_text(dialogs, analysis)
    face = main_face(analysis)

    checkin = None
    if face is not None:
        assert face.probabilities is not None and face.emotion is not None
        # Not agreed (yet), or /forget won the race: the reading is shown and not kept.
        with contextlib.suppress(NotConsented):
            checkin = await services.store.add_checkin(
                user.id, face.probabilities, face.emotion, faces=len(analysis.faces), message_id=message.message_id
            )
    if checkin is not None:
        markup = keyboards.not_quite(services.codec, dialogs, user.id, checkin)
    elif face is None:  # nothing to read: the person can still say how they feel
        markup = keyboards.just_tell_me(services.codec, dialogs, user.id)
    else:
        markup = None
    if result.annotated_jpeg is not None:
        reading = await message.reply_photo(result.annotated_jpeg, caption=text, reply_markup=markup, do_quote=True)
    else:
        reading = await message.reply_text(text, reply_markup=markup, do_quote=True)
    if face is None:
        return
    assert face.probabilities is not None
    if checkin is not None:
        await follow_up_checkin(services, chat, user.id, checkin, face.probabilities, dialogs=dialogs)
    elif await services.store.declined(user.id):
        await chat.send_message(dialogs.text("consent.not_kept"))
    else:
        issued = int(time.time() // 60)
        ask = keyboards.consent_for_reading(
            services.codec, dialogs, user.id, face.probabilities, len(analysis.faces), issued
        )
        await reading.reply_text(dialogs.text("consent.ask"), reply_markup=ask, do_quote=True)

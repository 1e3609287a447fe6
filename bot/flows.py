"""Steps shared by several handlers: the offer under a reading, the recommended items, the support state."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from telegram import Chat

from bot import keyboards
from bot.handlers import time_zone
from bot.replies import items_text, percent
from bot.services import Services
from bot.support import needs_support, should_show_notice
from bot.support_notice import support_notice
from catalog import EMOTIONS, Item, recommend
from dialogs import Dialogs
from storage import NotConsented

log = logging.getLogger(__name__)

#: How far back the support rule looks (its own period is shorter; the notice also needs the step before).
SUPPORT_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class SupportState:
    """Whether recommendations lean supportive, and whether to add the notice after the newest check-in."""

    supportive: bool
    show_notice: bool


async def support_state(services: Services, user_id: int, now: datetime | None = None) -> SupportState:
    """The support rule (bot.support) over the person's recent check-ins, corrections included."""
    now = now or datetime.now(timezone.utc)
    checkins = await services.store.checkins(user_id, since=now - SUPPORT_LOOKBACK)
    pairs = [(c.at, c.effective_emotion) for c in checkins]
    return SupportState(needs_support(pairs, now), should_show_notice(pairs, now))


async def send_offer(
    services: Services,
    chat: Chat,
    user_id: int,
    checkin: int,
    emotion: str,
    text: str,
    *,
    supportive: bool,
    dialogs: Dialogs,
) -> None:
    """A message with the emotion's offer buttons (movies, songs, books, activities, not now), in the person's words."""
    markup = keyboards.offer(services.codec, dialogs, user_id, checkin, emotion, supportive=supportive)
    await chat.send_message(text, reply_markup=markup)


async def follow_up_checkin(
    services: Services, chat: Chat, user_id: int, checkin: int, probabilities: Sequence[float], *, dialogs: Dialogs
) -> None:
    """After a kept check-in: the support notice when it is due, then an opening line and the offer."""
    share, emotion = max(zip(probabilities, EMOTIONS, strict=True))
    opening = dialogs.opening(emotion, services.rng, share=percent(share))
    text = f"{opening}\n\n{dialogs.offer(emotion)}"
    await _notice_then_offer(services, chat, user_id, checkin, emotion, text, dialogs=dialogs)


async def follow_up_self_report(
    services: Services, chat: Chat, user_id: int, checkin: int, emotion: str, *, dialogs: Dialogs
) -> None:
    """After a kept quick check-in: the support notice when it is due, then the offer for the mood the person picked.

    No opening line: the person said how they feel, there is no expression to describe.
    """
    await _notice_then_offer(services, chat, user_id, checkin, emotion, dialogs.offer(emotion), dialogs=dialogs)


async def _notice_then_offer(
    services: Services, chat: Chat, user_id: int, checkin: int, emotion: str, text: str, *, dialogs: Dialogs
) -> None:
    state = await support_state(services, user_id)
    if state.show_notice:
        await chat.send_message(support_notice(dialogs, await services.store.settings(user_id)))
    await send_offer(services, chat, user_id, checkin, emotion, text, supportive=state.supportive, dialogs=dialogs)
    await time_zone.ask_once(services, chat, user_id, dialogs)  # after the first kept check-in only


async def send_items(
    services: Services,
    chat: Chat,
    user_id: int,
    checkin: int,
    kind: str,
    emotion: str,
    *,
    supportive: bool,
    dialogs: Dialogs,
    press_id: str | None = None,
) -> None:
    """Recommend 3-5 items of ``kind`` (fresh first, shaped by 👍/👎), record them, and show them with buttons.

    ``press_id`` (the callback query id of the press asking for them): the same press delivered again shows the
    items it picked the first time instead of picking (and recording) another set.
    """
    picks: list[Item] = []

    def choose(seen: list[str], feedback: dict[str, int]) -> list[str]:
        picks[:] = recommend(
            services.catalog, kind, emotion, seen=seen, feedback=feedback, supportive=supportive, rng=services.rng
        )
        return [item.id for item in picks]

    try:  # read the history, pick, record: one transaction per person, whichever worker the press lands on
        picked = await services.store.pick_recommendations(user_id, checkin, kind, emotion, choose, press_id=press_id)
    except NotConsented:  # /forget won while this press was on its way: show and keep nothing
        await chat.send_message(dialogs.text("data_gone"))
        return
    if picked.again:  # a redelivered press: its first handling's items (choose was not called)
        shown = [
            (item, rec_id)
            for item_id, rec_id in zip(picked.item_ids, picked.rec_ids, strict=True)
            # An item taken out of the catalog since then has nothing left to show.
            if (item := services.catalog.get(item_id)) is not None
        ]
        picks[:] = [item for item, _ in shown]
        log.info("showing a redelivered press's %d %s again", len(picks), kind)
    else:
        shown = list(zip(picks, picked.rec_ids, strict=True))
    seen = picked.seen
    if not picks:
        markup = keyboards.other_ideas(services.codec, dialogs, user_id, checkin)
        await chat.send_message(dialogs.text("followups.nothing_left"), reply_markup=markup)
        return
    seen_set = set(seen)
    text = items_text(
        dialogs,
        kind,
        picks,
        supportive=supportive,
        restarted=any(item.id in seen_set for item in picks),
        rng=services.rng,
    )
    markup = keyboards.items(services.codec, dialogs, user_id, checkin, kind, shown)
    await chat.send_message(text, reply_markup=markup)
    log.debug("showed %d %s", len(picks), kind)

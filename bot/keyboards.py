"""Inline keyboards; every callback button carries signed, self-contained data (see bot.callback_data)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import Action, ButtonCodec, ButtonData
from catalog import EMOTIONS, KINDS, MOODS, Item
from dialogs import Dialogs


def _button(codec: ButtonCodec, user_id: int, text: str, data: ButtonData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=codec.encode(user_id, data))


def _rows(buttons: Sequence[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def not_quite(codec: ButtonCodec, dialogs: Dialogs, user_id: int, checkin: int) -> InlineKeyboardMarkup:
    """Under a kept reading: "🤔 Not quite" (say which emotion fits better) and "📝 Add a note"."""
    data = ButtonData(Action.NOT_QUITE, checkin=checkin)
    not_quite_button = _button(codec, user_id, dialogs.text("not_quite.label"), data)
    return InlineKeyboardMarkup([[not_quite_button, _note_button(codec, dialogs, user_id, checkin)]])


def add_note(codec: ButtonCodec, dialogs: Dialogs, user_id: int, checkin: int) -> InlineKeyboardMarkup:
    """Only "📝 Add a note" (under a kept quick check-in)."""
    return InlineKeyboardMarkup([[_note_button(codec, dialogs, user_id, checkin)]])


def _note_button(codec: ButtonCodec, dialogs: Dialogs, user_id: int, checkin: int) -> InlineKeyboardButton:
    return _button(codec, user_id, dialogs.text("mood.note_label"), ButtonData(Action.NOTE, checkin=checkin))


def quick_checkin(codec: ButtonCodec, dialogs: Dialogs, user_id: int) -> InlineKeyboardMarkup:
    """The seven emotions and "mixed", to say how one feels without a selfie (/mood, reminders, "Just tell me")."""
    buttons = [_button(codec, user_id, dialogs.label(m), ButtonData(Action.MOOD, emotion=m)) for m in MOODS]
    return InlineKeyboardMarkup(_rows(buttons, 2))


def just_tell_me(codec: ButtonCodec, dialogs: Dialogs, user_id: int) -> InlineKeyboardMarkup:
    """ "✍️ Just tell me" under a photo that could not be read: opens the quick check-in instead."""
    label = dialogs.text("mood.just_tell_me_label")
    return InlineKeyboardMarkup([[_button(codec, user_id, label, ButtonData(Action.MOOD_MENU))]])


def consent_for_mood(
    codec: ButtonCodec, dialogs: Dialogs, user_id: int, emotion: str, issued_minute: int
) -> InlineKeyboardMarkup:
    """Keep (this quick check-in and what follows) or keep nothing; the picked mood travels in the button."""
    keep = ButtonData(Action.CONSENT_MOOD, issued=issued_minute, emotion=emotion)
    return InlineKeyboardMarkup(
        [
            [_button(codec, user_id, dialogs.text("consent.keep_reading_label"), keep)],
            [_button(codec, user_id, dialogs.text("consent.decline_label"), ButtonData(Action.DECLINE))],
        ]
    )


def corrections(codec: ButtonCodec, dialogs: Dialogs, user_id: int, checkin: int) -> InlineKeyboardMarkup:
    """Seven buttons, one per emotion, to say which expression fits better."""
    buttons = [
        _button(codec, user_id, dialogs.label(e), ButtonData(Action.CORRECT, checkin=checkin, emotion=e))
        for e in EMOTIONS
    ]
    return InlineKeyboardMarkup(_rows(buttons, 2))


def offer(
    codec: ButtonCodec, dialogs: Dialogs, user_id: int, checkin: int, emotion: str, *, supportive: bool = False
) -> InlineKeyboardMarkup:
    """The emotion's offer buttons (kinds and "Not now"); supportive mode puts activities first."""
    flow_buttons = list(dialogs.buttons(emotion))
    if supportive:
        flow_buttons.sort(key=lambda b: b.offer != "activities")  # stable: the rest keep their order
    buttons = []
    for b in flow_buttons:
        if b.offer in KINDS:
            data = ButtonData(Action.KIND, checkin=checkin, kind=b.offer)
        else:
            data = ButtonData(Action.NOT_NOW, checkin=checkin)
        buttons.append(_button(codec, user_id, b.label, data))
    kinds, rest = buttons[:-1], buttons[-1:]
    return InlineKeyboardMarkup([*_rows(kinds, 2), rest])


def items(
    codec: ButtonCodec,
    dialogs: Dialogs,
    user_id: int,
    checkin: int,
    kind: str,
    shown: Sequence[tuple[Item, int]],
) -> InlineKeyboardMarkup:
    """Per item: 👍, 👎 and its link; then "More like these" and "Something else"."""
    like, dislike = dialogs.text("like_label"), dialogs.text("dislike_label")
    rows = []
    for number, (item, rec_id) in enumerate(shown, start=1):
        row = [
            _button(codec, user_id, f"{number}. {like}", ButtonData(Action.FEEDBACK, rec=rec_id, vote=1)),
            _button(codec, user_id, f"{number}. {dislike}", ButtonData(Action.FEEDBACK, rec=rec_id, vote=-1)),
        ]
        if item.link:
            row.append(InlineKeyboardButton(f"{number}. {dialogs.text(f'followups.open_label.{kind}')}", url=item.link))
        rows.append(row)
    rows.append(
        [
            _button(codec, user_id, dialogs.text("more_label"), ButtonData(Action.MORE, checkin=checkin, kind=kind)),
            _button(codec, user_id, dialogs.text("other_ideas_label"), ButtonData(Action.OTHER, checkin=checkin)),
        ]
    )
    return InlineKeyboardMarkup(rows)


def other_ideas(codec: ButtonCodec, dialogs: Dialogs, user_id: int, checkin: int) -> InlineKeyboardMarkup:
    """Only "Something else" (when a kind has nothing new left)."""
    data = ButtonData(Action.OTHER, checkin=checkin)
    return InlineKeyboardMarkup([[_button(codec, user_id, dialogs.text("other_ideas_label"), data)]])


def forget(codec: ButtonCodec, dialogs: Dialogs, user_id: int, issued_minute: int) -> InlineKeyboardMarkup:
    """Confirm or cancel /forget (the confirm button expires, see bot.handlers.data_rights)."""
    confirm = ButtonData(Action.FORGET, issued=issued_minute)
    return InlineKeyboardMarkup(
        [
            [_button(codec, user_id, dialogs.text("forget_confirm.confirm"), confirm)],
            [_button(codec, user_id, dialogs.text("forget_confirm.cancel"), ButtonData(Action.KEEP))],
        ]
    )


def consent_for_reading(
    codec: ButtonCodec, dialogs: Dialogs, user_id: int, reading: Sequence[float], faces: int, issued_minute: int
) -> InlineKeyboardMarkup:
    """Keep (this reading and the ones after it) or keep nothing; the reading travels in the button."""
    keep = ButtonData(Action.CONSENT_READING, issued=issued_minute, reading=tuple(reading), faces=faces)
    return InlineKeyboardMarkup(
        [
            [_button(codec, user_id, dialogs.text("consent.keep_reading_label"), keep)],
            [_button(codec, user_id, dialogs.text("consent.decline_label"), ButtonData(Action.DECLINE))],
        ]
    )


def consent_choice(codec: ButtonCodec, dialogs: Dialogs, user_id: int, *, given: bool) -> InlineKeyboardMarkup:
    """Under /start and /privacy: the one choice that changes something (agree, or stop keeping)."""
    if given:
        button = _button(codec, user_id, dialogs.text("consent.withdraw_label"), ButtonData(Action.DECLINE))
    else:
        button = _button(codec, user_id, dialogs.text("consent.keep_label"), ButtonData(Action.CONSENT))
    return InlineKeyboardMarkup([[button]])


def mark_vote(
    markup: InlineKeyboardMarkup | None, pressed: str, vote: int, dialogs: Dialogs
) -> InlineKeyboardMarkup | None:
    """A copy of an items keyboard with the pressed 👍/👎 ticked (and its neighbour unticked); None if unchanged.

    Works from the message's own keyboard, so it needs no memory of what was shown.
    """
    if markup is None:
        return None
    like, dislike = dialogs.text("like_label"), dialogs.text("dislike_label")
    tick = " ✓"
    rows: list[list[InlineKeyboardButton]] = []
    changed = False
    for row in markup.inline_keyboard:
        new_row = list(row)
        if any(b.callback_data == pressed for b in row):
            for i, b in enumerate(row):
                if b.callback_data is None:
                    continue
                base = b.text.removesuffix(tick)
                is_like = base.endswith(like)
                if not (is_like or base.endswith(dislike)):
                    continue
                wanted = base + tick if (is_like == (vote == 1)) else base
                if wanted != b.text:
                    new_row[i] = InlineKeyboardButton(wanted, callback_data=b.callback_data)
                    changed = True
        rows.append(new_row)
    return InlineKeyboardMarkup(rows) if changed else None

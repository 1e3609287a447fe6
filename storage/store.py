"""Mood history: people, check-ins and shown recommendations (SQLite or PostgreSQL), every call scoped by user."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.database import Database, Session, open_database
from storage.migrations import EMOTIONS, MAX_NOTE, MIXED, MOODS, SOURCES

log = logging.getLogger(__name__)

_PROB_COLUMNS = ", ".join(EMOTIONS)
_CHECKIN_COLUMNS = f"id, user_id, at, {_PROB_COLUMNS}, top_emotion, faces, corrected_emotion, source, note"
_REC_COLUMNS = "id, user_id, checkin_id, kind, item_id, emotion, shown_at, feedback"

#: Header of :meth:`Store.export_csv`.
CSV_HEADER: tuple[str, ...] = (
    "record",
    "id",
    "at",
    "emotion",
    "top_emotion",
    "corrected_emotion",
    "faces",
    *EMOTIONS,
    "checkin_id",
    "kind",
    "item_id",
    "feedback",
    # Added with quick check-ins and notes (schema v4): at the end, so readers of the older columns keep working.
    "source",
    "note",
    # The time in the person's zone, with its offset ("at" stays UTC).
    "at_local",
)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def to_iso(at: datetime) -> str:
    """A datetime as a sortable UTC ISO string (naive datetimes are taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_iso(text: str) -> datetime:
    """Parse a string written by :func:`to_iso`."""
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class CheckIn:
    """One selfie reading: the probabilities in ``EMOTIONS`` order and the (possibly corrected) emotion."""

    id: int
    user_id: int
    at: datetime
    probabilities: tuple[float, ...]
    top_emotion: str
    faces: int
    corrected_emotion: str | None = None
    source: str = "selfie"  # "selfie" (a reading) or "self" (the person said it: /mood, a reminder)
    note: str | None = None

    @property
    def self_reported(self) -> bool:
        """Whether the person said this mood themselves instead of sending a selfie."""
        return self.source == "self"

    @property
    def effective_emotion(self) -> str:
        """The user's correction if there is one, else the model's top emotion."""
        return self.corrected_emotion or self.top_emotion

    @property
    def distribution(self) -> dict[str, float]:
        """The probabilities keyed by emotion name."""
        return dict(zip(EMOTIONS, self.probabilities, strict=True))


@dataclass(frozen=True)
class Recommendation:
    """One recommended item as it was shown to a user, with the user's feedback (+1/-1) if any."""

    id: int
    user_id: int
    checkin_id: int | None
    kind: str
    item_id: str
    emotion: str
    shown_at: datetime
    feedback: int | None = None


def _checkin_from_row(row: Any) -> CheckIn:
    return CheckIn(
        id=row["id"],
        user_id=row["user_id"],
        at=from_iso(row["at"]),
        probabilities=tuple(float(row[e]) for e in EMOTIONS),
        top_emotion=row["top_emotion"],
        faces=row["faces"],
        corrected_emotion=row["corrected_emotion"],
        source=row["source"],
        note=row["note"],
    )


def _recommendation_from_row(row: Any) -> Recommendation:
    return Recommendation(
        id=row["id"],
        user_id=row["user_id"],
        checkin_id=row["checkin_id"],
        kind=row["kind"],
        item_id=row["item_id"],
        emotion=row["emotion"],
        shown_at=from_iso(row["shown_at"]),
        feedback=row["feedback"],
    )


def _check_user_id(user_id: int) -> int:
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise TypeError(f"user_id must be an int, got {type(user_id).__name__}")
    return user_id


def _check_emotion(emotion: str) -> str:
    if emotion not in MOODS:
        raise ValueError(f"unknown emotion {emotion!r}; expected one of {MOODS}")
    return emotion


def _check_recommendation(user_id: int, kind: str, emotion: str) -> None:
    _check_user_id(user_id)
    _check_emotion(emotion)
    if not kind:
        raise ValueError("kind must be non-empty")


def self_report_probabilities(emotion: str) -> tuple[float, ...]:
    """The probability columns of a self-report: all on the named emotion; "mixed" spreads evenly over all seven."""
    _check_emotion(emotion)
    if emotion == MIXED:
        return tuple(1.0 / len(EMOTIONS) for _ in EMOTIONS)
    return tuple(1.0 if e == emotion else 0.0 for e in EMOTIONS)


#: Picks item ids to show from (every earlier showing of the kind, oldest first; item id -> latest +1/-1).
Chooser = Callable[[list[str], dict[str, int]], Sequence[str]]


@dataclass(frozen=True)
class Picked:
    """What :meth:`Store.pick_recommendations` read and recorded: the history it chose from, the chosen item ids
    and their recommendation row ids (same order).  ``again``: the pick a redelivered press made the first time,
    found instead of picking (``choose`` was not called)."""

    seen: list[str]
    item_ids: list[str]
    rec_ids: list[int]
    again: bool = False


class NotConsented(LookupError):
    """The person has not agreed to keep check-ins (or deleted everything since): nothing was written."""


#: Writes of mood data happen only for a person who agreed, checked inside the writing transaction,
#: so a /forget (which deletes the person's row) wins over a photo or a press still in flight.
#: The settings key that remembers a person said "don't keep my check-ins".
DECLINED = "consent_declined"
_CONSENTED = "SELECT 1 FROM people WHERE user_id = ? AND consent_at IS NOT NULL"


class Store:
    """Mood history on a :class:`storage.database.Database`; every method is scoped by the caller's ``user_id``."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Wrap an open, migrated database (use :func:`open_store` rather than this)."""
        self._db = db
        self._clock = clock

    def now(self) -> datetime:
        """The store's clock (injectable in tests): what check-ins are stamped with, and what "today" means."""
        return self._clock()

    @property
    def database(self) -> Database:
        """The database behind the store (for tests, maintenance and other stores of shared state)."""
        return self._db

    @property
    def connection(self) -> Any:
        """The SQLite connection (tests and maintenance); AttributeError on PostgreSQL."""
        return self._db.connection  # type: ignore[attr-defined]

    async def _insert_person(self, db: Session, user_id: int) -> None:
        await db.execute(
            "INSERT INTO people (user_id, created_at, settings) VALUES (?, ?, '{}') ON CONFLICT (user_id) DO NOTHING",
            user_id,
            to_iso(self._clock()),
        )

    # -- people ---------------------------------------------------------------------------------------

    async def ensure_user(self, user_id: int, *, language: str | None = None) -> None:
        """Create the person if new; if ``language`` is given, store it in their settings."""
        _check_user_id(user_id)
        async with self._db.transaction() as db:
            await self._insert_person(db, user_id)
            if language is not None:
                await self._merge_settings(db, user_id, {"language": language})

    async def _merge_settings(self, db: Session, user_id: int, changes: dict[str, Any]) -> dict:
        # The row lock keeps two workers changing one person's settings at once from losing either change.
        row = await db.fetchone(f"SELECT settings FROM people WHERE user_id = ?{self._db.for_update}", user_id)
        settings = json.loads(row["settings"]) if row else {}
        settings.update(changes)
        settings = {k: v for k, v in settings.items() if v is not None}
        await db.execute(
            "UPDATE people SET settings = ? WHERE user_id = ?", json.dumps(settings, sort_keys=True), user_id
        )
        return settings

    async def settings(self, user_id: int) -> dict[str, Any]:
        """The person's settings (empty if unknown)."""
        _check_user_id(user_id)
        async with self._db.reading() as db:
            row = await db.fetchone("SELECT settings FROM people WHERE user_id = ?", user_id)
        return json.loads(row["settings"]) if row else {}

    async def update_settings(self, user_id: int, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into the settings (a ``None`` value removes the key); returns the new settings."""
        _check_user_id(user_id)
        async with self._db.transaction() as db:
            await self._insert_person(db, user_id)
            return await self._merge_settings(db, user_id, changes)

    async def set_consent(self, user_id: int, given: bool = True) -> None:
        """Record the person's consent to keep mood history (the first time counts), or their "no".

        A "no" is remembered as the setting ``DECLINED`` so they are not asked after every selfie;
        it keeps nothing else (check-ins already stored stay until /forget).
        """
        _check_user_id(user_id)
        async with self._db.transaction() as db:
            await self._insert_person(db, user_id)
            await db.execute(
                "UPDATE people SET consent_at = CASE WHEN ? THEN COALESCE(consent_at, ?) END WHERE user_id = ?",
                bool(given),
                to_iso(self._clock()),
                user_id,
            )
            await self._merge_settings(db, user_id, {DECLINED: None if given else True})

    async def declined(self, user_id: int) -> bool:
        """Whether the person said "don't keep my check-ins" (and has not agreed since)."""
        return bool((await self.settings(user_id)).get(DECLINED))

    async def _require_consent(self, db: Session, user_id: int) -> None:
        # FOR SHARE (PostgreSQL): a /forget on another worker waits for this write to finish and then deletes
        # it too; or, if it came first, this finds no person and writes nothing.
        if await db.fetchone(_CONSENTED + self._db.for_share, user_id) is None:
            raise NotConsented(f"user {user_id} has not agreed to keep check-ins")

    async def consent_at(self, user_id: int) -> datetime | None:
        """When the person gave consent, or ``None``."""
        _check_user_id(user_id)
        async with self._db.reading() as db:
            row = await db.fetchone("SELECT consent_at FROM people WHERE user_id = ?", user_id)
        return from_iso(row["consent_at"]) if row and row["consent_at"] else None

    # -- check-ins ------------------------------------------------------------------------------------

    async def add_checkin(
        self,
        user_id: int,
        probabilities: Sequence[float],
        top_emotion: str,
        faces: int,
        at: datetime | None = None,
        *,
        message_id: int | None = None,
        source: str = "selfie",
    ) -> int:
        """Store one reading (7 probabilities in ``EMOTIONS`` order); returns the new check-in id.

        Raises NotConsented (writing nothing) unless the person agreed with :meth:`set_consent`.
        With ``message_id`` (the message the reading answers) the call is idempotent: the same message
        again returns the check-in it made the first time, on whichever worker it lands.
        ``source`` is "selfie" or "self" (see SOURCES).
        """
        _check_user_id(user_id)
        probs = [float(p) for p in probabilities]
        if len(probs) != len(EMOTIONS):
            raise ValueError(f"expected {len(EMOTIONS)} probabilities, got {len(probs)}")
        if not all(math.isfinite(p) and -1e-6 <= p <= 1 + 1e-6 for p in probs):
            raise ValueError(f"probabilities must be in [0, 1]: {probs}")
        probs = [min(max(p, 0.0), 1.0) for p in probs]
        _check_emotion(top_emotion)
        if faces < 0:
            raise ValueError("faces must be >= 0")
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
        when = to_iso(at or self._clock())
        async with self._db.transaction() as db:
            await self._require_consent(db, user_id)
            existing = "SELECT id FROM checkins WHERE user_id = ? AND message_id = ?"
            row = await db.fetchone(existing, user_id, message_id) if message_id is not None else None
            if row is None:
                # Two workers handling one redelivered message at once: the unique (user_id, message_id) index
                # lets one insert; the other waits for it, inserts nothing and reads the row it made.
                row = await db.fetchone(
                    f"INSERT INTO checkins (user_id, at, {_PROB_COLUMNS}, top_emotion, faces, message_id, source) "
                    f"VALUES (?, ?, {', '.join('?' * len(EMOTIONS))}, ?, ?, ?, ?) "
                    "ON CONFLICT (user_id, message_id) DO NOTHING RETURNING id",
                    user_id,
                    when,
                    *probs,
                    top_emotion,
                    int(faces),
                    message_id,
                    source,
                )
            if row is None:
                row = await db.fetchone(existing, user_id, message_id)
        assert row is not None
        return int(row["id"])

    async def add_self_report(
        self, user_id: int, emotion: str, at: datetime | None = None, *, message_id: int | None = None
    ) -> int:
        """Store a mood the person picked themselves (one of ``MOODS``, no photo); returns the check-in id.

        Kept like a reading (same consent rule, same idempotency by ``message_id``), marked ``source="self"``,
        with no faces and the probabilities of :func:`self_report_probabilities`.
        """
        probabilities = self_report_probabilities(emotion)
        return await self.add_checkin(
            user_id, probabilities, emotion, faces=0, at=at, message_id=message_id, source="self"
        )

    async def checkin_for_message(self, user_id: int, message_id: int) -> CheckIn | None:
        """The user's check-in made from ``message_id`` (see :meth:`add_checkin`), or ``None``."""
        return await self._one_checkin(user_id, "message_id = ?", message_id)

    async def set_note(self, user_id: int, checkin_id: int, note: str) -> bool:
        """Put the person's note (1..MAX_NOTE characters, stripped) on their own check-in, replacing any earlier one.

        False when the check-in is not theirs or gone; ValueError for an empty or too long note; NotConsented
        when the person has withdrawn their agreement (a note is mood data like the check-in itself).
        """
        _check_user_id(user_id)
        text = note.strip()
        if not 1 <= len(text) <= MAX_NOTE:
            raise ValueError(f"a note must have 1 to {MAX_NOTE} characters, got {len(text)}")
        async with self._db.transaction() as db:
            await self._require_consent(db, user_id)
            changed = await db.execute(
                "UPDATE checkins SET note = ? WHERE id = ? AND user_id = ?", text, checkin_id, user_id
            )
        return changed == 1

    async def get_checkin(self, user_id: int, checkin_id: int) -> CheckIn | None:
        """One of the user's check-ins, or ``None`` if it is not theirs or does not exist."""
        return await self._one_checkin(user_id, "id = ?", checkin_id)

    async def _one_checkin(self, user_id: int, condition: str, value: int) -> CheckIn | None:
        """The user's check-in matching ``condition`` (a fixed SQL snippet with one ``?``), or ``None``."""
        _check_user_id(user_id)
        async with self._db.reading() as db:
            row = await db.fetchone(
                f"SELECT {_CHECKIN_COLUMNS} FROM checkins WHERE user_id = ? AND {condition}", user_id, value
            )
        return _checkin_from_row(row) if row else None

    async def correct_checkin(self, user_id: int, checkin_id: int, emotion: str) -> bool:
        """Set the user's correction on their own check-in; False if not theirs, missing, or emotion unknown."""
        _check_user_id(user_id)
        if emotion not in EMOTIONS:
            log.debug("rejecting correction to unknown emotion %r", emotion)
            return False
        async with self._db.transaction() as db:
            changed = await db.execute(
                "UPDATE checkins SET corrected_emotion = ? WHERE id = ? AND user_id = ?", emotion, checkin_id, user_id
            )
        return changed == 1

    async def checkins(self, user_id: int, since: datetime | None = None) -> list[CheckIn]:
        """The user's check-ins, oldest first, optionally only those at or after ``since``."""
        _check_user_id(user_id)
        sql = f"SELECT {_CHECKIN_COLUMNS} FROM checkins WHERE user_id = ?"
        params: list[Any] = [user_id]
        if since is not None:
            sql += " AND at >= ?"
            params.append(to_iso(since))
        sql += " ORDER BY at, id"
        async with self._db.reading() as db:
            rows = await db.fetchall(sql, *params)
        return [_checkin_from_row(r) for r in rows]

    async def recent_emotions(self, user_id: int, limit: int) -> list[str]:
        """The effective emotions of the user's latest ``limit`` check-ins, newest first."""
        _check_user_id(user_id)
        if limit <= 0:
            return []
        async with self._db.reading() as db:
            rows = await db.fetchall(
                "SELECT COALESCE(corrected_emotion, top_emotion) AS emotion FROM checkins "
                "WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?",
                user_id,
                int(limit),
            )
        return [r["emotion"] for r in rows]

    # -- recommendations ------------------------------------------------------------------------------

    async def add_recommendations(
        self,
        user_id: int,
        checkin_id: int | None,
        kind: str,
        item_ids: Sequence[str],
        emotion: str,
    ) -> list[int]:
        """Record that these items were shown to the user; returns the new row ids in ``item_ids`` order.

        Raises NotConsented (writing nothing) unless the person agreed with :meth:`set_consent`.
        """
        _check_recommendation(user_id, kind, emotion)
        if isinstance(item_ids, str):
            raise TypeError("item_ids must be a sequence of strings, not a string")
        async with self._db.transaction() as db:
            await self._require_consent(db, user_id)
            return await self._insert_recommendations(db, user_id, checkin_id, kind, item_ids, emotion)

    async def _insert_recommendations(
        self,
        db: Session,
        user_id: int,
        checkin_id: int | None,
        kind: str,
        item_ids: Sequence[str],
        emotion: str,
        press_id: str | None = None,
    ) -> list[int]:
        if checkin_id is not None:
            mine = await db.fetchone("SELECT 1 FROM checkins WHERE id = ? AND user_id = ?", checkin_id, user_id)
            if mine is None:
                raise ValueError(f"check-in {checkin_id} is not one of user {user_id}'s")
        now = to_iso(self._clock())
        ids: list[int] = []
        for item_id in item_ids:
            row = await db.fetchone(
                "INSERT INTO recommendations (user_id, checkin_id, kind, item_id, emotion, shown_at, press_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                user_id,
                checkin_id,
                kind,
                str(item_id),
                emotion,
                now,
                press_id,
            )
            assert row is not None
            ids.append(int(row["id"]))
        return ids

    async def pick_recommendations(
        self,
        user_id: int,
        checkin_id: int | None,
        kind: str,
        emotion: str,
        choose: Chooser,
        *,
        press_id: str | None = None,
    ) -> Picked:
        """Read the person's history of ``kind``, let ``choose(seen, feedback)`` pick item ids, and record them as
        shown: all in one transaction holding the person's row, so two presses of "More" (on any workers) never
        read the same history and show the same items.  ``choose`` must be quick and pure (no I/O).

        ``press_id`` (the button press's callback query id) makes a press pick once: a press delivered again (its
        worker was killed before answering) finds the rows recorded for it and gets them back, ``again`` set and
        ``choose`` not called, instead of advancing the "no repeats" cycle with a second pick.  Looked up under the
        same row lock, so two workers handling one press at the same time also record one pick.

        Raises NotConsented (writing nothing) unless the person agreed with :meth:`set_consent`.
        """
        _check_recommendation(user_id, kind, emotion)
        if press_id is not None and (not isinstance(press_id, str) or not press_id):
            raise ValueError("press_id must be a non-empty string")
        async with self._db.transaction() as db:
            # FOR UPDATE (PostgreSQL): a second pick waits here for the first to commit, then reads its rows too.
            if await db.fetchone(_CONSENTED + self._db.for_update, user_id) is None:
                raise NotConsented(f"user {user_id} has not agreed to keep check-ins")
            if press_id is not None and (earlier := await self._pick_of_press(db, user_id, kind, press_id)):
                return earlier
            seen = await self._seen_items(db, user_id, kind)
            item_ids = list(choose(seen, await self._feedback(db, user_id)))
            rec_ids = await self._insert_recommendations(db, user_id, checkin_id, kind, item_ids, emotion, press_id)
        return Picked(seen, item_ids, rec_ids)

    @staticmethod
    async def _pick_of_press(db: Session, user_id: int, kind: str, press_id: str) -> Picked | None:
        """The pick recorded for ``press_id`` (None if none), with the history of ``kind`` as it was before it."""
        rows = await db.fetchall(
            "SELECT id, item_id FROM recommendations WHERE user_id = ? AND press_id = ? ORDER BY id",
            user_id,
            press_id,
        )
        if not rows:
            return None
        history = await db.fetchall(
            "SELECT id, item_id FROM recommendations WHERE user_id = ? AND kind = ? ORDER BY shown_at, id",
            user_id,
            kind,
        )
        # What the first handling chose from: everything shown before its rows (later presses' picks left out),
        # so the "starting over" line reads the same the second time.
        first = int(rows[0]["id"])
        seen: list[str] = []
        for row in history:
            if int(row["id"]) == first:
                break
            seen.append(row["item_id"])
        return Picked(seen, [r["item_id"] for r in rows], [int(r["id"]) for r in rows], again=True)

    async def set_feedback(self, user_id: int, item_id: str, value: int) -> bool:
        """Set +1/-1 (0 clears) on the user's latest showing of ``item_id``; False if never shown or bad value."""
        _check_user_id(user_id)
        if isinstance(value, bool) or value not in (-1, 0, 1):
            log.debug("rejecting feedback value %r", value)
            return False
        async with self._db.transaction() as db:
            changed = await db.execute(
                "UPDATE recommendations SET feedback = ? WHERE id = ("
                " SELECT id FROM recommendations WHERE user_id = ? AND item_id = ?"
                " ORDER BY shown_at DESC, id DESC LIMIT 1)",
                value or None,
                user_id,
                str(item_id),
            )
        return changed == 1

    async def seen_items(self, user_id: int, kind: str) -> list[str]:
        """Every showing of ``kind`` items to the user, oldest to newest; an item shown twice is listed twice.

        The recommender follows its "no repeats until the pool runs out" cycles over this whole
        sequence: with each item listed once, every cycle after the first would look complete.
        """
        _check_user_id(user_id)
        async with self._db.reading() as db:
            return await self._seen_items(db, user_id, kind)

    @staticmethod
    async def _seen_items(db: Session, user_id: int, kind: str) -> list[str]:
        rows = await db.fetchall(
            "SELECT item_id FROM recommendations WHERE user_id = ? AND kind = ? ORDER BY shown_at, id", user_id, kind
        )
        return [r["item_id"] for r in rows]

    async def feedback(self, user_id: int) -> dict[str, int]:
        """Item id -> the user's most recent non-empty feedback (+1/-1) on it."""
        _check_user_id(user_id)
        async with self._db.reading() as db:
            return await self._feedback(db, user_id)

    @staticmethod
    async def _feedback(db: Session, user_id: int) -> dict[str, int]:
        rows = await db.fetchall(
            "SELECT item_id, feedback FROM recommendations WHERE user_id = ? AND feedback IS NOT NULL "
            "ORDER BY shown_at, id",
            user_id,
        )
        return {r["item_id"]: int(r["feedback"]) for r in rows}

    async def recommendations(self, user_id: int, kind: str | None = None) -> list[Recommendation]:
        """Every recommendation shown to the user (optionally of one kind), oldest first."""
        _check_user_id(user_id)
        sql = f"SELECT {_REC_COLUMNS} FROM recommendations WHERE user_id = ?"
        params: list[Any] = [user_id]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        sql += " ORDER BY shown_at, id"
        async with self._db.reading() as db:
            rows = await db.fetchall(sql, *params)
        return [_recommendation_from_row(r) for r in rows]

    # -- export and erasure ---------------------------------------------------------------------------

    async def export_csv(self, user_id: int) -> bytes:
        """The user's check-ins and shown recommendations (with feedback) as UTF-8 CSV with a header row."""
        _check_user_id(user_id)
        async with self._db.reading() as db:
            checkin_rows = await db.fetchall(
                f"SELECT {_CHECKIN_COLUMNS} FROM checkins WHERE user_id = ? ORDER BY at, id", user_id
            )
            rec_rows = await db.fetchall(
                f"SELECT {_REC_COLUMNS} FROM recommendations WHERE user_id = ? ORDER BY shown_at, id", user_id
            )
            person = await db.fetchone("SELECT settings FROM people WHERE user_id = ?", user_id)
        zone = _zone_of_settings(person["settings"] if person else None)
        # Building the file is CPU work proportional to a lifetime of check-ins: off the event loop.
        return await asyncio.to_thread(_export_csv, checkin_rows, rec_rows, zone)

    async def delete_older_than(self, user_id: int, cutoff: datetime) -> int:
        """Delete the person's check-ins from before ``cutoff`` and the recommendations they led to (retention).

        Recommendations shown without a check-in go by their own time. Returns the number of check-ins deleted.
        """
        _check_user_id(user_id)
        before = to_iso(cutoff)
        async with self._db.transaction() as db:
            await db.execute(
                "DELETE FROM recommendations WHERE user_id = ? AND (checkin_id IN "
                "(SELECT id FROM checkins WHERE user_id = ? AND at < ?) OR (checkin_id IS NULL AND shown_at < ?))",
                user_id,
                user_id,
                before,
                before,
            )
            return await db.execute("DELETE FROM checkins WHERE user_id = ? AND at < ?", user_id, before)

    async def people_with_setting(self, key: str) -> dict[int, dict[str, Any]]:
        """Everyone whose settings have ``key``, with their settings: for sweeps over all people (reminders,
        retention), the one kind of query not scoped to a single person."""
        pattern = f'%"{key}":%'  # settings are json.dumps'ed: a cheap pre-filter, checked exactly below
        async with self._db.reading() as db:
            rows = await db.fetchall("SELECT user_id, settings FROM people WHERE settings LIKE ?", pattern)
        found = {int(r["user_id"]): json.loads(r["settings"]) for r in rows}
        return {user_id: settings for user_id, settings in found.items() if key in settings}

    async def forget(self, user_id: int) -> int:
        """Delete everything stored about the user; returns the number of rows deleted."""
        _check_user_id(user_id)
        total = 0
        async with self._db.transaction() as db:
            # The person's row first (PostgreSQL): writes in flight hold it shared (see _require_consent), so this
            # waits for them to finish and then deletes their rows too, and later ones find no person.  Taking it
            # last instead would deadlock with a write that already holds it and waits for a deleted check-in.
            await db.fetchone(f"SELECT 1 FROM people WHERE user_id = ?{self._db.for_update}", user_id)
            for table in ("recommendations", "checkins", "due_jobs", "people"):
                total += await db.execute(f"DELETE FROM {table} WHERE user_id = ?", user_id)
        log.debug("forgot one person (%d rows)", total)
        return total

    async def close(self) -> None:
        """Close the database (on SQLite, checkpointing the WAL)."""
        await self._db.close()


def _local_iso(at: datetime, zone: tzinfo) -> str:
    """``at`` as ISO 8601 wall-clock time in ``zone``, with its UTC offset (e.g. 2026-03-29T10:00:00+02:00)."""
    return at.astimezone(zone).isoformat(timespec="seconds")


def _zone_of_settings(settings_json: str | None) -> tzinfo:
    """The person's zone from their settings JSON ("timezone", see the settings contract); UTC if none or unknown."""
    name = json.loads(settings_json or "{}").get("timezone") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _export_csv(checkin_rows: Sequence[Any], rec_rows: Sequence[Any], zone: tzinfo = timezone.utc) -> bytes:
    """The CSV of ``Store.export_csv`` from its rows (blocking: runs in a worker thread).

    Each record kind fills its own columns by name; the others stay empty.
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_HEADER, restval="", lineterminator="\r\n")
    writer.writeheader()
    for row in checkin_rows:
        c = _checkin_from_row(row)
        writer.writerow(
            {
                "record": "checkin",
                "id": c.id,
                "at": to_iso(c.at),
                "emotion": c.effective_emotion,
                "top_emotion": c.top_emotion,
                "corrected_emotion": c.corrected_emotion or "",
                "faces": c.faces,
                **{e: f"{p:.6f}" for e, p in zip(EMOTIONS, c.probabilities, strict=True)},
                "source": c.source,
                "note": c.note or "",
                "at_local": _local_iso(c.at, zone),
            }
        )
    for row in rec_rows:
        r = _recommendation_from_row(row)
        writer.writerow(
            {
                "record": "recommendation",
                "id": r.id,
                "at": to_iso(r.shown_at),
                "emotion": r.emotion,
                "checkin_id": "" if r.checkin_id is None else r.checkin_id,
                "kind": r.kind,
                "item_id": r.item_id,
                "feedback": "" if r.feedback is None else r.feedback,
                "at_local": _local_iso(r.shown_at, zone),
            }
        )
    return out.getvalue().encode("utf-8")


async def open_store(target: str | Path, *, clock: Callable[[], datetime] = utc_now) -> Store:
    """Open (creating and migrating as needed) the database ``target`` names: a SQLite file path, ``sqlite:///path``
    or ``postgresql://…`` (see :func:`storage.urls.parse_database_url`)."""
    return Store(await open_database(str(target)), clock=clock)

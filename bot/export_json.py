"""/export's JSON: the person's check-ins (readings, self-reports, corrections, notes) and what was suggested to them,
with the items' titles from the catalog and every time in the person's time zone with its UTC offset.

Building it is CPU work proportional to a lifetime of check-ins: call :func:`export_json` through
``asyncio.to_thread``.  The CSV (storage) stays the raw table dump; this is the readable, self-describing copy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from catalog import Catalog
from storage import CheckIn, Recommendation

#: Bumped when a field changes meaning or goes away (new fields may appear without a bump).
FORMAT_VERSION = 1
FORMAT_NAME = "moodlens-export"
#: How feedback is spelled in the file (the database keeps +1/-1).
FEEDBACK_WORDS = {1: "like", -1: "dislike"}


def local_iso(at: datetime, zone: tzinfo) -> str:
    """``at`` as ISO 8601 wall-clock time in ``zone`` with its offset, e.g. 2026-03-29T10:00:00+02:00."""
    return at.astimezone(zone).isoformat(timespec="seconds")


def export_json(
    checkins: Sequence[CheckIn],
    recommendations: Sequence[Recommendation],
    catalog: Catalog,
    zone_name: str,
    zone: tzinfo,
    exported_at: datetime,
) -> bytes:
    """The export as UTF-8 JSON (blocking: run it in a worker thread)."""
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": local_iso(exported_at, zone),
        "time_zone": zone_name,
        "checkins": [_checkin(c, zone) for c in checkins],
        "recommendations": [_recommendation(r, catalog, zone) for r in recommendations],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _checkin(checkin: CheckIn, zone: tzinfo) -> dict[str, Any]:
    return {
        "id": checkin.id,
        "at": local_iso(checkin.at, zone),
        "emotion": checkin.effective_emotion,  # what history counts: the person's word when they gave one
        "source": checkin.source,
        "self_reported": checkin.self_reported,
        # A reading's own result and the person's correction of it; a self-report has no reading to correct.
        "read_as": None if checkin.self_reported else checkin.top_emotion,
        "corrected_to": checkin.corrected_emotion,
        "faces": None if checkin.self_reported else checkin.faces,
        "scores": None if checkin.self_reported else {e: round(p, 6) for e, p in checkin.distribution.items()},
        "note": checkin.note,
    }


def _recommendation(rec: Recommendation, catalog: Catalog, zone: tzinfo) -> dict[str, Any]:
    item = catalog.get(rec.item_id)  # None for an item since taken out of the catalog: the id still says which
    return {
        "id": rec.id,
        "shown_at": local_iso(rec.shown_at, zone),
        "checkin_id": rec.checkin_id,
        "emotion": rec.emotion,
        "kind": rec.kind,
        "item_id": rec.item_id,
        "title": item.title if item else None,
        "creator": item.creator if item else None,
        "year": item.year if item else None,
        "feedback": FEEDBACK_WORDS.get(rec.feedback) if rec.feedback is not None else None,
    }

"""The "recent expressions mostly low" rule behind the support notice and supportive recommendations.

It looks at expressions only, never claims to know how someone feels, and never diagnoses: it just decides
when to add a gentle notice with real resources and to lean recommendations towards soothing ideas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

#: Expressions that count as low for this rule.
LOW_EMOTIONS = frozenset({"sad", "fear", "angry"})
#: Look at the latest this many check-ins...
WINDOW = 5
#: ...of those within this period...
PERIOD = timedelta(days=14)
#: ...and trigger when at least this many of them look low.
THRESHOLD = 4
#: Show the notice again at most once a day while the rule keeps holding.
NOTICE_INTERVAL = timedelta(hours=24)


def needs_support(checkins: Sequence[tuple[datetime, str]], now: datetime) -> bool:
    """True when at least THRESHOLD of the latest WINDOW check-ins within PERIOD look low.

    ``checkins`` are (time, effective emotion) pairs in any order; corrections count as given.
    """
    recent = sorted((c for c in checkins if now - c[0] <= PERIOD), key=lambda c: c[0])[-WINDOW:]
    return sum(emotion in LOW_EMOTIONS for _, emotion in recent) >= THRESHOLD


def should_show_notice(checkins: Sequence[tuple[datetime, str]], now: datetime) -> bool:
    """Whether to add the notice after the newest check-in: when the rule starts to hold, or after a day's gap.

    Decided from the check-ins alone (no extra state is stored): the rule must hold now, and either it
    did not hold before the newest check-in, or the check-in before it is more than NOTICE_INTERVAL old.
    """
    ordered = sorted(checkins, key=lambda c: c[0])
    if not ordered or not needs_support(ordered, now):
        return False
    before = ordered[:-1]
    if not before:
        return True
    previous_at = before[-1][0]
    return not needs_support(before, previous_at) or ordered[-1][0] - previous_at >= NOTICE_INTERVAL

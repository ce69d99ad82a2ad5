"""When a notification may go out: retries, quiet hours, rate limits. Pure functions.

Time and randomness come in as arguments, so every decision here is testable to the second.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

URGENT_SEVERITIES = frozenset({"P1", "P2"})
# Client mails that answer what the client wrote a minute ago and say when we call: quiet
# hours would make "a specialist contacts you within 10 minutes" arrive in the morning.
ANSWERED_AT_ONCE = frozenset({"panic_ack"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    cap_seconds: float


@dataclass(frozen=True)
class Deferral:
    until: datetime
    reason: str  # quiet_hours | rate_limit


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> timedelta:
    """Delay before attempt `attempt + 1`: exponential, capped, with "equal jitter".

    Half the exponential step is kept so retries never bunch at zero; the other half is
    random so that many notifications failing together (an SMTP outage) do not retry in step.
    """
    step = min(policy.cap_seconds, policy.base_seconds * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=step / 2 + rng.uniform(0, step / 2))


def is_client(recipient_role: str) -> bool:
    return recipient_role.startswith("client")


def is_urgent(severity: str | None) -> bool:
    return severity in URGENT_SEVERITIES


def quiet_hours_end(now: datetime, zone: str, window: tuple[time, time] | None) -> datetime | None:
    """The end of the quiet period `now` falls into (in the recipient's zone), or None."""
    if window is None:
        return None
    start, end = window
    local = now.astimezone(ZoneInfo(zone))
    clock = local.timetz().replace(tzinfo=None)
    # 13:00-14:00 lies within one day; 21:00-08:00 spans midnight.
    quiet = start <= clock < end if start < end else clock >= start or clock < end
    if not quiet:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    ends = datetime.combine(day, end, tzinfo=ZoneInfo(zone))
    return ends.astimezone(now.tzinfo)


def rate_limit_until(
    now: datetime, recent: Sequence[datetime], limit: tuple[int, float] | None
) -> datetime | None:
    """When the next message to this recipient fits the limit, or None if it fits now.

    `recent` are the recipient's delivery attempts (any order); those inside the window count.
    """
    if limit is None:
        return None
    count, seconds = limit
    window = timedelta(seconds=seconds)
    inside = sorted(t for t in recent if t > now - window)
    if len(inside) < count:
        return None
    # The oldest attempts must leave the window until only count - 1 remain.
    return inside[len(inside) - count] + window


# Not held back by a recipient's rate limit: a confirmation request, which a held answer and
# the sender wait on (a busy registered address got it an hour late, after the request was
# settled another way). Quiet hours still apply: the registered owner is not woken for it.
NOT_RATE_LIMITED = frozenset({"identity_confirmation"})


def rate_limit_of(
    kind: str,
    recipient_role: str,
    client: tuple[int, float] | None,
    staff: tuple[int, float] | None,
) -> tuple[int, float] | None:
    """The rate limit a notification counts against: its recipient's kind's, or none."""
    if kind in NOT_RATE_LIMITED:
        return None
    return client if is_client(recipient_role) else staff


def defer(
    now: datetime,
    *,
    recipient_role: str,
    severity: str | None,
    zone: str,
    quiet: tuple[time, time] | None,
    recent: Sequence[datetime],
    limit: tuple[int, float] | None,
    kind: str = "",
) -> Deferral | None:
    """Whether a notification must wait: quiet hours (non-urgent client mail, but for one
    answered at once), then rate."""
    if is_client(recipient_role) and not is_urgent(severity) and kind not in ANSWERED_AT_ONCE:
        ends = quiet_hours_end(now, zone, quiet)
        if ends is not None:
            return Deferral(ends, "quiet_hours")
    until = rate_limit_until(now, recent, limit)
    if until is not None and not is_urgent(severity):
        return Deferral(until, "rate_limit")
    return None

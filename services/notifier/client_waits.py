"""When the client mails a staff notice says were written will really go. Pure functions.

A staff notice says what the message wrote to the client automatically (the escalator's
`client_contacts_sent`: the kinds, and since it says so, `to`: each client mail with its
ids, address, role, zone and severity). The sender may make such a mail wait: quiet hours in
the client's zone, the client's rate limit (scheduling.defer, decided when the row is
claimed, moments after acceptance). A manager who reads "written to the client" while the
mail waits an hour believes the client has it; so acceptance foresees the sender's decision
and the notice says when the client gets it, and why it waits.

The foresight runs the sender's own rule (`defer`) on what the claim will see: the client's
attempts inside the rate window, the rows to the client that are due before the mail (on
file, then the requests ahead of it in the same acceptance batch), each counted as the
sender counts it. A mail already on file (an earlier message asked for it) is said as its
row stands: refused, withdrawn or failed, it was NOT written, and the notice says so and
why (staff contact the client themselves); waiting on an SMTP retry, it is "being retried".
Foreseen, not promised: another replica's claim in between can still move it, which is why
the notice says "after" a time, never "at". A mail that ends undelivered after the notice
went is told to its readers by a follow-up (undelivered.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from shared.contracts import SendNotification

from .scheduling import Deferral, defer, is_client, is_urgent, rate_limit_of
from .undelivered import UNDELIVERED, why_undelivered

# What a row of these statuses means for the client: written, or being written now.
WRITTEN = frozenset({"sent", "sending"})
# The sender's deferrals a staff notice speaks of (a retry is a failure, not a wait).
WAITS = frozenset({"quiet_hours", "rate_limit"})


@dataclass(frozen=True)
class NotWritten:
    """The mail's row is final and the client did not get it: `why`, a code of
    undelivered.WHY (its words are the staff labels')."""

    why: str


@dataclass(frozen=True)
class Retrying:
    """The client's server did not take the mail yet: the sender tries again."""


# What a staff notice says of one client mail: None, written (or going at once); a Deferral,
# waiting for the client's clock; Retrying; NotWritten.
MailState = Deferral | NotWritten | Retrying | None


@dataclass(frozen=True)
class ClientSchedule:
    """The sender's rules for client mail, as the sender applies them (SendPolicy)."""

    quiet: tuple[time, time] | None
    limit: tuple[int, float] | None
    zone: str  # a client's zone when the request names none

    def can_defer(self) -> bool:
        return self.quiet is not None or self.limit is not None

    def window_start(self, now: datetime) -> datetime:
        """Attempts after this count against the client's rate limit."""
        return now - timedelta(seconds=self.limit[1] if self.limit else 0)


@dataclass(frozen=True)
class ClientMail:
    """A client mail a staff notice says was written (one entry of `client_contacts_sent.to`)."""

    ids: frozenset[uuid.UUID]  # its notification id and, for a digest, its parts'
    recipient: str
    role: str
    kind: str
    kinds: tuple[str, ...]  # what staff read it as (a digest: its parts' kinds)
    severity: str | None
    zone: str | None


@dataclass(frozen=True)
class OnFile:
    """A notification row to one of the clients, as the sender's claim will find it."""

    notification_id: uuid.UUID
    recipient: str
    status: str
    kind: str
    urgent: bool
    next_attempt_at: datetime | None
    deferred_reason: str | None
    last_attempt_at: datetime | None
    last_error: str | None = None  # why it was refused, withdrawn or failed, in words
    reason_code: str | None = None  # and as a code (undelivered.WHY; none before 0025)


@dataclass(frozen=True)
class Requested:
    """A client request of the same acceptance batch (a row the batch is about to insert)."""

    ids: frozenset[uuid.UUID]
    recipient: str
    kind: str
    urgent: bool


def named_client_mail(cmd: SendNotification) -> list[ClientMail]:
    """The client mails a staff notice says were written (`client_contacts_sent.to`); none
    in a client's mail, or from a producer of before, which named the kinds only."""
    sent = cmd.data.get("client_contacts_sent")
    if is_client(cmd.recipient_role) or not isinstance(sent, dict):
        return []
    mails = []
    for entry in sent.get("to") or []:
        try:
            mails.append(
                ClientMail(
                    ids=frozenset(uuid.UUID(str(i)) for i in entry["ids"]),
                    recipient=str(entry["recipient"]),
                    role=str(entry.get("role") or "client"),
                    kind=str(entry["kind"]),
                    kinds=tuple(entry.get("kinds") or [entry["kind"]]),
                    severity=entry.get("severity"),
                    zone=entry.get("timezone"),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # an entry this notifier cannot read: the mail is said as before
    return mails


def sends_to_client(cmd: SendNotification) -> bool:
    """A request that becomes a client's pending row (a held answer waits for no clock)."""
    return is_client(cmd.recipient_role) and cmd.held_for_confirmation is None


def requested_of(cmd: SendNotification) -> Requested:
    ids = {cmd.notification_id, *(part.notification_id for part in cmd.parts)}
    return Requested(frozenset(ids), cmd.recipient, cmd.kind, is_urgent(cmd.severity))


def wait_of(
    now: datetime,
    mail: ClientMail,
    on_file: Sequence[OnFile],
    requested: Sequence[Requested],
    schedule: ClientSchedule,
) -> MailState:
    """What becomes of `mail`: None when it goes at once (or went), a Deferral when the
    sender makes it wait, Retrying or NotWritten as its row on file stands.

    `on_file`: rows to the clients (any order): attempts inside the window, rows not yet
    sent, and the mail's own row when an earlier message asked for it. `requested`: the
    client requests of the acceptance batch in its order; those to the same client before
    the mail are claimed before it (all of them, when the mail comes in a later batch)."""
    own = [r for r in on_file if r.notification_id in mail.ids]
    if own:
        row = own[0]
        if row.status in WRITTEN:
            return None
        if row.status in UNDELIVERED:
            return NotWritten(why_undelivered(row.reason_code, row.last_error))
        if row.status == "pending" and row.deferred_reason == "retry":
            return Retrying()
        if (
            row.status == "pending"
            and row.deferred_reason in WAITS
            and row.next_attempt_at is not None
            and row.next_attempt_at > now
        ):
            return Deferral(row.next_attempt_at, row.deferred_reason)
        if row.status != "pending":
            return None  # held: no mail a notice names (the escalator leaves held ones out)
    zone = mail.zone or schedule.zone
    others = [
        r for r in on_file if r.recipient == mail.recipient and r.notification_id not in mail.ids
    ]
    since = schedule.window_start(now)
    recent = [
        r.last_attempt_at
        for r in others
        if r.status in WRITTEN and r.last_attempt_at is not None and r.last_attempt_at > since
    ]
    to_them = [q for q in requested if q.recipient == mail.recipient]
    position = next((i for i, q in enumerate(to_them) if q.ids & mail.ids), len(to_them))
    # Claimed before the mail: the rows due now in the sender's order (urgent first, then
    # the longest due), then the batch's requests before it; each counts once it may go.
    due = sorted(
        (r for r in others if r.status == "pending" and _due(r, now)),
        key=lambda r: (not r.urgent, r.next_attempt_at or now),
    )
    before = [(r.kind, r.urgent) for r in due] + [(q.kind, q.urgent) for q in to_them[:position]]
    for kind, urgent in before:
        if _deferral(now, kind, mail.role, "P1" if urgent else None, zone, recent, schedule):
            continue
        recent.append(now)
    return _deferral(now, mail.kind, mail.role, mail.severity, zone, recent, schedule)


def _due(row: OnFile, now: datetime) -> bool:
    return row.next_attempt_at is None or row.next_attempt_at <= now


def _deferral(
    now: datetime,
    kind: str,
    role: str,
    severity: str | None,
    zone: str,
    recent: list[datetime],
    schedule: ClientSchedule,
) -> Deferral | None:
    return defer(
        now,
        recipient_role=role,
        severity=severity,
        zone=zone,
        quiet=schedule.quiet,
        recent=recent,
        limit=rate_limit_of(kind, role, schedule.limit, None),
        kind=kind,
    )


def with_waits(
    sent: Mapping[str, Any],
    waits: Iterable[tuple[ClientMail, MailState]],
    schedule: ClientSchedule,
) -> dict[str, Any]:
    """`client_contacts_sent` as the staff notice says it: the kinds; `waits` for the mails
    that wait (their kinds, until when, why; with the rate limit, the limit); `retrying`
    for those an SMTP retry holds; `not_written` for those that will never go (kinds, why)."""
    said: dict[tuple[datetime, str], list[str]] = {}
    retrying: list[str] = []
    not_written: dict[str, list[str]] = {}
    for mail, state in waits:
        if isinstance(state, Deferral):
            kinds = said.setdefault((state.until, state.reason), [])
        elif isinstance(state, Retrying):
            kinds = retrying
        elif isinstance(state, NotWritten):
            kinds = not_written.setdefault(state.why, [])
        else:
            continue
        kinds += [k for k in mail.kinds if k not in kinds]
    out = dict(sent)
    if said:
        entries = []
        for (until, reason), kinds in sorted(said.items()):
            entry: dict[str, Any] = {"kinds": kinds, "until": until.isoformat(), "reason": reason}
            if reason == "rate_limit" and schedule.limit is not None:
                count, seconds = schedule.limit
                entry["limit"] = {"count": count, "seconds": int(seconds)}
            entries.append(entry)
        out["waits"] = entries
    if retrying:
        out["retrying"] = [{"kinds": retrying}]
    if not_written:
        out["not_written"] = [{"kinds": k, "why": why} for why, k in sorted(not_written.items())]
    return out


def watched(waits: Iterable[tuple[ClientMail, MailState]]) -> list[uuid.UUID]:
    """The ids of the mails the notice says were (or will be) written: should one end
    undelivered, its reader is told (undelivered.py). One said NOT written needs no word."""
    return sorted(i for m, s in waits if not isinstance(s, NotWritten) for i in m.ids)


def unsure(sent: Mapping[str, Any], schedule: ClientSchedule) -> dict[str, Any]:
    """A notice of a producer that named no mails: whether they wait cannot be known here,
    so, when the sender may make client mail wait at all, the notice says it may."""
    return {**sent, "unsure": True} if schedule.can_defer() else dict(sent)

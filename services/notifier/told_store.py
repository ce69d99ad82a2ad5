"""Which staff notices said a client mail was written (`notifier.client_mail_told`, migration
0024), and the follow-ups their readers get when that mail ends undelivered (undelivered.py
decides; this files them as pending notifications in the transaction that records the end).

Rows are written when a staff notice is accepted (deferred to its batch's insert) and read
only when a client mail ends refused, withdrawn or failed: nothing per mail sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from pydantic import ValidationError
from sqlalchemy import Column, DateTime, Table, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import SendNotification
from shared.group_commit import insert_later

from .adapters import ACTIVE, INSERT_NOTIFICATION, Executor, metadata, notifications
from .domain import render
from .scheduling import is_urgent
from .undelivered import follow_ups, is_undelivered_client_mail, told_of, why_undelivered

log = logging.getLogger(__name__)

client_mail_told = Table(
    "client_mail_told",
    metadata,
    Column("client_notification_id", UUID(as_uuid=True), primary_key=True),
    Column("staff_notification_id", UUID(as_uuid=True), primary_key=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
_INSERT_TOLD = insert(client_mail_told).on_conflict_do_nothing()
_IDS = bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))
# Sent, or still to go: a mail with any of its ids so did reach (or may reach) the client.
_GOING = ("sent", "held", *ACTIVE)


@dataclass
class ToldInBatch:
    """The staff notices of this acceptance batch that named client mail, by mail id: their
    rows are inserted at the batch's end, and a client request of the same batch may be
    refused before that (AcceptBatch keeps one)."""

    by_mail: dict[uuid.UUID, list[SendNotification]] = field(default_factory=dict)


@dataclass(frozen=True)
class Ended:
    """A client mail that ended undelivered: its request and why (undelivered.WHY)."""

    cmd: SendNotification
    why: str


async def remember_told(
    session: AsyncSession,
    staff: SendNotification,
    ids: Iterable[uuid.UUID],
    now: datetime,
    in_batch: ToldInBatch | None,
) -> None:
    """`staff` said the client mails of `ids` were (or will be) written."""
    for client_id in ids:
        row = {
            "client_notification_id": client_id,
            "staff_notification_id": staff.notification_id,
            "recorded_at": now,
        }
        await insert_later(session, _INSERT_TOLD, row)
        if in_batch is not None:
            in_batch.by_mail.setdefault(client_id, []).append(staff)


async def tell_undelivered(
    conn: Executor,
    ended: list[Ended],
    now: datetime,
    thread_of: Callable[[SendNotification], str | None],
    idempotency_key: Callable[[SendNotification], str],
    in_batch: ToldInBatch | None = None,
) -> int:
    """File the follow-ups of client mails that ended undelivered (undelivered.follow_ups);
    how many were new. Two statements when any mail ended, none otherwise."""
    if not ended:
        return 0
    # A notice naming the mail accepted in a transaction running beside this one: wait for
    # it, then read its rows (AcceptBatch.open takes the same locks).
    await lock_client_mails(conn, [e.cmd.notification_id for e in ended])
    told = await _told(conn, [e.cmd.notification_id for e in ended])
    if in_batch is not None:
        for e in ended:
            told.setdefault(e.cmd.notification_id, []).extend(
                in_batch.by_mail.get(e.cmd.notification_id, [])
            )
    if not any(told.values()):
        return 0
    # The other ids each told mail went under (a digest's, its parts'): one of them going
    # means the client was written after all.
    others = {
        uuid.UUID(i)
        for e in ended
        for staff in told.get(e.cmd.notification_id, [])
        for i in told_of(staff, e.cmd.notification_id) or ()
    } - {e.cmd.notification_id for e in ended}
    going = await _going(conn, list(others)) if others else set()
    made: dict[uuid.UUID, SendNotification] = {}
    for e in ended:
        staff_told = told.get(e.cmd.notification_id, [])
        for follow_up in follow_ups(e.cmd, e.why, staff_told, going, now, thread_of):
            made.setdefault(follow_up.notification_id, follow_up)
    rows = []
    for cmd in made.values():
        try:
            render(cmd)  # a notice that cannot render is refused at acceptance: not filed
        except TemplateError:
            log.exception("follow-up %s cannot render; not filed", cmd.notification_id)
            continue
        rows.append(pending_row(cmd, idempotency_key(cmd), now))
    for row in rows:
        if isinstance(conn, AsyncSession):
            await insert_later(conn, INSERT_NOTIFICATION, row)
        else:
            await conn.execute(INSERT_NOTIFICATION, [row])
    return len(rows)


async def lock_client_mails(conn: Executor, ids: Iterable[uuid.UUID]) -> None:
    """Serialize what is decided of these client mails until this transaction ends: a staff
    notice naming one (what it says of it, that it told) and the mail's own end (refused,
    withdrawn, failed). Without it, two transactions side by side (group commit runs
    several) each missed the other: a notice said "written" of a mail refused beside it, or
    the refusal found no notice yet to follow up. A notice's batch takes the locks of the
    mails it names before it reads them; a mail that ends takes its own before it looks for
    notices, and holds it until its end is committed. Taken in one statement in a fixed
    order; two ends in one transaction beside a notice naming both may still meet in the
    other order: PostgreSQL then aborts one transaction, whose inputs run again alone."""
    keys = sorted({f"notifier-client-mail:{i}" for i in ids})
    if keys:
        await conn.execute(_LOCK_CLIENT_MAILS, {"keys": keys})


_LOCK_CLIENT_MAILS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
    "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS ordered"
)


async def _told(conn: Executor, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SendNotification]]:
    found = await conn.execute(_TOLD, {"ids": ids})
    told: dict[uuid.UUID, list[SendNotification]] = {}
    for client_id, request in found:
        try:
            staff = SendNotification.model_validate(request)
        except ValidationError:  # its content cut by retention (CARELINE_CONTENT_DAYS)
            continue
        told.setdefault(client_id, []).append(staff)
    return told


_TOLD = (
    select(client_mail_told.c.client_notification_id, notifications.c.request)
    .join(
        notifications,
        notifications.c.notification_id == client_mail_told.c.staff_notification_id,
    )
    .where(
        client_mail_told.c.client_notification_id == any_(_IDS),
        # A staff notice refused or withdrawn told nobody anything.
        notifications.c.status.in_(("sent", *ACTIVE)),
    )
)


async def _going(conn: Executor, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    found = await conn.execute(_GOING_OF, {"ids": ids})
    return {i for (i,) in found}


_GOING_OF = select(notifications.c.notification_id).where(
    notifications.c.notification_id == any_(_IDS), notifications.c.status.in_(_GOING)
)


def pending_row(cmd: SendNotification, key: str, now: datetime) -> dict[str, Any]:
    """A notification the notifier makes itself, due now (as an accepted request's row)."""
    return {
        "notification_id": cmd.notification_id,
        "message_id": cmd.message_id,
        "escalation_id": cmd.escalation_id,
        "kind": cmd.kind,
        "channel": cmd.channel,
        "recipient_role": cmd.recipient_role,
        "recipient": cmd.recipient,
        "request": cmd.model_dump(mode="json"),
        "urgent": is_urgent(cmd.severity),
        "attempts": 0,
        "idempotency_key": key,
        "trace_context": {},
        "created_at": now,
        "updated_at": now,
        "status": "pending",
        "next_attempt_at": now,
    }


def ended_of(values: dict[str, Any], cmd: SendNotification) -> Ended | None:
    """The client mail `cmd` as it ends with the row values `values`, if undelivered."""
    status = str(values.get("status"))
    if not is_undelivered_client_mail(cmd, status):
        return None
    return Ended(cmd, why_of_row(values))


def why_of_row(values: dict[str, Any]) -> str:
    """Why a row ended undelivered: its code, or (a row of before 0025) its reason's words."""
    reason = values.get("withdrawn_reason") or values.get("last_error")
    return why_undelivered(values.get("reason_code"), reason)

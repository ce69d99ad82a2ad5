"""The notifier's tables (schema `notifier`) and the SQL of its transactional outbox.

`notifications` is the outbox: a row is written in the transaction that acks the request
(status `pending`), the sender claims it (`sending`, attempts + 1), and records the outcome
(`sent`, `failed`) with the result event to publish. An answer held until its recipient's
address is confirmed waits as `held` and becomes `pending` or `withdrawn` (hold_store.py).
Migrations: 0001, 0003_notifier, 0007_notifier_held and 0025_notifier_reason_code
(0022_notifier_revoked: hold_store.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    all_,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.outbox import Outgoing, processed_table

from .client_waits import OnFile

metadata = MetaData(schema="notifier")
notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", UUID(as_uuid=True), primary_key=True),
    Column("message_id", UUID(as_uuid=True), nullable=False),
    Column("escalation_id", UUID(as_uuid=True)),
    Column("kind", String, nullable=False),
    Column("recipient_role", String, nullable=False),
    Column("recipient", String, nullable=False),
    Column("status", String, nullable=False),
    Column("provider_message_id", String),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    # 0003_notifier: the outbox
    Column("channel", String, nullable=False, server_default="email"),
    Column("request", JSONB),
    Column("urgent", Boolean, nullable=False, server_default="false"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_attempt_at", DateTime(timezone=True)),
    Column("deferred_reason", String),
    Column("idempotency_key", String),
    Column("result", JSONB),
    Column("result_published_at", DateTime(timezone=True)),
    Column("trace_context", JSONB),
    Column("updated_at", DateTime(timezone=True)),
    # 0007_notifier_held: answers held until the sender's address is confirmed (holds.py)
    Column("held_for_confirmation", UUID(as_uuid=True)),
    Column("held_at", DateTime(timezone=True)),
    Column("released_at", DateTime(timezone=True)),
    Column("released_by", UUID(as_uuid=True)),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdrawn_by", UUID(as_uuid=True)),
    Column("withdrawn_reason", Text),
    # 0025_notifier_reason_code: why a row ended refused, withdrawn or failed, as a code
    # (undelivered.WHY): what staff read; the reasons above are ops' words.
    Column("reason_code", String),
)
processed = processed_table(metadata)

ACTIVE = ("pending", "sending")
FINAL = ("sent", "failed", "refused", "withdrawn")
# `held` is neither: nothing sends it, and a confirmation's outcome moves it on.


@dataclass(frozen=True)
class OutboxRow:
    notification_id: uuid.UUID
    status: str
    request: dict[str, Any]
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    recipient: str
    idempotency_key: str
    trace_context: dict[str, str]
    released_at: datetime | None = None  # a held answer, released when its address was confirmed

    @property
    def dated(self) -> datetime:
        """The mail's date: when it was accepted, or released (a held answer released days
        later would land days back in the inbox); fixed, so a retry sends the same bytes."""
        return self.released_at or self.created_at


# The sender runs some statements on the connection that holds its claim locks.
Executor = AsyncSession | AsyncConnection


def claim_lock_key(notification_id: uuid.UUID | str) -> str:
    """Key of the advisory lock a sender holds while it delivers one notification."""
    return f"notifier-send:{notification_id}"


async def try_claim(conn: AsyncConnection, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Take the notifications' advisory locks for this connection's transaction where free;
    the ids whose lock this sender now holds.

    Held on a connection of its own for the whole send: if the process dies, PostgreSQL
    drops the connection and the locks with it, so a `sending` row whose lock is free is
    one whose sender crashed.
    """
    keys = [claim_lock_key(i) for i in ids]
    locked = await conn.execute(_TRY_CLAIM, {"keys": keys})
    free = {key for (key,) in locked}
    return [i for i, key in zip(ids, keys, strict=True) if key in free]


# A try-lock never waits, so the order in which they are taken does not matter.
_TRY_CLAIM = text(
    "SELECT k FROM unnest(CAST(:keys AS text[])) AS k "
    "WHERE pg_try_advisory_xact_lock(hashtextextended(k, 0)) ORDER BY k"
)


async def lock_recipients(session: AsyncSession, recipients: list[str]) -> None:
    """Wait for these recipients' rate-limit locks, held until the transaction ends.

    Two claims counting the same recipient's recent attempts at once would each see the
    other's mail as not yet sent and both go; with the lock the second reads after the
    first committed its `sending` rows. The query takes them in sorted order, so claims
    never deadlock.
    """
    if recipients:
        await session.execute(_LOCK_RECIPIENTS, {"keys": list(set(recipients))})


_LOCK_RECIPIENTS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended('notifier.recipient:' || k, 0)) "
    "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS ordered"
)


# An accepted request's row (one already on file, a redelivery, stays as it is).
INSERT_NOTIFICATION = insert(notifications).on_conflict_do_nothing()


async def due(
    session: Executor, now: datetime, limit: int, exclude: Collection[uuid.UUID] = ()
) -> list[uuid.UUID]:
    """The notifications to send now, most urgent first, but those in `exclude`."""
    found = await session.scalars(_DUE, {"now": now, "limit": limit, "exclude": list(exclude)})
    return list(found.all())


# The sender's statements are built once: a statement object used again skips SQLAlchemy's
# building and cache-key walk, and array parameters keep one compiled (and one prepared)
# form whatever the number of ids. At light load a pass runs each of them per notification.
_IDS = bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))
_DUE = (
    select(notifications.c.notification_id)
    .where(
        notifications.c.status.in_(ACTIVE),
        notifications.c.next_attempt_at <= bindparam("now", type_=DateTime(timezone=True)),
        notifications.c.notification_id
        != all_(bindparam("exclude", type_=ARRAY(UUID(as_uuid=True)))),
    )
    .order_by(notifications.c.urgent.desc(), notifications.c.next_attempt_at)
    .limit(bindparam("limit", type_=Integer))
)


async def load_for_update(session: AsyncSession, ids: list[uuid.UUID]) -> list[OutboxRow]:
    """The rows, locked, in the order they are due (urgent first)."""
    rows = await session.execute(_LOAD_FOR_UPDATE, {"ids": ids})
    return [_outbox_row(row) for row in rows.mappings()]


_LOAD_FOR_UPDATE = (
    select(notifications)
    .where(notifications.c.notification_id == any_(_IDS))
    .order_by(notifications.c.urgent.desc(), notifications.c.next_attempt_at)
    .with_for_update()
)


def _outbox_row(row: Any) -> OutboxRow:
    return OutboxRow(
        notification_id=row["notification_id"],
        status=row["status"],
        request=row["request"] or {},
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        recipient=row["recipient"],
        idempotency_key=row["idempotency_key"] or str(row["notification_id"]),
        trace_context=row["trace_context"] or {},
        released_at=row["released_at"],
    )


async def recent_attempts(
    session: AsyncSession, recipients: list[str], since: datetime
) -> dict[str, dict[uuid.UUID, datetime]]:
    """When these recipients were last sent to (or are being sent to), for their rate limits:
    recipient -> notification -> its last attempt."""
    found: dict[str, dict[uuid.UUID, datetime]] = {r: {} for r in recipients}
    if not recipients:
        return found
    query = select(
        notifications.c.recipient, notifications.c.notification_id, notifications.c.last_attempt_at
    ).where(
        notifications.c.recipient.in_(recipients),
        notifications.c.status.in_(("sent", "sending")),
        notifications.c.last_attempt_at > since,
    )
    for recipient, notification_id, at in await session.execute(query):
        found[recipient][notification_id] = at
    return found


async def client_mail_on_file(
    session: AsyncSession, recipients: list[str], ids: list[uuid.UUID], since: datetime
) -> list[OnFile]:
    """What a claim of mail to these clients would weigh (client_waits.py): their rows
    attempted after `since` or not yet sent, and the rows of `ids` however old."""
    if not recipients and not ids:
        return []
    rows = await session.execute(
        _CLIENT_MAIL_ON_FILE, {"recipients": recipients, "ids": ids, "since": since}
    )
    return [OnFile(**row) for row in rows.mappings()]


_CLIENT_MAIL_ON_FILE = select(
    notifications.c.notification_id,
    notifications.c.recipient,
    notifications.c.status,
    notifications.c.kind,
    notifications.c.urgent,
    notifications.c.next_attempt_at,
    notifications.c.deferred_reason,
    notifications.c.last_attempt_at,
    func.coalesce(notifications.c.withdrawn_reason, notifications.c.last_error).label("last_error"),
    notifications.c.reason_code,
).where(
    or_(
        and_(
            notifications.c.recipient == any_(bindparam("recipients", type_=ARRAY(String))),
            or_(
                notifications.c.status.in_(ACTIVE),
                and_(
                    notifications.c.status == "sent",
                    notifications.c.last_attempt_at
                    > bindparam("since", type_=DateTime(timezone=True)),
                ),
            ),
        ),
        notifications.c.notification_id == any_(_IDS),
    )
)


async def set_many(
    session: Executor,
    changes: list[tuple[uuid.UUID, dict[str, Any]]],
    attempts: dict[uuid.UUID, int] | None = None,
) -> None:
    """Update many rows, one statement per set of columns; with `attempts`, each row only
    if no other sender claimed it since (fencing)."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for notification_id, values in changes:
        row = {f"v_{k}": v for k, v in values.items()}
        row["b_id"] = notification_id
        if attempts is not None:
            row["b_attempts"] = attempts[notification_id]
        by_columns.setdefault(tuple(sorted(values)), []).append(row)
    for columns, rows in by_columns.items():
        condition = notifications.c.notification_id == bindparam("b_id")
        if attempts is not None:
            condition = and_(condition, notifications.c.attempts == bindparam("b_attempts"))
        stmt = update(notifications).where(condition)
        await session.execute(stmt.values({c: bindparam(f"v_{c}") for c in columns}), rows)


async def attempts_of(session: Executor, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    found = await session.execute(_ATTEMPTS_OF, {"ids": ids})
    return {notification_id: n for notification_id, n in found}


_ATTEMPTS_OF = select(notifications.c.notification_id, notifications.c.attempts).where(
    notifications.c.notification_id == any_(_IDS)
)


async def mark_published(session: AsyncSession, ids: list[uuid.UUID], at: datetime) -> None:
    await session.execute(_MARK_PUBLISHED, {"ids": ids, "at": at})


_MARK_PUBLISHED = (
    update(notifications)
    .where(notifications.c.notification_id == any_(_IDS))
    .values(result_published_at=bindparam("at", type_=DateTime(timezone=True)))
)


async def unpublished(
    session: AsyncSession, limit: int, exclude: Collection[uuid.UUID] = ()
) -> list[tuple[uuid.UUID, Outgoing]]:
    """Final outcomes whose result event was not yet confirmed published, but those in `exclude`."""
    query = (
        select(notifications.c.notification_id, notifications.c.result)
        .where(
            notifications.c.status.in_(FINAL),
            notifications.c.result.is_not(None),
            notifications.c.result_published_at.is_(None),
        )
        .limit(limit)
    )
    if exclude:
        query = query.where(notifications.c.notification_id.not_in(list(exclude)))
    rows = (await session.execute(query)).all()
    return [(nid, Outgoing(r["subject"], r["event_id"], r["payload"])) for nid, r in rows]


async def list_notifications(
    session: AsyncSession, limit: int, status: str | None = None, recipient: str | None = None
) -> list[dict[str, Any]]:
    query = select(
        notifications.c.created_at,
        notifications.c.sent_at,
        notifications.c.kind,
        notifications.c.channel,
        notifications.c.recipient_role,
        notifications.c.recipient,
        notifications.c.status,
        notifications.c.attempts,
        notifications.c.next_attempt_at,
        notifications.c.deferred_reason,
        notifications.c.last_error,
        notifications.c.notification_id,
        notifications.c.held_for_confirmation,
        notifications.c.held_at,
        notifications.c.released_at,
        notifications.c.released_by,
        notifications.c.withdrawn_at,
        notifications.c.withdrawn_reason,
    ).order_by(notifications.c.created_at.desc())
    if status:
        query = query.where(notifications.c.status == status)
    if recipient:
        query = query.where(notifications.c.recipient == recipient)
    return [dict(r) for r in (await session.execute(query.limit(limit))).mappings()]

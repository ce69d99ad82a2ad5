"""The SQL of held answers: what each confirmation came to, and the rows waiting for it; and
the addresses staff took back (revoked.py).

Whoever reads or changes the holds of a confirmation first takes its advisory lock
(`hold_lock_key`), in the same transaction: the request that arrives and the outcome that
arrives are serialized, so a held row is never left behind by an outcome that came first.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, String, Table, any_, bindparam, column, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from .adapters import metadata, notifications
from .holds import Resolution
from .revoked import RevokedAddress, address_key

confirmation_outcomes = Table(
    "confirmation_outcomes",
    metadata,
    Column("confirmation_id", UUID(as_uuid=True), primary_key=True),
    Column("outcome", String, nullable=False),
    Column("channel_kind", String),
    Column("address", String),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# 0022_notifier_revoked: the latest revoke of each address (revoked.py)
revoked_addresses = Table(
    "revoked_addresses",
    metadata,
    Column("address", String, primary_key=True),  # revoked.address_key
    Column("confirmation_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


def hold_lock_key(confirmation_id: uuid.UUID) -> str:
    return f"notifier-confirmation:{confirmation_id}"


async def remember(session: AsyncSession, resolution: Resolution, now: datetime) -> Resolution:
    """Keep the outcome (the first one on file wins) and return the one on file."""
    await session.execute(
        insert(confirmation_outcomes)
        .values(
            confirmation_id=resolution.confirmation_id,
            outcome=resolution.outcome,
            channel_kind=resolution.channel_kind,
            address=resolution.address,
            event_id=resolution.event_id,
            decided_at=resolution.at,
            recorded_at=now,
        )
        .on_conflict_do_nothing()
    )
    on_file = await outcome_of(session, resolution.confirmation_id)
    assert on_file is not None
    return on_file


async def revoke(session: AsyncSession, resolution: Resolution, now: datetime) -> None:
    """Staff took the confirmation back: `revoked` is on file from now on, whatever was
    before (a `confirmed` would release a held answer that comes late to the address)."""
    values = {
        "outcome": resolution.outcome,
        "channel_kind": resolution.channel_kind,
        "address": resolution.address,
        "event_id": resolution.event_id,
        "decided_at": resolution.at,
        "recorded_at": now,
    }
    await session.execute(
        insert(confirmation_outcomes)
        .values(confirmation_id=resolution.confirmation_id, **values)
        .on_conflict_do_update(index_elements=["confirmation_id"], set_=values)
    )


async def remember_revoked(session: AsyncSession, resolution: Resolution, now: datetime) -> None:
    """Keep the address's latest revoke: a request made before it never goes there. An
    older revoke (a redelivery, the command run again) leaves a later one as it is."""
    assert resolution.address is not None
    values = {
        "confirmation_id": resolution.confirmation_id,
        "event_id": resolution.event_id,
        "revoked_at": resolution.at,
        "recorded_at": now,
    }
    stmt = insert(revoked_addresses).values(address=address_key(resolution.address), **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["address"],
            set_=values,
            where=revoked_addresses.c.revoked_at <= stmt.excluded.revoked_at,
        )
    )


async def revoked_of(session: AsyncSession, addresses: set[str]) -> dict[str, RevokedAddress]:
    """The revokes on file of these addresses (address_key), in one statement."""
    rows = await session.execute(_REVOKED_OF, {"addresses": sorted(addresses)})
    return {
        row.address: RevokedAddress(row.address, row.confirmation_id, row.event_id, row.revoked_at)
        for row in rows
    }


_REVOKED_OF = select(
    revoked_addresses.c.address,
    revoked_addresses.c.confirmation_id,
    revoked_addresses.c.event_id,
    revoked_addresses.c.revoked_at,
).where(revoked_addresses.c.address == any_(bindparam("addresses", type_=ARRAY(String))))


async def unsent_to(session: AsyncSession, address: str) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """(notification id, request) of the rows to `address` not sent yet (pending, or held
    for any confirmation), locked; a row being sent (`sending`) is past stopping."""
    query = (
        select(notifications.c.notification_id, notifications.c.request)
        .where(
            func.lower(notifications.c.recipient) == address_key(address),
            notifications.c.status.in_(("pending", "held")),
        )
        .order_by(notifications.c.created_at)
        .with_for_update()
    )
    return [(nid, request) for nid, request in (await session.execute(query)).all()]


async def outcome_of(session: AsyncSession, confirmation_id: uuid.UUID) -> Resolution | None:
    row = (
        (
            await session.execute(
                select(confirmation_outcomes).where(
                    confirmation_outcomes.c.confirmation_id == confirmation_id
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return Resolution(
        confirmation_id=row["confirmation_id"],
        outcome=row["outcome"],
        event_id=row["event_id"],
        at=row["decided_at"],
        channel_kind=row["channel_kind"],
        address=row["address"],
    )


async def held_for(
    session: AsyncSession, confirmation_id: uuid.UUID
) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """(notification id, request) of the rows still held for this confirmation, locked."""
    query = (
        select(notifications.c.notification_id, notifications.c.request)
        .where(
            notifications.c.held_for_confirmation == confirmation_id,
            notifications.c.status == "held",
        )
        .order_by(notifications.c.created_at)
        .with_for_update()
    )
    return [(nid, request) for nid, request in (await session.execute(query)).all()]


async def request_of(session: AsyncSession, confirmation_id: uuid.UUID) -> dict[str, Any] | None:
    """The identity confirmation request that asked for this confirmation, as accepted."""
    found: dict[str, Any] | None = await session.scalar(_REQUEST_OF, {"id": str(confirmation_id)})
    return found


# The path is written out (not bound) so that migration 0019's index on it is used.
_REQUEST_OF = text(
    "SELECT request FROM notifier.notifications WHERE kind = 'identity_confirmation' "
    "AND (request -> 'data' ->> 'confirmation_id') = :id LIMIT 1"
).columns(column("request", JSONB))

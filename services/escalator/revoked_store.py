"""The revokes the escalator handled, kept for the messages it handles after them (table
`revoked_addresses`, migration 0023; revoked_sender.py says what they change)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from .policy_rules import address_key
from .revocation import Revocation
from .revoked_sender import RevokedAddress
from .tables import revoked_addresses


async def remember_revoked(session: AsyncSession, r: Revocation, now: datetime) -> None:
    """Keep the customer's address's latest revoke; an older one (a redelivery, the command
    run again for an earlier confirmation) leaves a later one as it is."""
    values = {
        "confirmation_id": r.confirmation_id,
        "revoked_by": r.by,
        "revoked_at": r.at,
        "recorded_at": now,
    }
    stmt = insert(revoked_addresses).values(
        customer_id=r.customer_id, address=address_key(r.address), **values
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["customer_id", "address"],
            set_=values,
            where=revoked_addresses.c.revoked_at <= stmt.excluded.revoked_at,
        )
    )


async def revoked_of(
    session: AsyncSession, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], RevokedAddress]:
    """The revokes on file of these (customer, address key) pairs, in one statement (none
    for no pairs)."""
    if not keys:
        return {}
    customers = sorted({c for c, _ in keys})
    addresses = sorted({a for _, a in keys})
    rows = await session.execute(_revoked_of(), {"customers": customers, "addresses": addresses})
    found = {
        (row.customer_id, row.address): RevokedAddress(
            row.customer_id, row.address, row.confirmation_id, row.revoked_by, row.revoked_at
        )
        for row in rows
    }
    # Both lists match more pairs than were asked for when there are several of each.
    return {k: v for k, v in found.items() if k in keys}


# Built once, as history_store's: an array parameter keeps one compiled form for any batch.
@cache
def _revoked_of() -> Select[Any]:
    r = revoked_addresses.c
    return select(r.customer_id, r.address, r.confirmation_id, r.revoked_by, r.revoked_at).where(
        r.customer_id == any_(bindparam("customers", type_=ARRAY(String))),
        r.address == any_(bindparam("addresses", type_=ARRAY(String))),
    )

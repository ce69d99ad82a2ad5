"""Taking a confirmed address back: the client's registered contact said yes to a stranger's
address and later no («Да» to the first mail, «Это не мы» to the payment-details one), or
staff found on the phone that the address is not the client's.

Words in a reply never undo a confirmation (services/verifier/confirmation.py: a no after a
yes is told to staff, `denied_after_confirmed`); a person does, with `careline crm revoke`.
Channels confirmed through Careline survive the CRM's updates (mirror.py), so without this
the address would stay the client's verified channel for good. Revoking removes the
confirmed channel and records the confirmation as denied, by staff: from then on the address
writing in the client's name is a suspicious sender (denials.py), as after a denial by reply.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .adapters import confirmation_log, confirmations, contact_channels, contacts
from .matching import channel_key
from .mirror import CONFIRMED


@dataclass(frozen=True)
class Revoked:
    """What a revocation changed: the confirmations now denied, the channels removed."""

    confirmation_ids: list[uuid.UUID]
    channels_removed: int


def channel_kind_of(address: str) -> str:
    """The kind of channel an address typed by staff is: "@handle", "+phone", or an email."""
    address = address.strip()
    if address.startswith("@"):
        return "handle"
    if "@" in address:
        return "email"
    return "phone"


async def revoke_confirmed(
    session: AsyncSession, customer_id: str, address: str, by: str, at: datetime
) -> Revoked:
    """Take back every confirmation of `address` for `customer_id` (ids only in the log:
    who revoked, when)."""
    kind = channel_kind_of(address)
    key = channel_key(kind, address)
    c = confirmations.c
    ids = list(
        await session.scalars(
            select(c.confirmation_id).where(
                c.customer_id == customer_id,
                c.channel_kind == kind,
                c.match_key == key,
                c.status == "confirmed",
            )
        )
    )
    if ids:
        await session.execute(
            update(confirmations)
            .where(c.confirmation_id.in_(ids))
            .values(status="denied", resolved_at=at, resolved_via="staff")
        )
        await session.execute(
            confirmation_log.insert(),
            [
                {"confirmation_id": i, "entry": "revoked", "detail": {"by": by}, "at": at}
                for i in ids
            ],
        )
    ours = select(contacts.c.id).where(contacts.c.customer_id == customer_id)
    removed = await session.execute(
        delete(contact_channels).where(
            contact_channels.c.kind == kind,
            contact_channels.c.match_key == key,
            contact_channels.c.source == CONFIRMED,
            contact_channels.c.contact_id.in_(ours),
        )
    )
    return Revoked(ids, removed.rowcount or 0)  # type: ignore[attr-defined]

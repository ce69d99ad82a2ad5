"""Taking a confirmed address back: the client's registered contact said yes to a stranger's
address and later no («Да» to the first mail, «Это не мы» to the payment-details one), or
staff found on the phone that the address is not the client's.

Words in a reply never undo a confirmation (services/verifier/confirmation.py: a no after a
yes is told to staff, `denied_after_confirmed`); a person does, with `careline crm revoke`.
Channels confirmed through Careline survive the CRM's updates (mirror.py), so without this
the address would stay the client's verified channel for good. Revoking removes the
confirmed channel and records the confirmation as denied, by staff: from then on the address
writing in the client's name is a suspicious sender (denials.py), as after a denial by reply.

Downstream hears it as `crm.channel.revoked` (one `ChannelRevoked` per confirmation taken
back), published by the command after the commit. Its event id is the confirmation's, so
running the command again (the publish failed, say) announces the same revocations again
under the same ids, which JetStream takes once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.broker import connect
from shared.contracts import ChannelRef, ChannelRevoked, StaffRef, TakenBack, derived_id
from shared.outbox import Outgoing
from shared.settings import CarelineSettings
from shared.subjects import CRM_CHANNEL_REVOKED

from .adapters import (
    SqlCrmDirectory,
    confirmation_log,
    confirmations,
    contact_channels,
    contacts,
)
from .confirm_store import confirmed_at_of, revoked_by_of
from .matching import channel_key
from .mirror import CONFIRMED


@dataclass(frozen=True)
class Revoked:
    """What a revocation changed: the confirmations now denied, the channels removed."""

    confirmation_ids: list[uuid.UUID]
    channels_removed: int
    # Every revocation of the address by staff (this one's and any before): to publish.
    events: list[Outgoing]


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
    events = await _revocations(session, customer_id, kind, key)
    return Revoked(ids, removed.rowcount or 0, events)  # type: ignore[attr-defined]


async def _revocations(
    session: AsyncSession, customer_id: str, kind: str, key: str
) -> list[Outgoing]:
    """`crm.channel.revoked` for each confirmation of the address staff took back, with who
    did (the log's last `revoked` entry) and when."""
    c = confirmations.c
    by = revoked_by_of(c.confirmation_id)
    rows = await session.execute(
        select(
            c.confirmation_id,
            c.message_id,
            c.correlation_id,
            c.channel_kind,
            c.channel_address,
            c.resolved_at,
            by.label("by"),
            confirmed_at_of(c.confirmation_id).label("confirmed_at"),
        )
        .where(
            c.customer_id == customer_id,
            c.channel_kind == kind,
            c.match_key == key,
            c.status == "denied",
            c.resolved_via == "staff",
        )
        .order_by(c.confirmation_id)
    )
    manager = await account_manager_of(session, customer_id)
    found = list(rows.mappings())
    return [revoked_event(customer_id, row, manager, taken_back_with(row, found)) for row in found]


def taken_back_with(row: Any, rows: list[Any]) -> list[TakenBack]:
    """The confirmations the command that took back `row` took back with it (`rows`: every
    revocation of the address; one command's share its time), in the order they were
    confirmed (one on record last)."""
    same = [r for r in rows if r["resolved_at"] == row["resolved_at"]]
    same.sort(key=lambda r: (r["confirmed_at"] is None, r["confirmed_at"] or r["resolved_at"]))
    return [
        TakenBack(
            confirmation_id=r["confirmation_id"],
            address=r["channel_address"],
            confirmed_at=r["confirmed_at"],
        )
        for r in same
    ]


async def account_manager_of(session: AsyncSession, customer_id: str) -> StaffRef | None:
    """The customer's account manager in the CRM mirror, as an identity carries them: who
    hears of a revoke no open case of the client was touched by (the escalator has no one
    else to tell then)."""
    facts = (await SqlCrmDirectory(session).customer_facts([customer_id])).get(customer_id)
    return facts.account_manager if facts is not None else None


def revoked_event(
    customer_id: str,
    row: Any,
    manager: StaffRef | None = None,
    taken_back: list[TakenBack] | None = None,
) -> Outgoing:
    event = ChannelRevoked(
        event_id=derived_id("channel-revoked", row["confirmation_id"]),
        message_id=row["message_id"],
        correlation_id=row["correlation_id"],
        occurred_at=row["resolved_at"],
        confirmation_id=row["confirmation_id"],
        customer_id=customer_id,
        channel=ChannelRef(
            kind=row["channel_kind"], address=row["channel_address"], verified=False
        ),
        revoked_by=row["by"] or "staff",
        revoked_at=row["resolved_at"],
        account_manager=manager,
        taken_back=taken_back or [],
    )
    return Outgoing.of(CRM_CHANNEL_REVOKED, event)


async def announce(settings: CarelineSettings, events: list[Outgoing]) -> None:
    """Publish the revocations on JetStream (their ids as Nats-Msg-Id), acks awaited."""
    nc = await connect(settings, patient=False)
    try:
        js = nc.jetstream()
        for out in events:
            await js.publish(
                out.subject,
                json.dumps(out.payload).encode(),
                headers={"Nats-Msg-Id": out.event_id},
            )
    finally:
        await nc.close()

"""Confirmations in schema crm: the requests, their single use, the audit log, the new channel."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import ConfirmationRequest, derived_id
from shared.outbox import lock_keys

from .adapters import (
    confirmation_log,
    confirmations,
    contact_channels,
    contacts,
    identity_decisions,
)
from .denials import Denial
from .matching import name_keys
from .mirror import CONFIRMED


@dataclass(frozen=True)
class PendingConfirmation:
    confirmation_id: uuid.UUID
    message_id: uuid.UUID
    correlation_id: str
    customer_id: str
    contact_id: str | None
    channel_kind: str
    channel_address: str
    match_key: str
    claimed_name: str | None
    code: str
    status: str
    expires_at: datetime

    @classmethod
    def of(cls, row: Any) -> PendingConfirmation:
        return cls(**{f: row[f] for f in cls.__dataclass_fields__})


# (customer id, channel kind, match key): whose address a confirmation verifies.
Channel = tuple[str, str, str]


async def lock_addresses(session: AsyncSession, addresses: set[tuple[str, str]]) -> None:
    """Serialize the transactions that may ask about one address (kind, match key) until
    they commit.

    Two messages from one new address handled at once, in two transactions, each found no
    request open and each sent one: two codes for one address, and the second message
    told of a request the first superseded. Whoever looks second now waits for the first
    to commit and then finds its request. A batch locks all its senders' addresses at
    once, in one sorted statement, before anything else (`VerifierService._open_batch`):
    taken one by one, in message order, two batches could each hold the address the other
    waits for. A lock the transaction holds already is taken again at no wait."""
    await lock_keys(session, [f"crm.confirmation:{kind}:{key}" for kind, key in addresses])


class SqlConfirmationStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_for(
        self, customer_id: str, kind: str, match_key: str, now: datetime
    ) -> PendingConfirmation | None:
        """A pending, unexpired confirmation of this address for this customer, if any
        (the address locked until the transaction ends: see `lock_addresses`)."""
        await lock_addresses(self.session, {(kind, match_key)})
        row = (
            (
                await self.session.execute(
                    select(confirmations)
                    .where(
                        confirmations.c.customer_id == customer_id,
                        confirmations.c.channel_kind == kind,
                        confirmations.c.match_key == match_key,
                        confirmations.c.status == "pending",
                        confirmations.c.expires_at > now,
                    )
                    .order_by(confirmations.c.requested_at.desc())
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        return PendingConfirmation.of(row) if row else None

    async def add(
        self,
        request: ConfirmationRequest,
        *,
        message_id: uuid.UUID,
        correlation_id: str,
        customer_id: str,
        contact_id: str | None,
        channel: tuple[str, str, str],
        claimed_name: str | None,
        now: datetime,
    ) -> None:
        kind, address, key = channel
        await self._request(
            {
                "confirmation_id": request.confirmation_id,
                "message_id": message_id,
                "correlation_id": correlation_id,
                "customer_id": customer_id,
                "contact_id": contact_id,
                "channel_kind": kind,
                "channel_address": address,
                "match_key": key,
                "claimed_name": claimed_name,
                "code": request.code,
                "status": "pending",
                "requested_at": now,
                "expires_at": request.expires_at,
            }
        )
        await self.log(
            request.confirmation_id,
            "requested",
            {"message_id": str(message_id), "customer_id": customer_id, "channel_kind": kind},
            now,
        )

    async def _request(self, row: dict[str, Any]) -> None:
        """File a new request's row (a batch collects it instead: batch.py)."""
        await self.session.execute(insert(confirmations).values(row).on_conflict_do_nothing())

    async def denials_of(
        self,
        customer_ids: Collection[str],
        since: datetime,
        addresses: Collection[tuple[str, str]] = (),
    ) -> list[Denial]:
        """The confirmations denied after `since` of these customers or of these addresses
        (kind, match key), newest first (`denials_of`)."""
        return await denials_of(self.session, customer_ids, since, addresses)

    async def with_codes(self, customer_id: str, codes: list[str]) -> list[PendingConfirmation]:
        """Confirmations of this customer carrying these codes, locked for resolution."""
        if not codes:
            return []
        rows = (
            await self.session.execute(
                select(confirmations)
                .where(confirmations.c.customer_id == customer_id, confirmations.c.code.in_(codes))
                .order_by(confirmations.c.requested_at)
                .with_for_update()
            )
        ).mappings()
        return [PendingConfirmation.of(r) for r in rows]

    async def pending_of(self, customer_id: str) -> list[PendingConfirmation]:
        """This customer's pending confirmations, oldest first, locked for resolution."""
        rows = (
            await self.session.execute(
                select(confirmations)
                .where(
                    confirmations.c.customer_id == customer_id,
                    confirmations.c.status == "pending",
                )
                .order_by(confirmations.c.requested_at)
                .with_for_update()
            )
        ).mappings()
        return [PendingConfirmation.of(r) for r in rows]

    async def due_to_expire(self, now: datetime, limit: int) -> list[PendingConfirmation]:
        """Pending confirmations past their expiry, locked; replicas skip each other's."""
        rows = (
            await self.session.execute(
                select(confirmations)
                .where(confirmations.c.status == "pending", confirmations.c.expires_at <= now)
                .order_by(confirmations.c.expires_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).mappings()
        return [PendingConfirmation.of(r) for r in rows]

    async def get(self, confirmation_id: uuid.UUID) -> PendingConfirmation | None:
        row = (
            (
                await self.session.execute(
                    select(confirmations)
                    .where(confirmations.c.confirmation_id == confirmation_id)
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        return PendingConfirmation.of(row) if row else None

    async def resolve(
        self,
        pending: PendingConfirmation,
        status: str,
        via: str,
        at: datetime,
        by_message_id: uuid.UUID | None,
        linked_contact_id: str | None = None,
    ) -> None:
        await self.session.execute(
            update(confirmations)
            .where(confirmations.c.confirmation_id == pending.confirmation_id)
            .values(
                status=status,
                resolved_at=at,
                resolved_via=via,
                resolved_by_message_id=by_message_id,
                linked_contact_id=linked_contact_id,
            )
        )
        detail = {"via": via, "by_message_id": str(by_message_id) if by_message_id else None}
        await self.log(pending.confirmation_id, status, detail, at)

    async def link_channel(self, pending: PendingConfirmation, at: datetime) -> str:
        """Make the confirmed address a verified channel of the contact (or of a new one)."""
        contact_id = pending.contact_id
        if contact_id is None:
            # Nobody on file was named: the confirmed address gets a contact of its own.
            contact_id = f"ct-confirmed-{derived_id('contact', pending.confirmation_id).hex[:12]}"
            await self.session.execute(
                insert(contacts)
                .values(
                    id=contact_id,
                    customer_id=pending.customer_id,
                    name=pending.claimed_name or pending.channel_address,
                    role="",
                    # Searchable by the name claimed (an address names nobody).
                    name_keys=name_keys(pending.claimed_name) if pending.claimed_name else [],
                    updated_at=at,
                )
                .on_conflict_do_nothing()
            )
        stmt = insert(contact_channels).values(
            contact_id=contact_id,
            kind=pending.channel_kind,
            address=pending.channel_address,
            match_key=pending.match_key,
            verified=True,
            source=CONFIRMED,
            added_at=at,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                constraint="uq_contact_channel", set_={"verified": True, "source": CONFIRMED}
            )
        )
        return contact_id

    async def log(
        self, confirmation_id: uuid.UUID | None, entry: str, detail: dict[str, Any], at: datetime
    ) -> None:
        await self.session.execute(
            insert(confirmation_log).values(
                confirmation_id=confirmation_id, entry=entry, detail=detail, at=at
            )
        )


async def denials_of(
    session: AsyncSession,
    customer_ids: Collection[str],
    since: datetime,
    addresses: Collection[tuple[str, str]] = (),
) -> list[Denial]:
    """The confirmations denied after `since` of these customers, or of these addresses
    (kind, match key) whoever's they were, newest first, each with the contact whose reply
    denied it (the reply's recorded identity) and the mirror's name of that contact, or,
    for a confirmation staff took back (`careline crm revoke`), who did.

    One statement: the two partial indexes of denied confirmations (by customer, 0017; by
    address, 0020) answer its two halves."""
    if not customer_ids and not addresses:
        return []
    params: dict[str, Any] = {"since": since}
    if customer_ids:
        params["customers"] = sorted(customer_ids)
    if addresses:
        params["addresses"] = sorted(addresses)
    rows = await session.execute(_denials(bool(customer_ids), bool(addresses)), params)
    return [Denial(*row) for row in rows]


# Built once for each of its three shapes, as mirror_batch's statements are: built per call,
# it and `batch._open_confirmations` were 4-6% of the verifier's CPU at saturation (py-spy
# --gil), about 0.34 ms a batch. The lists are expanding parameters: PostgreSQL gets the
# same SQL `in_(list)` rendered, so the same plans (both partial indexes).
def revoked_by_of(confirmation_id: Any) -> Any:
    """Who took the confirmation back: the `by` of its log's last `revoked` entry (revoke.py
    writes it), as a scalar subquery of the confirmation's row."""
    log = confirmation_log.c
    return (
        select(log.detail["by"].astext)
        .where(log.confirmation_id == confirmation_id, log.entry == "revoked")
        .order_by(log.at.desc())
        .limit(1)
        .scalar_subquery()
    )


def confirmed_at_of(confirmation_id: Any) -> Any:
    """When the confirmation was confirmed: the `at` of its log's last `confirmed` entry
    (`resolve` writes it; a revoke rewrites the row's `resolved_at`, never the log), as a
    scalar subquery of the confirmation's row."""
    log = confirmation_log.c
    return (
        select(log.at)
        .where(log.confirmation_id == confirmation_id, log.entry == "confirmed")
        .order_by(log.at.desc())
        .limit(1)
        .scalar_subquery()
    )


@cache
def _denials(by_customer: bool, by_address: bool) -> Select[Any]:
    wanted = []
    if by_customer:
        wanted.append(confirmations.c.customer_id.in_(bindparam("customers", expanding=True)))
    if by_address:
        address = tuple_(confirmations.c.channel_kind, confirmations.c.match_key)
        wanted.append(address.in_(bindparam("addresses", expanding=True)))
    reply = identity_decisions.alias("reply")
    by_staff = confirmations.c.resolved_via == "staff"
    # Who took it back, read only for a denial staff made.
    revoked_by = revoked_by_of(confirmations.c.confirmation_id)
    return (
        select(
            confirmations.c.confirmation_id,
            confirmations.c.customer_id,
            confirmations.c.channel_kind,
            confirmations.c.match_key,
            confirmations.c.resolved_at,
            reply.c.contact_id,
            contacts.c.name,
            case((by_staff, func.coalesce(revoked_by, "staff")), else_=None),
        )
        .select_from(
            # A revoked confirmation's resolving message is the reply that CONFIRMED it:
            # its contact denied nothing.
            confirmations.outerjoin(
                reply,
                and_(
                    reply.c.message_id == confirmations.c.resolved_by_message_id,
                    or_(confirmations.c.resolved_via.is_(None), ~by_staff),
                ),
            ).outerjoin(contacts, contacts.c.id == reply.c.contact_id)
        )
        .where(
            or_(*wanted),
            confirmations.c.status == "denied",
            confirmations.c.resolved_at > bindparam("since"),
        )
        .order_by(confirmations.c.resolved_at.desc())
    )

"""What the verifier keeps for one batch transaction (shared.group_commit): fewer round trips.

Before the messages run, the mirror is asked once per kind of lookup for all of them
(cache.CachedMirror.prefetch), each message's identity is decided from those answers, and
the open confirmations of the probable senders are read in one query, and the denials of
their customers and of the senders' own addresses in one more (with the facts of any other
customer that disowned one of those addresses). While they run, their decisions and new
confirmations are only collected; `end` writes them in bulk.

Each message still sees what the messages before it in the batch did, as with a
transaction of its own: a confirmation requested earlier in the batch is found by the next
message from that address; anything that must read or change confirmations on file
(a reply with a code) first writes what was collected and then asks PostgreSQL; after a
write to the mirror (a confirmed channel linked) the identities decided ahead are dropped
and the next messages decide on what the transaction now sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select, tuple_
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import Identity

from .adapters import confirmation_log, confirmations, record_decisions
from .cache import forget_batch_version
from .confirm_store import Channel, PendingConfirmation, SqlConfirmationStore, denials_of
from .denials import Denial


@dataclass(frozen=True)
class DenialsRead:
    """The denials a batch read ahead: of these customers and these addresses, newest first."""

    customers: frozenset[str]
    addresses: frozenset[tuple[str, str]]
    denials: list[Denial]

    def covers(self, customers: Collection[str], addresses: Collection[tuple[str, str]]) -> bool:
        return set(customers) <= self.customers and set(addresses) <= self.addresses

    def of(
        self, customers: Collection[str], since: datetime, addresses: Collection[tuple[str, str]]
    ) -> list[Denial]:
        """As `confirm_store.denials_of` would answer, from what was read."""
        return [
            d
            for d in self.denials
            if d.denied_at > since
            and (d.customer_id in customers or (d.channel_kind, d.match_key) in addresses)
        ]


class VerifyBatch:
    def __init__(self) -> None:
        self.identities: dict[uuid.UUID, Identity] = {}
        self.decisions: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []
        self.requested: dict[Channel, PendingConfirmation] = {}  # in this batch, newest
        self.on_file: dict[Channel, list[PendingConfirmation]] | None = None  # read ahead
        self.denials: DenialsRead | None = None  # read ahead

    async def read_open_confirmations(
        self,
        session: AsyncSession,
        wanted: set[Channel],
        customers: set[str],
        addresses: set[tuple[str, str]],
        denied_since: datetime,
    ) -> None:
        """The pending confirmations of these addresses, newest first, in one query (the
        batch locked its senders' addresses first, so none is being added meanwhile), and
        the denials since `denied_since` of the probable senders' `customers` and of the
        senders' `addresses` (kind, match key) in one more."""
        self.on_file = {channel: [] for channel in wanted}
        found = await denials_of(session, customers, denied_since, addresses)
        self.denials = DenialsRead(frozenset(customers), frozenset(addresses), found)
        if not wanted:
            return
        rows = await session.execute(_open_confirmations(), {"channels": sorted(wanted)})
        for row in rows.mappings():
            channel = (row["customer_id"], row["channel_kind"], row["match_key"])
            self.on_file[channel].append(PendingConfirmation.of(row))

    def mirror_written(self, session: AsyncSession) -> None:
        forget_batch_version(session)
        self.identities.clear()

    async def flush(self, session: AsyncSession) -> None:
        """Write what was collected, so that PostgreSQL answers with it on file."""
        if self.requests:
            await session.execute(_new_requests(), self.requests)
            self.requests = []
        if self.log:
            await session.execute(_log_entries(), self.log)
            self.log = []

    async def end(self, session: AsyncSession) -> None:
        await self.flush(session)
        if self.decisions:
            await record_decisions(session, self.decisions)


# A batch's statements, built once (as mirror_batch's and `confirm_store._denials`): a
# statement used again skips building and SQLAlchemy's cache-key walk. The channels are an
# expanding parameter: PostgreSQL gets the same SQL `in_(list)` rendered.
@cache
def _open_confirmations() -> Select[Any]:
    c = confirmations.c
    return (
        select(confirmations)
        .where(
            tuple_(c.customer_id, c.channel_kind, c.match_key).in_(
                bindparam("channels", expanding=True)
            ),
            c.status == "pending",
        )
        .order_by(c.requested_at.desc())
    )


@cache
def _new_requests() -> Insert:
    return insert(confirmations).on_conflict_do_nothing()


@cache
def _log_entries() -> Insert:
    return insert(confirmation_log)


class BatchConfirmationStore(SqlConfirmationStore):
    """The confirmation store inside a batch: new requests and log entries are collected."""

    def __init__(self, session: AsyncSession, batch: VerifyBatch) -> None:
        super().__init__(session)
        self.batch = batch

    async def open_for(
        self, customer_id: str, kind: str, match_key: str, now: datetime
    ) -> PendingConfirmation | None:
        channel = (customer_id, kind, match_key)
        mine = self.batch.requested.get(channel)
        if mine is not None and mine.expires_at > now:
            return mine
        if self.batch.on_file is None or channel not in self.batch.on_file:
            return await super().open_for(customer_id, kind, match_key, now)
        return next((p for p in self.batch.on_file[channel] if p.expires_at > now), None)

    async def _request(self, row: dict[str, Any]) -> None:
        self.batch.requests.append(row)
        channel = (row["customer_id"], row["channel_kind"], row["match_key"])
        self.batch.requested[channel] = PendingConfirmation.of(row)

    async def log(
        self, confirmation_id: uuid.UUID | None, entry: str, detail: dict[str, Any], at: datetime
    ) -> None:
        self.batch.log.append(
            {"confirmation_id": confirmation_id, "entry": entry, "detail": detail, "at": at}
        )

    async def _on_file(self) -> None:
        """Confirmations are about to be read or changed on file: from now on, ask there."""
        await self.batch.flush(self.session)
        self.batch.on_file = None
        self.batch.denials = None
        self.batch.requested.clear()

    async def denials_of(
        self,
        customer_ids: Collection[str],
        since: datetime,
        addresses: Collection[tuple[str, str]] = (),
    ) -> list[Denial]:
        read = self.batch.denials
        if read is None or not read.covers(customer_ids, addresses):
            return await super().denials_of(customer_ids, since, addresses)
        return read.of(customer_ids, since, addresses)

    async def with_codes(self, customer_id: str, codes: list[str]) -> list[PendingConfirmation]:
        if codes:
            await self._on_file()
        return await super().with_codes(customer_id, codes)

    async def resolve(
        self,
        pending: PendingConfirmation,
        status: str,
        via: str,
        at: datetime,
        by_message_id: uuid.UUID | None,
        linked_contact_id: str | None = None,
    ) -> None:
        await self._on_file()
        await super().resolve(pending, status, via, at, by_message_id, linked_contact_id)

    async def link_channel(self, pending: PendingConfirmation, at: datetime) -> str:
        await self._on_file()
        contact_id = await super().link_channel(pending, at)
        self.batch.mirror_written(self.session)
        return contact_id

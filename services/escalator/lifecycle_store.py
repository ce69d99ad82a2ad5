"""Storage of the escalation lifecycle: rows read under lock, the outbox, answered commands.

Every lifecycle step (an acknowledgement, a climb on a missed deadline) writes its events
into `escalator.outbox` in the transaction that makes the step, and the relay publishes
them after the commit; an outbox row survives a crash and is published on the next pass
(its event id is the Nats-Msg-Id, so a second publish is dropped by JetStream).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    String,
    Table,
    and_,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.group_commit import insert_later
from shared.outbox import Outgoing, lock_key

from .history import customer_subject
from .history_store import subject_messages, written_from
from .lifecycle import Escalation, Notified, address_key, deputy_on_file, taker
from .passed_over import Sparing, sparings_of
from .tables import add_timeline_entry, escalations, metadata, timeline

_FK = "escalator.escalations.id"
outbox = Table(
    "outbox",
    metadata,
    Column("event_id", String, primary_key=True),
    Column("escalation_id", UUID(as_uuid=True), ForeignKey(_FK), nullable=False),
    Column("subject", String, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
)
commands = Table(
    "commands",
    metadata,
    Column("command_id", UUID(as_uuid=True), primary_key=True),
    Column("escalation_id", UUID(as_uuid=True), ForeignKey(_FK), nullable=False),
    Column("action", String, nullable=False),
    Column("reply", JSONB, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
ack_links = Table(
    "ack_links",
    metadata,
    Column("link_id", UUID(as_uuid=True), primary_key=True),
    Column("escalation_id", UUID(as_uuid=True), ForeignKey(_FK), nullable=False),
    Column("role", String, nullable=False),
    Column("address", String, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)


# Inserted at the end of the transaction's `deferring_inserts` block, if it runs one.
_ENQUEUE = insert(outbox).on_conflict_do_nothing()
_ADD_LINK = insert(ack_links).on_conflict_do_nothing()


def escalation_of(row: Any) -> Escalation:
    return Escalation(
        id=row.id,
        kind=row.kind,
        severity=row.severity,
        status=row.status,
        level=row.level,
        # Rows older than the lifecycle columns: the escalation id stands in.
        message_id=row.message_id or row.id,
        correlation_id=row.correlation_id or str(row.message_id or row.id),
        ack_deadline=row.ack_deadline,
        climb_due_at=row.climb_due_at,
        notified=tuple(Notified.of(n) for n in row.notified or []),
        briefing=dict(row.briefing or {}),
        planned=tuple(Notified(p["role"], p["address"], p["level"]) for p in row.planned or []),
        ack_minutes=row.ack_minutes,
        hold=row.hold,
        client_reply_by=row.client_reply_by,
        promise_to=row.promise_to,
        promises_missed=row.promises_missed,
        reopen_count=row.reopen_count,
        subject_key=row.subject_key,
        taken_by=taker(row.acknowledged_at, row.acknowledged_by),
    )


class LifecycleStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, escalation_id: uuid.UUID, for_update: bool = True) -> Escalation | None:
        query = select(escalations).where(escalations.c.id == escalation_id)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).first()
        return escalation_of(row) if row else None

    async def lock_of_confirmation(
        self, confirmation_id: uuid.UUID, message_id: uuid.UUID
    ) -> list[Escalation]:
        """The escalations placed by a message whose sender waited on the confirmation (the
        message that started it, and any later one of the same address while it stood:
        their timeline entries name it), in id order (two transactions lock them in the
        same order)."""
        t = timeline.c
        named = select(t.escalation_id).where(
            (t.detail["confirmation_id"].astext == str(confirmation_id))
            | (t.message_id == message_id)
        )
        rows = await self.session.execute(
            select(escalations)
            .where(escalations.c.id.in_(named))
            .order_by(escalations.c.id)
            .with_for_update()
        )
        return [escalation_of(row) for row in rows]

    async def lock_of_revocation(
        self, confirmation_id: uuid.UUID, message_id: uuid.UUID, customer_id: str, address: str
    ) -> list[Escalation]:
        """What taking back a confirmed address touches, in id order (locked as
        lock_of_confirmation locks): the escalations the confirmation touched (open or
        not: each records it), the open ones of the customer that a message of the
        address was placed in (its cases once it wrote as the client's verified channel),
        and the open ones whose promise waits at the address (a message from the client's
        phone is promised an answer at its first verified email, which may be this one)."""
        t, e = timeline.c, escalations.c
        named = select(t.escalation_id).where(
            (t.detail["confirmation_id"].astext == str(confirmation_id))
            | (t.message_id == message_id)
        )
        placed = written_from(customer_subject(customer_id), address)
        said = address.strip().casefold()
        promised_there = func.lower(e.promise_to["recipient"].astext) == said
        of_address = (
            e.status == "open",
            e.customer_id == customer_id,
            e.id.in_(placed) | promised_there,
        )
        rows = await self.session.execute(
            select(escalations)
            .where(e.id.in_(named) | and_(*of_address))
            .order_by(e.id)
            .with_for_update()
        )
        return [escalation_of(row) for row in rows]

    async def lock_revocations_of(self, customer_id: str, address: str) -> None:
        """One revoke of the customer's address at a time: the verifier announces one per
        confirmation of it, and each must see what the others took back (revoked_before)."""
        await lock_key(self.session, f"escalator:revoked:{customer_id}:{address_key(address)}")

    async def revoked_before(
        self, ids: list[uuid.UUID], customer_id: str, address: str
    ) -> set[uuid.UUID]:
        """Which of these escalations a revoke of `address` (any confirmation of it) already
        took it back from, and the address has not written into since as the client: their
        timeline has its `identity_revoked`, and no message of the address placed in them
        after it (opened, merged, reopened or followed up; its `identity` not suspicious: a
        disowned sender writing in is no client) that a later revoke must take back again."""
        if not ids:
            return set()
        t = timeline.c
        key = address_key(address)
        given_back = timeline.alias("given_back")
        g = given_back.c
        written = select(subject_messages.c.message_id).where(
            subject_messages.c.subject_key == customer_subject(customer_id),
            func.lower(subject_messages.c.sender) == key,
        )
        # A follow-up joins without a rule only for a verified (or unknown) sender
        # (service.FOLLOWS_UP_AS): never a disowned one.
        as_client = (g.entry == "followed_up") | (
            g.entry.in_(("opened", "merged", "reopened"))
            & (func.coalesce(g.detail["identity"].astext, "") != "suspicious")
        )
        since = select(g.id).where(
            g.escalation_id == t.escalation_id, g.id > t.id, as_client, g.message_id.in_(written)
        )
        rows = await self.session.scalars(
            select(t.escalation_id)
            .where(
                t.escalation_id.in_(ids),
                t.entry == "identity_revoked",
                func.lower(func.btrim(t.detail["address"].astext)) == key,
                ~since.exists(),
            )
            .distinct()
        )
        return set(rows)

    async def lock_due(self, now: datetime, limit: int) -> list[Escalation]:
        """Open, unacknowledged escalations whose deadline passed."""
        e = escalations.c
        due = e.climb_due_at
        return await self._lock_open(due, limit, e.acknowledged_at.is_(None), due <= now)

    async def lock_promises_due(self, now: datetime, by: datetime, limit: int) -> list[Escalation]:
        """Open escalations whose promise to the client falls due after `now` and by `by`
        and whose holders were not reminded yet (the partial index of migration 0014 holds
        just those); one already passed is owned up to instead (lock_promises_missed)."""
        e = escalations.c
        due = e.client_reply_by
        return await self._lock_open(
            due, limit, due.is_not(None), e.promise_reminded_at.is_(None), due > now, due <= by
        )

    async def lock_promises_missed(self, now: datetime, limit: int) -> list[Escalation]:
        """Open escalations whose promise to the client passed, made where the escalation
        keeps it (`promise_to`: promises of before migration 0015 are not owned up to, so
        the upgrade sets off no burst of climbs), and whose client has no standing hold on
        any open escalation (the investigation waits for the threats to stop, seed 003, and
        so does the promise; the messages' contacts are withheld the same way). The partial
        index of migration 0015 holds the open promises."""
        e = escalations.c
        due = e.client_reply_by
        held = escalations.alias("held")
        # A hold is a JSON object until lifted; SQL NULL and JSON null are no hold.
        standing = select(held.c.id).where(
            held.c.subject_key == e.subject_key,
            held.c.status == "open",
            func.jsonb_typeof(held.c.hold) == "object",
            held.c.hold["lifted_at"].astext.is_(None),
        )
        return await self._lock_open(
            due,
            limit,
            due.is_not(None),
            due <= now,
            func.jsonb_typeof(e.promise_to) == "object",  # None is stored as JSON null
            ~standing.exists(),
        )

    async def spared_of(self, escalation: Escalation) -> dict[str, Sparing]:
        """The staff ids the standing holds of the escalation's client's open escalations
        spare (whom their threats named: threatened.spared_staff reads the same from the
        history), each with the case whose hold does, when it matters: a CRM deputy on file
        is passed over for the `deputy` role (lifecycle.next_climb, role_address), and who
        is told instead reads why (lifecycle.deputy_passed_over)."""
        if deputy_on_file(escalation) is None or not escalation.subject_key:
            return {}  # nobody to pass over, or no subject to read the holds of
        return await self.spared_on(escalation.subject_key)

    async def spared_on(self, subject_key: str) -> dict[str, Sparing]:
        """The staff ids the standing holds of a subject's open escalations spare, each with
        the case whose hold does (the earliest opened)."""
        e = escalations.c
        holds = await self.session.execute(
            select(e.id, e.hold)
            .where(
                e.subject_key == subject_key,
                e.status == "open",
                func.jsonb_typeof(e.hold) == "object",
                e.hold["lifted_at"].astext.is_(None),
            )
            .order_by(e.opened_at, e.id)
        )
        return sparings_of((row.id, row.hold) for row in holds)

    async def _lock_open(self, soonest: Any, limit: int, *conditions: Any) -> list[Escalation]:
        """Open escalations meeting `conditions`, the soonest first, that no other replica
        holds: SKIP LOCKED hands each due row to exactly one sweeper."""
        rows = await self.session.execute(
            select(escalations)
            .where(escalations.c.status == "open", *conditions)
            .order_by(soonest)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [escalation_of(row) for row in rows]

    async def retell_resolution(
        self, escalation_id: uuid.UUID, said: Collection[str], note: str
    ) -> None:
        """The escalation's resolution note becomes `note` if it is one of `said` (the words
        the escalator resolved it with); a person's own note stays."""
        e = escalations.c
        await self.session.execute(
            update(escalations)
            .where(e.id == escalation_id, e.resolution_note.in_(list(said)))
            .values(resolution_note=note)
        )

    async def change(self, escalation_id: uuid.UUID, **values: Any) -> None:
        await self.session.execute(
            update(escalations).where(escalations.c.id == escalation_id).values(**values)
        )

    async def note(
        self,
        escalation_id: uuid.UUID,
        entry_id: uuid.UUID,
        entry: str,
        detail: dict[str, Any],
        actor: dict[str, Any] | None,
        at: datetime,
    ) -> None:
        """A timeline entry; `entry_id` (the timeline's message id) makes it happen once."""
        await add_timeline_entry(self.session, escalation_id, entry_id, entry, detail, actor, at)

    async def enqueue(
        self, escalation_id: uuid.UUID, outputs: list[Outgoing], at: datetime
    ) -> None:
        for out in outputs:
            row = {
                "event_id": out.event_id,
                "escalation_id": escalation_id,
                "subject": out.subject,
                "payload": out.payload,
                "created_at": at,
            }
            await insert_later(self.session, _ENQUEUE, row)

    async def add_link(
        self,
        link_id: uuid.UUID,
        escalation_id: uuid.UUID,
        role: str,
        address: str,
        expires_at: datetime,
    ) -> None:
        row = {
            "link_id": link_id,
            "escalation_id": escalation_id,
            "role": role,
            "address": address,
            "expires_at": expires_at,
        }
        await insert_later(self.session, _ADD_LINK, row)

    async def lock_link(self, link_id: uuid.UUID, for_update: bool = True) -> Any | None:
        """The link's row (escalation_id, role, address, expires_at, used_at)."""
        query = select(ack_links).where(ack_links.c.link_id == link_id)
        return (
            await self.session.execute(query.with_for_update() if for_update else query)
        ).first()

    async def use_link(self, link_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(ack_links).where(ack_links.c.link_id == link_id).values(used_at=at)
        )

    async def answered(self, command_id: uuid.UUID) -> dict[str, Any] | None:
        reply = await self.session.scalar(
            select(commands.c.reply).where(commands.c.command_id == command_id)
        )
        return dict(reply) if reply is not None else None

    async def answer(
        self,
        command_id: uuid.UUID,
        escalation_id: uuid.UUID,
        action: str,
        reply: dict[str, Any],
        at: datetime,
    ) -> None:
        await self.session.execute(
            insert(commands)
            .values(
                command_id=command_id,
                escalation_id=escalation_id,
                action=action,
                reply=reply,
                at=at,
            )
            .on_conflict_do_nothing()
        )


async def lock_unpublished(session: AsyncSession, limit: int) -> list[Outgoing]:
    rows = await session.execute(
        select(outbox.c.event_id, outbox.c.subject, outbox.c.payload)
        .where(outbox.c.published_at.is_(None))
        .order_by(outbox.c.created_at, outbox.c.event_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [Outgoing(r.subject, r.event_id, r.payload) for r in rows]


async def mark_published(session: AsyncSession, event_ids: list[str], at: datetime) -> None:
    await session.execute(
        update(outbox).where(outbox.c.event_id.in_(event_ids)).values(published_at=at)
    )

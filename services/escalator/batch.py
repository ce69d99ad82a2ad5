"""What the escalator keeps for one batch transaction (shared.group_commit): fewer round trips.

Before the messages run, the batch locks all its subjects in one statement, in sorted
order (two batches that share subjects take them in the same order, so neither waits for
the other in a circle), and reads their histories in two queries. While the messages run,
what each one was (`subject_messages`), its timeline entries and its acknowledge links are
only collected (the latter two by `insert_later`: the batch is a `DeferredInserts`); `end`
inserts them in bulk. Nothing in the batch reads those back. The
escalations a message opens wait too, with whom they told filled in before they are
written; anything that reads or changes escalations of that subject writes them first.

Where a message's escalation goes (merge into the open one of its kind, reopen the last
resolved one, or open one) is read ahead too: the subjects' open escalations and those
resolved within the longest reopening window, locked in the same query (nobody else may
change them before the batch commits). An escalation kind of a subject that the batch has
written since is looked up in PostgreSQL again.

The revokes of the batch's senders' addresses (revoked_sender.py) are read ahead in one
query too, after the subjects are locked (a revoke locks its customer's subject).

Messages of one subject in the batch still see each other in order: each one's record is
added to the subject's history in memory as it would be read back, and after a message
placed, merged or lifted an escalation the subject's escalations are read again for the
next message of that subject.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.group_commit import DeferredInserts

from .adapters import SqlEscalationStore, insert_escalations, placements
from .client_fixed import StillOwed
from .history import History, PastEscalation, SeenMessage
from .history_store import (
    MESSAGES_LIMIT,
    load_escalations,
    load_history,
    load_messages,
    lock_subjects,
    record_seen,
)
from .lifecycle import Escalation
from .placement import NewEscalation, Placed
from .revoked_sender import RevokedAddress
from .revoked_store import revoked_of
from .tables import ADD_TIMELINE_ENTRY, tells_holders


class EscalateBatch(DeferredInserts):
    def __init__(self, since: datetime) -> None:
        super().__init__()
        self.since = since  # what was read: no later message of the batch looks further back
        self.messages: dict[str, list[SeenMessage]] = {}
        self.escalations: dict[str, list[PastEscalation]] = {}
        self.stale: set[str] = set()
        self.reopen_since = since
        self.subjects: set[str] = set()
        self.written: set[tuple[str, str]] = set()  # (subject, kind) placed in this batch
        self.seen: list[dict[str, Any]] = []
        self.opened: dict[uuid.UUID, dict[str, Any]] = {}  # escalations not yet written
        # (escalation, confirmation) placed in this batch: their timeline rows wait for its end
        self.confirmations: set[tuple[uuid.UUID, uuid.UUID]] = set()
        # (subject, kind) -> its escalations that a placement may find, as read ahead;
        # a kind written since is not in it (it is read from PostgreSQL again).
        self.placeable: dict[tuple[str, str], list[Any]] = {}
        # (customer, address key) -> its revoke on file, of the senders read ahead
        self.senders: set[tuple[str, str]] = set()
        self.revoked: dict[tuple[str, str], RevokedAddress] = {}

    @classmethod
    async def read_ahead(
        cls,
        session: AsyncSession,
        subject_keys: list[str],
        now: datetime,
        lookback: timedelta,
        longest_reopen: timedelta,
        senders: list[tuple[str, str]] | None = None,
    ) -> EscalateBatch:
        batch = cls(now - lookback)
        await lock_subjects(session, subject_keys)
        batch.senders = set(senders or [])
        batch.revoked = await revoked_of(session, batch.senders)
        batch.messages = await load_messages(session, subject_keys, batch.since)
        batch.escalations = await load_escalations(session, subject_keys, batch.since)
        batch.reopen_since = now - longest_reopen
        for row in await placements(session, subject_keys, batch.reopen_since):
            batch.placeable.setdefault((row.subject_key, row.kind), []).append(row)
        batch.subjects = set(subject_keys)
        return batch

    def placement(self, new: NewEscalation) -> tuple[bool, Any]:
        """(known, row): the escalation `new` merges into or reopens, if read ahead."""
        key = (new.subject_key, new.kind)
        if new.subject_key not in self.subjects or key in self.written:
            return False, None
        if new.reopen_since is not None and new.reopen_since < self.reopen_since:
            return False, None  # a window longer than was read ahead
        rows = self.placeable.get(key, [])
        found = next((r for r in rows if r.status == "open"), None)
        if found is None and new.reopen_since is not None:
            recent = [r for r in rows if r.resolved_at >= new.reopen_since]
            found = max(recent, key=lambda r: r.resolved_at, default=None)
        return True, found

    async def history(self, session: AsyncSession, key: str, since: datetime) -> History | None:
        """The subject's history as a query of its own would read it now; None if the batch
        did not read this subject."""
        if key not in self.messages:
            return None
        if since < self.since:  # the clock stepped back: read it as a message alone would
            await self._write_seen(session)
            return await load_history(session, key, since)
        if key in self.stale:
            await self.write_opened(session)
            self.escalations.update(await load_escalations(session, [key], self.since))
            self.stale.discard(key)
        return History(
            messages=[m for m in self.messages[key] if m.at >= since],
            escalations=[
                e
                for e in self.escalations[key]
                if e.status == "open"
                or e.opened_at >= since
                or (e.resolved_at is not None and e.resolved_at >= since)
            ],
        )

    def revokes(
        self, senders: list[tuple[str, str]]
    ) -> dict[tuple[str, str], RevokedAddress] | None:
        """The revokes on file of a message's senders, as read ahead; None if the batch did
        not read them all."""
        if not self.senders.issuperset(senders):
            return None
        return {k: self.revoked[k] for k in senders if k in self.revoked}

    def record(self, key: str, row: dict[str, Any], seen: SeenMessage, placed: bool) -> None:
        """A message of the subject was decided: its row waits for `end`, the next message
        of the subject sees it (and, if it placed anything, the escalations as they are)."""
        self.seen.append(row)
        if key in self.messages:
            # As PostgreSQL returns it: the instant in UTC.
            kept = seen.model_copy(update={"at": seen.at.astimezone(UTC)})
            newest = sorted([kept, *self.messages[key]], key=lambda m: m.at, reverse=True)
            self.messages[key] = newest[:MESSAGES_LIMIT]
        if placed:
            self.stale.add(key)

    def opened_for(self, subject_key: str) -> bool:
        return any(row["subject_key"] == subject_key for row in self.opened.values())

    async def write_opened(self, session: AsyncSession) -> None:
        if self.opened:
            await insert_escalations(session, list(self.opened.values()))
            self.opened = {}

    async def end(self, session: AsyncSession) -> None:
        await self.write_opened(session)  # first: the timeline and links refer to them
        await super().end(session)
        await self._write_seen(session)

    async def _write_seen(self, session: AsyncSession) -> None:
        if self.seen:
            await record_seen(session, self.seen)
            self.seen = []


class BatchEscalationStore(SqlEscalationStore):
    """The escalation store inside a batch: placements read ahead, openings wait for its end."""

    def __init__(self, session: AsyncSession, batch: EscalateBatch) -> None:
        super().__init__(session)
        self.batch = batch

    async def open_or_merge(
        self, new: NewEscalation, message_id: uuid.UUID, at: datetime
    ) -> Placed:
        known, found = self.batch.placement(new)
        self.batch.written.add((new.subject_key, new.kind))
        if known:
            placed = await self.place(found, new, message_id, at)
        else:
            if self.batch.opened_for(new.subject_key):  # one opened earlier in the batch
                await self.batch.write_opened(self.session)
            placed = await super().open_or_merge(new, message_id, at)
        if new.confirmation_id is not None:
            self.batch.confirmations.add((placed.id, new.confirmation_id))
        return placed

    async def _new_sender(
        self, escalation_id: uuid.UUID, confirmation_id: uuid.UUID | None
    ) -> bool:
        # An earlier message of the batch from the same address: its timeline row is not
        # written yet, and the query alone would take the address for a new one.
        if confirmation_id is not None and (escalation_id, confirmation_id) in (
            self.batch.confirmations
        ):
            return False
        return await super()._new_sender(escalation_id, confirmation_id)

    async def _insert(self, row: dict[str, Any]) -> None:
        self.batch.opened[row["id"]] = row

    async def record_notified(
        self, escalation_id: uuid.UUID, notified: list[dict[str, Any]], briefing: dict[str, Any]
    ) -> None:
        row = self.batch.opened.get(escalation_id)
        if row is None:
            await super().record_notified(escalation_id, notified, briefing)
        else:
            row.update(notified=notified, briefing=briefing)

    async def lift_hold(
        self, escalation_id: uuid.UUID, by: str, message_id: uuid.UUID, at: datetime
    ) -> Escalation | None:
        self._changes(escalation_id)  # its hold
        await self.batch.write_opened(self.session)
        return await super().lift_hold(escalation_id, by, message_id, at)

    async def last_told(self, escalation_id: uuid.UUID) -> datetime | None:
        # The timeline entries of the batch wait for its end: those of this one count too.
        pending = [
            row["at"]
            for row in self.batch.rows.get(ADD_TIMELINE_ENTRY, [])
            if row["escalation_id"] == escalation_id and tells_holders(row)
        ]
        on_file = await super().last_told(escalation_id)
        return max([*pending, *([on_file] if on_file else [])], default=None)

    async def follow_up(
        self,
        escalation_id: uuid.UUID,
        message_id: uuid.UUID,
        at: datetime,
        told: bool,
        says_fixed: str | None = None,
        promised: datetime | None = None,
        owed: StillOwed | None = None,
    ) -> Escalation | None:
        # One opened earlier in the batch is written first (its count grows in SQL: what
        # the batch read of it stays good; a dropped promise is read again).
        await self.batch.write_opened(self.session)
        if says_fixed is not None:
            self._changes(escalation_id)
        return await super().follow_up(
            escalation_id, message_id, at, told, says_fixed, promised, owed
        )

    async def matters_of(self, escalation_id: uuid.UUID) -> tuple[str, list[dict[str, Any]]]:
        await self.batch.write_opened(self.session)  # opened earlier in the batch, maybe
        return await super().matters_of(escalation_id)

    async def promise_of(self, escalation_id: uuid.UUID) -> datetime | None:
        await self.batch.write_opened(self.session)  # opened earlier in the batch, maybe
        return await super().promise_of(escalation_id)

    async def waiting_on(
        self, escalation_ids: list[uuid.UUID], confirmation_id: uuid.UUID
    ) -> set[uuid.UUID]:
        # Placed earlier in the batch: their timeline rows wait for its end.
        placed = {e for e, c in self.batch.confirmations if c == confirmation_id}
        found = await super().waiting_on(escalation_ids, confirmation_id)
        return found | (placed & set(escalation_ids))

    async def answered_unclearly(
        self,
        escalation_id: uuid.UUID,
        message_id: uuid.UUID,
        confirmation_id: uuid.UUID,
        at: datetime,
    ) -> Escalation | None:
        # As a follow-up: one opened earlier in the batch is written first.
        await self.batch.write_opened(self.session)
        return await super().answered_unclearly(escalation_id, message_id, confirmation_id, at)

    def _changes(self, escalation_id: uuid.UUID) -> None:
        """A row the batch read ahead changes: what it read of it is read again."""
        for (subject, kind), rows in self.batch.placeable.items():
            if any(r.id == escalation_id for r in rows):
                self.batch.written.add((subject, kind))

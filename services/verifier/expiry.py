"""Confirmations nobody confirmed in time: expired, and announced on `crm.confirmation.expired`.

The verifier owns the confirmation's expiry, so it is the one to say that a confirmation
can no longer succeed; the notifier then withdraws the replies held for it. A loop in every
verifier replica sweeps the pending confirmations past their expiry; replicas share the
work through row locks (FOR UPDATE SKIP LOCKED). A reply that carries an expired code
expires its confirmation the same way (service.py), with the same event id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from shared.background import every
from shared.contracts import ConfirmationExpired, derived_id
from shared.db import Database
from shared.outbox import Outgoing
from shared.subjects import CRM_CONFIRMATION_EXPIRED

from .confirm_store import PendingConfirmation, SqlConfirmationStore

Publish = Callable[[list[Outgoing]], Awaitable[None]]


def expired_event(pending: PendingConfirmation, now: datetime) -> Outgoing:
    event = ConfirmationExpired(
        event_id=derived_id("confirmation-expired", pending.confirmation_id),
        message_id=pending.message_id,
        correlation_id=pending.correlation_id,
        occurred_at=now,
        confirmation_id=pending.confirmation_id,
        customer_id=pending.customer_id,
        expired_at=pending.expires_at,
    )
    return Outgoing.of(CRM_CONFIRMATION_EXPIRED, event)


class ConfirmationExpiry:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        publish: Publish,
        every_seconds: float,
        batch: int = 100,
    ) -> None:
        self.db = db
        self.clock = clock
        self.publish = publish
        self.every = every_seconds
        self.batch = batch

    async def expire_due(self) -> int:
        """Expire one batch of the confirmations whose time ran out; how many.

        The events are published before the commit: past its expiry a confirmation can only
        expire (its link and code are refused from then on), so if the commit fails the next
        pass announces the same event ids again, and JetStream and the consumers drop them.
        """
        now = self.clock()
        async with self.db.transaction() as session:
            store = SqlConfirmationStore(session)
            due = await store.due_to_expire(now, self.batch)
            outputs = []
            for pending in due:
                await store.resolve(pending, "expired", "expiry", now, None)
                outputs.append(expired_event(pending, now))
            await self.publish(outputs)
        return len(due)

    async def sweep(self) -> int:
        expired = 0
        while True:
            done = await self.expire_due()
            expired += done
            if done < self.batch:
                return expired

    async def run(self, stop: asyncio.Event) -> None:
        await every(self.every, stop, self.sweep, "confirmation expiry sweep")

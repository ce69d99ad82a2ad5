"""What a probable sender's confirmation came to, told to the escalations of its message.

Seed 000: support refused a paying client writing from an address not on file. Careline
asks the registered contact to confirm instead (the verifier's loop), tells the sender so,
and holds the sender's answers meanwhile (the notifier releases or withdraws them). The
question itself is still the staff's to answer, and only the people holding the message's
escalations can: they hear what the confirmation came to.
- confirmed: the address is the client's verified channel now; answer the client there.
- denied: the registered contact says the request was not theirs: nothing of the account
  to the sender; check with the client at its registered contacts.
- expired: nobody confirmed in time; the sender was promised an answer: reach the client.

Every escalation the message opened, joined or reopened keeps it in its timeline and in
the identity its notices show; an open one tells each holder, once per confirmation. One
transaction per outcome; its notices go through the outbox, published after the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from shared.contracts import (
    ChannelConfirmed,
    ChannelRef,
    ConfirmationDenied,
    ConfirmationExpired,
    SendNotification,
    derived_id,
)
from shared.group_commit import deferring_inserts
from shared.outbox import Outgoing
from shared.subjects import NOTIFY_REQUEST

from .condition_facts import identity_settled_fact
from .digest import staff_digests
from .hold_notices import notices_to_holders
from .lifecycle import Escalation
from .lifecycle_steps import LifecycleSteps
from .lifecycle_store import LifecycleStore

Outcome = Literal["confirmed", "denied", "expired"]

# The sender's identity as the escalation shows it from now on: confirmed by the client,
# or claimed and disowned by it; an expired request leaves it probable.
IDENTITY_AFTER: dict[str, str] = {"confirmed": "verified", "denied": "suspicious"}


@dataclass(frozen=True)
class Settlement:
    """One confirmation's outcome, as the verifier announced it."""

    event_id: uuid.UUID
    confirmation_id: uuid.UUID
    message_id: uuid.UUID
    correlation_id: str
    outcome: Outcome
    at: datetime
    channel: ChannelRef | None
    via: str | None = None

    @classmethod
    def confirmed(cls, event: ChannelConfirmed) -> Settlement:
        return cls._of(event, "confirmed", event.confirmed_at, event.channel, event.via)

    @classmethod
    def denied(cls, event: ConfirmationDenied) -> Settlement:
        # Ids only on the bus: the holders' first notice has the sender.
        return cls._of(event, "denied", event.denied_at)

    @classmethod
    def expired(cls, event: ConfirmationExpired) -> Settlement:
        return cls._of(event, "expired", event.expired_at)

    @classmethod
    def _of(
        cls,
        event: ChannelConfirmed | ConfirmationDenied | ConfirmationExpired,
        outcome: Outcome,
        at: datetime,
        channel: ChannelRef | None = None,
        via: str | None = None,
    ) -> Settlement:
        ids = (event.event_id, event.confirmation_id, event.message_id, event.correlation_id)
        return cls(*ids, outcome, at, channel, via)


def as_settled(e: Escalation, s: Settlement) -> Escalation:
    """The escalation with the sender's identity as the outcome left it."""
    identity = IDENTITY_AFTER.get(s.outcome)
    if identity is None:
        return e
    return replace(e, briefing={**e.briefing, "identity_status": identity})


def settlement_notices(
    escalations: list[Escalation], s: Settlement, team_language: str, now: datetime
) -> list[SendNotification]:
    """Each holder of the open ones hears what the confirmation came to, once per
    confirmation: one notice per person, a digest for one holding several (the account
    manager holds the identity escalation and most others)."""
    address = s.channel.address if s.channel else None
    fact = identity_settled_fact(s.outcome, address, s.via)
    notes = [
        note
        for e in escalations
        if e.status == "open"
        for note in notices_to_holders(
            as_settled(e, s),
            f"identity_{s.outcome}",
            fact,
            ("identity-settled", s.confirmation_id),
            (s.message_id, s.correlation_id),
            team_language,
            now,
        )
    ]
    return staff_digests(notes)


class ConfirmationOutcomes(LifecycleSteps):
    async def settle(self, settlement: Settlement) -> int:
        """Tell the message's escalations what its confirmation came to; how many it is in.

        Idempotent: the timeline entry and the notices carry ids derived from the
        confirmation, so a redelivered outcome changes nothing and tells nobody twice."""
        now = self.clock()
        async with self.db.transaction() as session, deferring_inserts(session):
            store = LifecycleStore(session)
            found = await store.lock_of_message(settlement.message_id)
            for e in found:
                await self._record(store, e, settlement, now)
            notes = settlement_notices(found, settlement, self.policy.team_language, now)
            for note in notes:
                # A digest is about several: its outbox row names the first it was about.
                held_by = note.escalation_id or next(e.id for e in found if e.status == "open")
                await store.enqueue(held_by, [Outgoing.of(NOTIFY_REQUEST, note)], now)
        await self.flush()
        return len(found)

    async def _record(
        self, store: LifecycleStore, e: Escalation, s: Settlement, now: datetime
    ) -> None:
        """The outcome in its timeline, and the identity its notices show from now on."""
        settled = as_settled(e, s)
        if settled is not e:
            identity = settled.briefing["identity_status"]
            await store.change(
                e.id, identity_status=identity, briefing=settled.briefing, updated_at=now
            )
        detail = {
            "confirmation_id": str(s.confirmation_id),
            "outcome": s.outcome,
            "via": s.via,
            "at": s.at.isoformat(),
        }
        entry_id = derived_id("identity-settled", e.id, s.confirmation_id)
        await store.note(e.id, entry_id, f"identity_{s.outcome}", detail, VERIFIER, now)


# Who settled it, as the timeline names the actor: the verifier's confirmation loop.
VERIFIER = {"role": "verifier", "address": "verifier"}

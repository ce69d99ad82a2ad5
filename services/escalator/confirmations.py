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
the identity its notices show; an open one tells each holder, once per confirmation; the
identity confirmation itself is resolved when confirmed (its work is done: a later
unconfirmed sender reopens it). One transaction per outcome; its notices and events go
through the outbox, published after the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from shared.contracts import (
    ChannelConfirmed,
    ChannelRef,
    ConfirmationDenied,
    ConfirmationExpired,
    EscalationActed,
    SendNotification,
    derived_id,
)
from shared.group_commit import deferring_inserts
from shared.outbox import Outgoing, lock_key, outputs_of, record_outputs
from shared.subjects import ESCALATION_RESOLVED, NOTIFY_REQUEST

from .condition_facts import identity_settled_fact
from .digest import staff_digests
from .hold_notices import notices_to_holders
from .lifecycle import Escalation
from .lifecycle_steps import LifecycleSteps
from .lifecycle_store import LifecycleStore
from .tables import processed

Outcome = Literal["confirmed", "denied", "expired"]

# The sender's identity as the escalation shows it from now on: confirmed by the client,
# or claimed and disowned by it; an expired request leaves it probable.
IDENTITY_AFTER: dict[str, str] = {"confirmed": "verified", "denied": "suspicious"}
# As sure as the verifier is of a verified channel on file (its weight).
CONFIRMED_CONFIDENCE = 0.95
# The escalations of the policy's confirmation rule (`unconfirmed-sender`).
CONFIRMATION_KIND = "identity_confirmation"
# Who settled it, as the timeline and the resolution name the actor: the verifier's
# confirmation loop.
VERIFIER = {"role": "verifier", "address": "verifier"}


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
    """The escalation with the sender's identity as the outcome left it (confirmed by the
    registered contact: as sure as a verified channel on file)."""
    identity = IDENTITY_AFTER.get(s.outcome)
    if identity is None or e.briefing.get("identity_status") != "probable":
        return e  # shown as the escalation's first message found it: not this sender's
    briefing = {**e.briefing, "identity_status": identity}
    if s.outcome == "confirmed":
        confidence = float(briefing.get("identity_confidence") or 0.0)
        briefing["identity_confidence"] = max(confidence, CONFIRMED_CONFIDENCE)
    return replace(e, briefing=briefing)


def closes(e: Escalation, s: Settlement) -> bool:
    """Whether the outcome ends the escalation: an identity confirmation whose sender is
    confirmed has done its work (a denial or an expiry leaves the staff work to do)."""
    return e.kind == CONFIRMATION_KIND and e.status == "open" and s.outcome == "confirmed"


def settlement_notices(
    escalations: list[Escalation], s: Settlement, team_language: str, now: datetime
) -> list[SendNotification]:
    """Each holder of the open ones hears what the confirmation came to, once per
    confirmation: one notice per person, a digest for one holding several (the account
    manager holds the identity escalation and most others)."""
    address = s.channel.address if s.channel else None
    fact = identity_settled_fact(s.outcome, address, s.via)
    notes = [
        _as_told(note, e)
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


def _as_told(note: SendNotification, e: Escalation) -> SendNotification:
    """The outcome is the news, and what the rule saw before it is not: its conditions
    ("identity: probable") would contradict it, and the confirmation rule's playbook ("a
    request went to the registered address: reach out") is done with."""
    data: dict[str, Any] = {**note.data, "condition_items": []}
    if e.kind == CONFIRMATION_KIND:
        data |= {"playbook": "", "playbook_client": ""}
    return note.model_copy(update={"data": data})


class ConfirmationOutcomes(LifecycleSteps):
    async def settle(self, settlement: Settlement) -> int:
        """Tell the message's escalations what its confirmation came to; how many it is in.

        Once per outcome event (the processed keys): a redelivery, or a replay from the
        dead letters after a holder changed, tells nobody again (a digest's id names its
        holders' notices, so a second telling to changed holders would be a new mail)."""
        now = self.clock()
        key = f"confirmation-outcome:{settlement.event_id}"
        async with self.db.transaction() as session, deferring_inserts(session):
            await lock_key(session, f"escalator:{key}")
            if await outputs_of(session, processed, key) is not None:
                return 0
            store = LifecycleStore(session)
            found = await store.lock_of_confirmation(
                settlement.confirmation_id, settlement.message_id
            )
            notes = settlement_notices(found, settlement, self.policy.team_language, now)
            for note in notes:
                # A digest is about several: its outbox row names the first it was about.
                held_by = note.escalation_id or next(e.id for e in found if e.status == "open")
                await store.enqueue(held_by, [Outgoing.of(NOTIFY_REQUEST, note)], now)
            for e in found:
                await self._record(store, e, settlement, now)
            await record_outputs(session, processed, key, [], now)
        await self.flush()
        return len(found)

    async def _record(
        self, store: LifecycleStore, e: Escalation, s: Settlement, now: datetime
    ) -> None:
        """The outcome in its timeline, and the identity its notices show from now on."""
        settled = as_settled(e, s)
        identity = settled.briefing.get("identity_status")
        if identity != e.briefing.get("identity_status"):
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
        if closes(e, s):
            await self._close(store, e, s, now)

    async def _close(
        self, store: LifecycleStore, e: Escalation, s: Settlement, now: datetime
    ) -> None:
        """Resolved by the confirmation: `escalation.resolved` with the verifier as actor.
        The question itself is answered by whoever holds it (the notice says so), or by the
        escalations of its other signals."""
        note = "the registered contact confirmed the sender's address"
        await store.change(
            e.id,
            status="resolved",
            resolved_at=now,
            resolved_by=VERIFIER,
            resolution_note=note,
            climb_due_at=None,
            updated_at=now,
        )
        entry_id = derived_id("identity-resolved", e.id, s.confirmation_id)
        await store.note(e.id, entry_id, "resolved", {"note": note}, VERIFIER, now)
        event = EscalationActed(
            event_id=derived_id("escalation-acted", e.id, "resolved", s.confirmation_id),
            message_id=e.message_id,
            correlation_id=e.correlation_id,
            occurred_at=now,
            escalation_id=e.id,
            action="resolved",
            kind=e.kind,
            severity=e.severity,  # type: ignore[arg-type]
            status="resolved",
            level=e.level,
            actor=VERIFIER["address"],
            actor_role=VERIFIER["role"],
            note=note,
        )
        await store.enqueue(e.id, [Outgoing.of(ESCALATION_RESOLVED, event)], now)

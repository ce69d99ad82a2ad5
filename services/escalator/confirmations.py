"""What a probable sender's confirmation came to, told to the escalations of its message.

Seed 000: support refused a paying client writing from an address not on file. Careline
asks the registered contact to confirm instead (the verifier's loop), tells the sender so,
and holds the sender's answers meanwhile (the notifier releases or withdraws them). The
question itself is still the staff's to answer, and only the people holding the message's
escalations can: they hear what the confirmation came to.
- confirmed: the address is the client's verified channel now; answer the client there
  (a promise made while it waited is owned up to there too).
- denied: the registered contact says the request was not theirs: nothing of the account
  to the sender; check with the client at its registered contacts (a promise that passes
  tells the client nothing automatically).
- expired: nobody confirmed in time; the sender was promised an answer: reach the client.

Every escalation placed by a message whose sender waited on the confirmation keeps it in
its timeline and in the identity its notices show; an open one tells each holder, once per
outcome; the identity confirmation itself is resolved when confirmed (its work is done: a
later unconfirmed sender reopens it). What each of these is: settlement.py (pure). One
transaction per outcome; its notices and events go through the outbox, published after the
commit.
"""

from __future__ import annotations

from datetime import datetime

from shared.contracts import derived_id
from shared.outbox import Outgoing
from shared.subjects import ESCALATION_RESOLVED, NOTIFY_REQUEST

from .lifecycle import Escalation
from .lifecycle_steps import LifecycleSteps, acted
from .lifecycle_store import LifecycleStore
from .settlement import VERIFIER, Settlement, as_settled, closes, settlement_notices
from .staff_language import CONFIRMED_NOTE, of_escalations


class ConfirmationOutcomes(LifecycleSteps):
    async def settle(self, settlement: Settlement) -> int:
        """Tell the message's escalations what its confirmation came to; how many it is in.

        Once per outcome event (the processed keys): a redelivery, or a replay from the
        dead letters after a holder changed, tells nobody again (a digest's id names its
        holders' notices, so a second telling to changed holders would be a new mail)."""
        key = f"confirmation-outcome:{settlement.event_id}"
        return await self.once_per_event(
            key, lambda store, now: self._settle(store, settlement, now)
        )

    async def _settle(self, store: LifecycleStore, settlement: Settlement, now: datetime) -> int:
        found = await store.lock_of_confirmation(settlement.confirmation_id, settlement.message_id)
        languages = of_escalations(self.policy, *found)
        for note in settlement_notices(found, settlement, languages, now):
            # A digest is about several: its outbox row names the first it was about.
            held_by = note.escalation_id or next(e.id for e in found if e.status == "open")
            await store.enqueue(held_by, [Outgoing.of(NOTIFY_REQUEST, note)], now)
        for e in found:
            await self._record(store, e, settlement, now)
        return len(found)

    async def _record(
        self, store: LifecycleStore, e: Escalation, s: Settlement, now: datetime
    ) -> None:
        """The outcome in its timeline, the identity its notices show from now on, and
        where its promise to the client is owned up to (settlement.promise_owed)."""
        settled = as_settled(e, s)
        detail: dict[str, object] = {
            "confirmation_id": str(s.confirmation_id),
            "outcome": s.outcome,
            "via": s.via,
            "at": s.at.isoformat(),
        }
        changes: dict[str, object] = {}
        identity = settled.briefing.get("identity_status")
        if identity != e.briefing.get("identity_status"):
            changes |= {"identity_status": identity, "briefing": settled.briefing}
        if settled.promise_to != e.promise_to:
            changes["promise_to"] = settled.promise_to
            # Where a delay is told from now on (None: nowhere), for whoever reads why.
            detail["promise_to"] = (settled.promise_to or {}).get("recipient")
        if changes:  # one UPDATE of the row for both
            await store.change(e.id, **changes, updated_at=now)
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
        # The record's (its event, its timeline) in the team's language; staff read it in
        # the fact pack's earlier escalations in their own (staff_language.in_language).
        note = CONFIRMED_NOTE.get(self.policy.team_language, CONFIRMED_NOTE["en"])
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
        event = acted(
            e, "resolved", (s.confirmation_id,), VERIFIER, now, status="resolved", note=note
        )
        await store.enqueue(e.id, [Outgoing.of(ESCALATION_RESOLVED, event)], now)

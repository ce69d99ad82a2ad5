"""Staff took back a confirmed address (`crm.channel.revoked`): the escalations it touched
stop treating the address as the client's (revocation.py, pure, says how).

The revoke is remembered (revoked_store.py) for a message of the address the verifier passed
before it that the escalator handles after it (revoked_sender.py). One transaction per
revocation, once per event (the processed keys: a redelivery, or the
command run again, changes and tells nothing twice); the holders' alerts and an
`escalation.updated` of each open escalation it changed go through the outbox, published
after the commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.contracts import derived_id
from shared.outbox import Outgoing
from shared.subjects import ESCALATION_UPDATED, NOTIFY_REQUEST

from .history import CONFIRMATION_KIND, customer_subject
from .history_store import lock_subject
from .lifecycle_steps import LifecycleSteps
from .lifecycle_store import LifecycleStore
from .passed_over import Sparing
from .revocation import Revocation, as_revoked, newly_revoked, revoked_update, timeline_detail
from .revocation_alerts import no_case_open, revocation_alerts, unheld_alert
from .revoked_store import remember_revoked
from .staff_language import CONFIRMED_NOTE, REVOKED_NOTE, of_escalations


class ChannelRevocations(LifecycleSteps):
    async def revoke(self, r: Revocation) -> int:
        """Take the address back from every escalation it touched and no other revoke of the
        address took it back from already; how many that was."""
        unheld: list[Outgoing] = []
        return await self.once_per_event(
            f"channel-revoked:{r.event_id}",
            lambda store, now: self._revoke(store, r, now, unheld),
            unheld,
        )

    async def _revoke(
        self, store: LifecycleStore, r: Revocation, now: datetime, unheld: list[Outgoing]
    ) -> int:
        # The customer's messages wait meanwhile (service.py locks the same subject): one
        # handled before the revoke commits has its case found here; one handled after finds
        # the revoke remembered (revoked_sender.py), never neither.
        await lock_subject(store.session, customer_subject(r.customer_id))
        await store.lock_revocations_of(r.customer_id, r.address)
        await remember_revoked(store.session, r, now)
        found = await store.lock_of_revocation(
            r.confirmation_id, r.message_id, r.customer_id, r.address
        )
        before = await store.revoked_before([e.id for e in found], r.customer_id, r.address)
        revoked = []
        for e in found:
            after = as_revoked(e, r) if e.status == "open" else e
            if not newly_revoked(e, after, e.id in before):
                continue
            changes: dict[str, object] = {}
            if after.promise_to != e.promise_to:
                changes["promise_to"] = after.promise_to
            if after.briefing != e.briefing:
                changes |= {
                    "identity_status": after.briefing["identity_status"],
                    "briefing": after.briefing,
                }
            if changes:
                await store.change(e.id, **changes, updated_at=now)
            if e.kind == CONFIRMATION_KIND and e.status == "resolved":
                # Closed by the confirmation: the fact pack's earlier escalations would go on
                # saying the sender was confirmed (next to what the address writes now).
                note = REVOKED_NOTE.get(self.policy.team_language, REVOKED_NOTE["en"])
                await store.retell_resolution(e.id, CONFIRMED_NOTE.values(), note)
            entry_id = derived_id("identity-revoked", e.id, r.confirmation_id)
            detail = timeline_detail(e, after, r)
            await store.note(e.id, entry_id, "identity_revoked", detail, r.actor, now)
            revoked.append(after)
            if e.status == "open":  # whoever watches the open ones sees it, as the holders do
                update = revoked_update(e, after, r, self.policy.team_language, now)
                await store.enqueue(e.id, [Outgoing.of(ESCALATION_UPDATED, update)], now)
        languages = of_escalations(self.policy, *revoked)
        alerts = revocation_alerts(revoked, r, languages, self.policy.team_timezone, now)
        for alert in alerts:
            # An alert about several cases: its outbox row names the first it lists.
            held_by = alert.escalation_id or uuid.UUID(alert.data["cases"][0]["escalation_id"])
            await store.enqueue(held_by, [Outgoing.of(NOTIFY_REQUEST, alert)], now)
        # No open case: nobody holds one to hear it; the account manager does, or who stands
        # in for them when the client's threats spare them (a hold of another open case).
        spared: dict[str, Sparing] = {}
        if no_case_open(found) and r.account_manager is not None:
            spared = await store.spared_on(customer_subject(r.customer_id))
        alone = unheld_alert(self.policy, found, r, now, spared)
        if alone is not None:
            unheld.append(Outgoing.of(NOTIFY_REQUEST, alone))
        return len(revoked)

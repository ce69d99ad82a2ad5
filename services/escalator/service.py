"""Escalator use case: a verified message in; escalations and notifications out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.contracts import (
    EscalationChanged,
    IdentityVerified,
    SendNotification,
    derived_id,
)
from shared.db import Database
from shared.group_commit import GroupCommit
from shared.outbox import Outgoing
from shared.subjects import ESCALATION_OPENED, ESCALATION_UPDATED, NOTIFY_REQUEST

from .adapters import NewEscalation, SqlEscalationStore, processed
from .detection import detect
from .links import AckLinkIssuer
from .notifications import (
    client_contacts,
    notified_staff,
    staff_briefing,
    staff_notifications,
    subject_key,
)
from .policy import Policy, evaluate


class EscalatorService:
    def __init__(
        self,
        db: Database,
        policy: Policy,
        clock: Callable[[], datetime],
        links: AckLinkIssuer | None = None,
        commits: GroupCommit | None = None,
    ) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        self.links = links
        self.commits = commits or GroupCommit(db, processed, "escalator", clock)

    async def handle(self, verified: IdentityVerified) -> list[Outgoing]:
        """Once per message, in the transaction it shares with the messages beside it."""
        return await self.commits.once(
            str(verified.message_id),
            lambda session: self._escalate(SqlEscalationStore(session), verified),
        )

    async def _escalate(
        self, store: SqlEscalationStore, verified: IdentityVerified
    ) -> list[Outgoing]:
        now = self.clock()
        message, identity = verified.message, verified.identity
        signals = detect(message.text, language=message.language)
        outputs: list[Outgoing] = []
        for decision in evaluate(self.policy, signals, identity):
            rule = decision.rule
            key = subject_key(verified)
            signal_data = [s.model_dump(mode="json") for s in decision.signals]
            new = NewEscalation(
                id=derived_id("escalation", key, rule.kind, verified.message_id),
                subject_key=key,
                customer_id=identity.customer.id if identity.customer else None,
                kind=rule.kind,
                severity=rule.severity,
                rule=rule.id,
                reason=decision.reason,
                identity_status=identity.status,
                roles=list(rule.notify),
                signals=signal_data,
                ack_deadline=now + self.policy.ack_deadline(rule.severity),
                correlation_id=verified.correlation_id,
            )
            placed = await store.open_or_merge(new, verified.message_id, now)
            escalation_id, opened = placed.id, placed.opened
            reason = decision.reason
            if placed.raised_from is not None:
                reason = f"severity raised from {placed.raised_from} to {placed.severity}; {reason}"
            event = EscalationChanged(
                event_id=derived_id("escalation-changed", escalation_id, verified.message_id),
                message_id=verified.message_id,
                correlation_id=verified.correlation_id,
                occurred_at=now,
                escalation_id=escalation_id,
                change="opened" if opened else "merged",
                kind=rule.kind,
                severity=placed.severity,  # type: ignore[arg-type]
                rule=rule.id,
                reason=reason,
                customer_id=new.customer_id,
                identity_status=identity.status,
                signals=list(decision.signals),
                roles=list(rule.notify),
                ack_deadline=new.ack_deadline,
            )
            outputs.append(Outgoing.of(ESCALATION_OPENED if opened else ESCALATION_UPDATED, event))
            if opened:
                staff = staff_notifications(self.policy, decision, event, verified)
                await store.record_notified(
                    escalation_id,
                    notified_staff(staff),
                    staff_briefing(self.policy, decision, event, verified),
                )
                staff = [await self._with_link(store, n, now) for n in staff]
                notes: list[SendNotification] = staff + client_contacts(decision, event, verified)
                outputs += [Outgoing.of(NOTIFY_REQUEST, n) for n in notes]
        return outputs

    async def _with_link(
        self, store: SqlEscalationStore, note: SendNotification, now: datetime
    ) -> SendNotification:
        """The staff notification with its one-click acknowledge link (`ack_url`)."""
        if self.links is None or note.escalation_id is None:
            return note
        (notified,) = notified_staff([note])
        url = await self.links.issue(
            store.session, note.escalation_id, notified["role"], notified["address"], now
        )
        return note.model_copy(update={"data": {**note.data, "ack_url": url}})

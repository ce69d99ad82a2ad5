"""Lifecycle use cases: staff acknowledge, resolve and reassign; missed deadlines climb.

Each use case is one transaction over the escalation's row (locked), its timeline, the
outbox and, for commands, the stored answer; the relay publishes the outbox after the
commit. A retried command (same command id) gets its first answer and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from shared.contracts import (
    AcknowledgeEscalation,
    EscalationActed,
    EscalationCommand,
    EscalationCommandResult,
    ReassignEscalation,
    ResolveEscalation,
    SendNotification,
    derived_id,
)
from shared.db import Database
from shared.group_commit import deferring_inserts
from shared.outbox import Outgoing
from shared.subjects import (
    ESCALATION_ACKNOWLEDGED,
    ESCALATION_ESCALATED,
    ESCALATION_REASSIGNED,
    ESCALATION_RESOLVED,
    NOTIFY_REQUEST,
)

from .ack_links import AckClaims, LinkRejected
from .facts import hold_view
from .lifecycle import (
    Escalation,
    Notified,
    authorize,
    channel_of,
    next_climb,
    policy_address,
    same_address,
)
from .lifecycle_store import LifecycleStore, lock_unpublished, mark_published
from .policy import STAFF_ROLES, Policy

log = logging.getLogger(__name__)
Publish = Callable[[list[Outgoing]], Awaitable[None]]
LinkMaker = Callable[[LifecycleStore, Escalation, Notified, datetime], Awaitable[str | None]]
SUBJECTS = {
    "acknowledged": ESCALATION_ACKNOWLEDGED,
    "resolved": ESCALATION_RESOLVED,
    "reassigned": ESCALATION_REASSIGNED,
    "escalated": ESCALATION_ESCALATED,
}
SWEEPER = {"role": "escalator", "address": "escalator"}


async def _no_link(
    store: LifecycleStore, escalation: Escalation, notified: Notified, now: datetime
) -> str | None:
    return None


class LifecycleService:
    def __init__(
        self,
        db: Database,
        policy: Policy,
        clock: Callable[[], datetime],
        publish: Publish,
        ack_link: LinkMaker = _no_link,
    ) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        self.publish = publish
        self.ack_link = ack_link

    # --- commands ----------------------------------------------------------------------

    async def command(self, cmd: EscalationCommand) -> EscalationCommandResult:
        now = self.clock()
        async with self.db.transaction() as session:
            store = LifecycleStore(session)
            escalation = await store.lock(cmd.escalation_id)
            if escalation is None:
                return _result(cmd, "not_found", None, "no such escalation")
            stored = await store.answered(cmd.command_id)
            if stored is not None:
                return EscalationCommandResult.model_validate(stored)
            result = await self._apply(store, escalation, cmd, now)
            await store.answer(
                cmd.command_id,
                escalation.id,
                type(cmd).__name__,
                result.model_dump(mode="json"),
                now,
            )
        await self.flush()
        return result

    async def acknowledge_by_link(self, claims: AckClaims) -> EscalationCommandResult:
        """Acknowledge as the person a signed link was sent to, as the NATS command does.

        The link works once: its row is marked used in the transaction that acknowledges.
        LinkRejected when the link was never issued (or does not match its row) or was used.
        """
        now = self.clock()
        cmd = AcknowledgeEscalation(
            command_id=derived_id("ack-link", claims.link_id),
            escalation_id=claims.escalation_id,
            actor=claims.address,
            actor_role=claims.role,
        )
        async with self.db.transaction() as session:
            store = LifecycleStore(session)
            escalation = await store.lock(claims.escalation_id)
            await _check_link(store, claims, escalation is not None, for_update=True)
            assert escalation is not None
            await store.use_link(claims.link_id, now)
            result = await self._apply(store, escalation, cmd, now, via="link")
            await store.answer(
                cmd.command_id,
                escalation.id,
                "AcknowledgeByLink",
                result.model_dump(mode="json"),
                now,
            )
        await self.flush()
        return result

    async def preview_link(self, claims: AckClaims) -> Escalation:
        """What a link would acknowledge; LinkRejected as acknowledge_by_link would."""
        async with self.db.transaction() as session:
            store = LifecycleStore(session)
            escalation = await store.lock(claims.escalation_id, for_update=False)
            await _check_link(store, claims, escalation is not None, for_update=False)
        assert escalation is not None
        return escalation

    async def _apply(
        self,
        store: LifecycleStore,
        e: Escalation,
        cmd: EscalationCommand,
        now: datetime,
        via: str = "nats",
    ) -> EscalationCommandResult:
        actor = authorize(e, cmd.actor, cmd.actor_role)
        entry_id = derived_id("escalation-command", cmd.command_id)
        if actor is None:
            detail = {"command": type(cmd).__name__, "via": via}
            await store.note(e.id, entry_id, "refused", detail, _who(cmd), now)
            return _result(cmd, "forbidden", e, "only the people notified of it may act on it")
        if e.status == "resolved":
            return _result(cmd, "already_resolved", e, "it is already resolved")
        who = {"role": actor.role, "address": actor.address}
        if isinstance(cmd, AcknowledgeEscalation):
            if e.acknowledged:
                return _result(cmd, "already_acknowledged", e, "it is already acknowledged")
            await store.change(
                e.id, acknowledged_at=now, acknowledged_by=who, climb_due_at=None, updated_at=now
            )
            acked: dict[str, Any] = {"level": e.level, "via": via}
            await store.note(e.id, entry_id, "acknowledged", acked, who, now)
            event = self._acted(e, "acknowledged", cmd, actor, now)
            await store.enqueue(e.id, [event], now)
            return _result(cmd, "acknowledged", e, f"acknowledged by {actor.role}")
        if isinstance(cmd, ResolveEscalation):
            await store.change(
                e.id,
                status="resolved",
                resolved_at=now,
                resolved_by=who,
                resolution_note=cmd.note,
                climb_due_at=None,
                updated_at=now,
            )
            await store.note(e.id, entry_id, "resolved", {"note": cmd.note}, who, now)
            event = self._acted(e, "resolved", cmd, actor, now, status="resolved", note=cmd.note)
            await store.enqueue(e.id, [event], now)
            return _result(cmd, "resolved", e, f"resolved by {actor.role}", status="resolved")
        if isinstance(cmd, ReassignEscalation):
            return await self._reassign(store, e, cmd, actor, entry_id, now)
        return _result(cmd, "invalid", e, f"unknown command {type(cmd).__name__}")

    async def _reassign(
        self,
        store: LifecycleStore,
        e: Escalation,
        cmd: ReassignEscalation,
        actor: Notified,
        entry_id: Any,
        now: datetime,
    ) -> EscalationCommandResult:
        if cmd.to_role not in STAFF_ROLES:
            return _result(cmd, "invalid", e, f"unknown role {cmd.to_role!r}")
        known = [n.address for n in e.notified if n.role == cmd.to_role]
        address = cmd.to_address or policy_address(self.policy, cmd.to_role)
        address = address or (known[0] if known else None)
        if not address:
            return _result(cmd, "invalid", e, f"no address for role {cmd.to_role}: give one")
        target = Notified(cmd.to_role, address, e.level, "reassigned")
        deadline = now + self.policy.ack_deadline(e.severity, e.ack_minutes)
        notified = [*e.notified]
        if not any(n.role == target.role and same_address(n.address, address) for n in notified):
            notified.append(target)
        # The new owner has to acknowledge it again, within the severity's deadline.
        await store.change(
            e.id,
            notified=[n.as_json() for n in notified],
            acknowledged_at=None,
            acknowledged_by=None,
            ack_deadline=deadline,
            climb_due_at=deadline,
            updated_at=now,
        )
        who = {"role": actor.role, "address": actor.address}
        detail = {"to_role": cmd.to_role, "to_address": address, "note": cmd.note}
        await store.note(e.id, entry_id, "reassigned", detail, who, now)
        event = self._acted(
            e, "reassigned", cmd, actor, now, note=cmd.note, roles=[cmd.to_role], deadline=deadline
        )
        link = await self.ack_link(store, e, target, now)
        data = {
            **_briefing(e, self.policy.team_language),
            "ack_deadline": deadline.isoformat(),
            "ack_url": link,
        }
        note = self._notification(
            e, "manager_escalation", target, data, ("reassign", cmd.command_id)
        )
        await store.enqueue(e.id, [event, note], now)
        return _result(cmd, "reassigned", e, f"reassigned to {cmd.to_role}")

    # --- deadlines -------------------------------------------------------------------

    async def climb_due(self, limit: int = 50) -> int:
        """Climb every escalation whose deadline passed (up to `limit`); how many were due."""
        now = self.clock()
        # The climbs' timeline entries, links and outbox rows are inserted together.
        async with self.db.transaction() as session, deferring_inserts(session):
            store = LifecycleStore(session)
            due = await store.lock_due(now, limit)
            for escalation in due:
                await self._climb(store, escalation, now)
        return len(due)

    async def _climb(self, store: LifecycleStore, e: Escalation, now: datetime) -> None:
        climb = next_climb(self.policy, e)
        if climb is None:
            await store.change(e.id, climb_due_at=None, updated_at=now)
            detail = {"level": e.level, "overdue_since": _iso(e.climb_due_at)}
            entry_id = derived_id("escalation-chain-ended", e.id, e.level)
            await store.note(e.id, entry_id, "chain_ended", detail, SWEEPER, now)
            return
        deadline = now + self.policy.ack_deadline(e.severity, e.ack_minutes)
        told = [
            Notified(
                role,
                climb.addresses.get(role) or policy_address(self.policy, role) or "",
                climb.level,
                "climb",
            )
            for role in climb.roles
        ]
        await store.change(
            e.id,
            level=climb.level,
            notified=[n.as_json() for n in (*e.notified, *told)],
            ack_deadline=deadline,
            climb_due_at=deadline,
            updated_at=now,
        )
        previous = list(dict.fromkeys(n.role for n in e.notified))
        climbed: dict[str, Any] = {
            "level": climb.level,
            "roles": list(climb.roles),
            "overdue_since": _iso(e.climb_due_at),
        }
        await store.note(
            e.id,
            derived_id("escalation-climb", e.id, climb.level),
            "escalated",
            climbed,
            SWEEPER,
            now,
        )
        event = EscalationActed(
            event_id=derived_id("escalation-acted", e.id, "escalated", climb.level),
            message_id=e.message_id,
            correlation_id=e.correlation_id,
            occurred_at=now,
            escalation_id=e.id,
            action="escalated",
            kind=e.kind,
            severity=e.severity,  # type: ignore[arg-type]
            status="open",
            level=climb.level,
            actor=SWEEPER["address"],
            actor_role=SWEEPER["role"],
            roles=list(climb.roles),
            ack_deadline=deadline,
        )
        outputs = [Outgoing.of(ESCALATION_ESCALATED, event)]
        for target in told:
            data = {
                **_briefing(e, self.policy.team_language),
                "level": climb.level,
                "ack_deadline": deadline.isoformat(),
                "overdue_since": _iso(e.climb_due_at),
                "previous_roles": previous,
                "ack_url": await self.ack_link(store, e, target, now),
            }
            outputs.append(
                self._notification(e, "re_escalation", target, data, ("level", climb.level))
            )
        await store.enqueue(e.id, outputs, now)
        log.info("escalation %s climbed to level %s", e.id, climb.level)

    # --- publishing ------------------------------------------------------------------

    async def flush(self, batch: int = 100) -> int:
        """Publish what the outbox holds; rows another replica is publishing are skipped."""
        published = 0
        while True:
            async with self.db.transaction() as session:
                outputs = await lock_unpublished(session, batch)
                if not outputs:
                    return published
                await self.publish(outputs)
                await mark_published(session, [o.event_id for o in outputs], self.clock())
            published += len(outputs)

    # --- shaping ---------------------------------------------------------------------

    def _acted(
        self,
        e: Escalation,
        action: str,
        cmd: EscalationCommand,
        actor: Notified,
        now: datetime,
        status: str | None = None,
        note: str | None = None,
        roles: list[str] | None = None,
        deadline: datetime | None = None,
    ) -> Outgoing:
        event = EscalationActed(
            event_id=derived_id("escalation-acted", e.id, action, cmd.command_id),
            message_id=e.message_id,
            correlation_id=e.correlation_id,
            occurred_at=now,
            escalation_id=e.id,
            action=action,  # type: ignore[arg-type]
            kind=e.kind,
            severity=e.severity,  # type: ignore[arg-type]
            status=status or e.status,  # type: ignore[arg-type]
            level=e.level,
            actor=actor.address,
            actor_role=actor.role,
            note=note,
            roles=roles or [],
            ack_deadline=deadline,
        )
        return Outgoing.of(SUBJECTS[action], event)

    def _notification(
        self,
        e: Escalation,
        kind: str,
        target: Notified,
        data: dict[str, Any],
        why: tuple[object, ...],
    ) -> Outgoing:
        channel, recipient = channel_of(target.address)
        note = SendNotification(
            event_id=derived_id("notify-request", e.id, *why, target.role, target.address),
            notification_id=derived_id("notification", e.id, *why, target.role, target.address),
            message_id=e.message_id,
            correlation_id=e.correlation_id,
            occurred_at=self.clock(),
            escalation_id=e.id,
            kind=kind,  # type: ignore[arg-type]
            channel=channel,  # type: ignore[arg-type]
            recipient=recipient,
            recipient_role=target.role,
            recipient_verified=True,  # staff directory addresses
            content_class="account",
            language=self.policy.team_language,
            data=data,
            severity=e.severity,  # type: ignore[arg-type]
        )
        return Outgoing.of(NOTIFY_REQUEST, note)


async def _check_link(
    store: LifecycleStore, claims: AckClaims, escalation_exists: bool, for_update: bool
) -> None:
    link = await store.lock_link(claims.link_id, for_update=for_update)
    issued = link is not None and (link.escalation_id, link.role, link.address) == (
        claims.escalation_id,
        claims.role,
        claims.address,
    )
    if link is None or not escalation_exists or not issued:
        raise LinkRejected("this link was not issued by the escalator", kind="unknown")
    if link.used_at is not None:
        raise LinkRejected("this link has already been used", kind="used")


def _briefing(e: Escalation, team_language: str) -> dict[str, Any]:
    """What staff are told about it; escalations opened before the lifecycle have less."""
    base: dict[str, Any] = {
        "severity": e.severity,
        "kind": e.kind,
        "rule": "",
        "reason": "",
        "playbook": "",
        "customer": None,
        "customer_id": None,
        "identity_status": "unknown",
        "identity_confidence": 0.0,
        "identity_evidence": [],
        "signals": [],
        "channel": None,
        "subject": "",
    }
    current: dict[str, Any] = {"escalation_id": str(e.id), "severity": e.severity}
    if "hold" in e.briefing or e.hold:  # the hold as it is now, not as it was at opening
        current["hold"] = hold_view(e.hold, team_language)
    return {**base, **e.briefing, **current}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _who(cmd: EscalationCommand) -> dict[str, Any]:
    return {"role": cmd.actor_role, "address": cmd.actor}


def _result(
    cmd: EscalationCommand,
    outcome: str,
    e: Escalation | None,
    detail: str,
    status: str | None = None,
) -> EscalationCommandResult:
    return EscalationCommandResult(
        outcome=outcome,  # type: ignore[arg-type]
        escalation_id=cmd.escalation_id,
        status=(status or e.status) if e else None,  # type: ignore[arg-type]
        level=e.level if e else None,
        detail=detail,
    )

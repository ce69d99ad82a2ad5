"""Staff commands: acknowledge, resolve and reassign an escalation, and record what the
client was told (the answer promised; a warning given in person); over NATS, or
(acknowledge) by a link.

Each command is one transaction over the escalation's row (locked), its timeline, the
outbox and the stored answer; the outbox is published after the commit. A retried command
(same command id) gets its first answer and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.contracts import (
    AcknowledgeEscalation,
    EscalationCommand,
    EscalationCommandResult,
    ReassignEscalation,
    RecordClientReply,
    RecordWarning,
    ResolveEscalation,
    derived_id,
)
from shared.outbox import Outgoing
from shared.subjects import (
    ESCALATION_ACKNOWLEDGED,
    ESCALATION_ESCALATED,
    ESCALATION_REASSIGNED,
    ESCALATION_RESOLVED,
)

from .ack_links import AckClaims, LinkRejected
from .history import Mark
from .history_store import mark_warned
from .lifecycle import Escalation, Notified, authorize, role_address, same_address
from .lifecycle_steps import LifecycleSteps, acted, current_briefing
from .lifecycle_store import LifecycleStore
from .placement import closed_promise
from .policy import STAFF_ROLES

SUBJECTS = {
    "acknowledged": ESCALATION_ACKNOWLEDGED,
    "resolved": ESCALATION_RESOLVED,
    "reassigned": ESCALATION_REASSIGNED,
    "escalated": ESCALATION_ESCALATED,
}


class StaffCommands(LifecycleSteps):
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
            await self._take(store, e, cmd, actor, entry_id, via, now)
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
        if isinstance(cmd, RecordClientReply):
            if not e.acknowledged:
                # Whoever answers the client has taken the case: it climbs no further.
                taken = derived_id("escalation-command", cmd.command_id, "taken")
                await self._take(store, e, cmd, actor, taken, "client_reply", now)
            return await self._client_reply(store, e, cmd, who, entry_id, now)
        if isinstance(cmd, RecordWarning):
            return await self._warned(store, e, cmd, who, entry_id, now)
        return _result(cmd, "invalid", e, f"unknown command {type(cmd).__name__}")

    async def _take(
        self,
        store: LifecycleStore,
        e: Escalation,
        cmd: EscalationCommand,
        actor: Notified,
        entry_id: Any,
        via: str,
        now: datetime,
    ) -> None:
        """`actor` has the escalation: its climbs stop, and everyone hears it was taken."""
        who = {"role": actor.role, "address": actor.address}
        await store.change(
            e.id, acknowledged_at=now, acknowledged_by=who, climb_due_at=None, updated_at=now
        )
        acked: dict[str, Any] = {"level": e.level, "via": via}
        await store.note(e.id, entry_id, "acknowledged", acked, who, now)
        await store.enqueue(e.id, [self._acted(e, "acknowledged", cmd, actor, now)], now)

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
        # The deputy role is the client's deputy on file, as a climb tells it (lifecycle),
        # unless a threat of the client named them.
        spared = await store.spared_of(e)
        address = cmd.to_address or role_address(self.policy, e, cmd.to_role, spared)
        address = address or (known[0] if known else None)
        if not address:
            return _result(cmd, "invalid", e, f"no address for role {cmd.to_role}: give one")
        target = Notified(cmd.to_role, address, e.level, "reassigned")
        deadline = self.policy.ack_by(e.severity, now, e.ack_minutes)
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
        data = {
            **current_briefing(e, self.policy.team_language),
            "ack_deadline": deadline.isoformat(),
        }
        why = ("reassign", cmd.command_id)
        note = await self.notice_with_link(store, e, "manager_escalation", target, data, why, now)
        await store.enqueue(e.id, [event, note], now)
        return _result(cmd, "reassigned", e, f"reassigned to {cmd.to_role}")

    async def _client_reply(
        self,
        store: LifecycleStore,
        e: Escalation,
        cmd: RecordClientReply,
        who: dict[str, Any],
        entry_id: Any,
        now: datetime,
    ) -> EscalationCommandResult:
        """The promise to the client is kept (answered) or moved (a new date they were
        told): either way nothing owns up to a missed one on its behalf; a new date is
        reminded of and watched like the first."""
        promised = e.client_reply_by.isoformat() if e.client_reply_by else None
        if cmd.new_date is None:
            # Kept, not used up: a new problem written into the case is promised anew.
            over = closed_promise(e.promise_to, "answered")
            await store.change(e.id, client_reply_by=None, promise_to=over, updated_at=now)
            detail = {"promised": promised, "note": cmd.note}
            await store.note(e.id, entry_id, "client_answered", detail, who, now)
            return _result(cmd, "recorded", e, "the client has the answer: no promise stands")
        if cmd.new_date.tzinfo is None or cmd.new_date <= now:
            return _result(cmd, "invalid", e, "the new date must be a future time with its zone")
        await store.change(
            e.id, client_reply_by=cmd.new_date, promise_reminded_at=None, updated_at=now
        )
        detail = {"promised": promised, "new_date": cmd.new_date.isoformat(), "note": cmd.note}
        await store.note(e.id, entry_id, "promise_moved", detail, who, now)
        return _result(cmd, "recorded", e, f"the client was promised {cmd.new_date.isoformat()}")

    async def _warned(
        self,
        store: LifecycleStore,
        e: Escalation,
        cmd: RecordWarning,
        who: dict[str, Any],
        entry_id: Any,
        now: datetime,
    ) -> EscalationCommandResult:
        """The client was warned in person: the history's warning mark on the escalation's
        latest message (`warned` conditions count it), and the act in the timeline."""
        mark = Mark(kind="warning", name=e.kind)
        marked = await mark_warned(store.session, e.subject_key, e.id, mark)
        if marked is None:
            return _result(cmd, "invalid", e, "no message of it is on file to mark")
        message_id, new = marked
        detail = {"kind": e.kind, "message": str(message_id), "note": cmd.note, "new": new}
        await store.note(e.id, entry_id, "warned", detail, who, now)
        return _result(cmd, "recorded", e, f"warning recorded on message {message_id}")

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
        who = {"role": actor.role, "address": actor.address}
        event = acted(
            e,
            action,
            (cmd.command_id,),
            who,
            now,
            status=status or e.status,
            note=note,
            roles=roles or [],
            ack_deadline=deadline,
        )
        return Outgoing.of(SUBJECTS[action], event)


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

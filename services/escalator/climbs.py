"""Missed deadlines climb: the next level of the escalation's chain is told.

An open escalation nobody acknowledged by its deadline (`climb_due_at`) goes one level up
the policy's chain, with a new deadline, or ends its chain. A pass is one transaction over
the due rows (locked, skipped by other replicas), their timeline and the outbox; the
sweeper runs the passes and publishes the outbox after each.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from shared.contracts import derived_id
from shared.group_commit import deferring_inserts
from shared.outbox import Outgoing
from shared.subjects import ESCALATION_ESCALATED, NOTIFY_REQUEST

from .hold_notices import promise_due_notices
from .lifecycle import (
    Climb,
    Escalation,
    Notified,
    deputy_passed_over,
    next_climb,
    role_address,
)
from .lifecycle_steps import LifecycleSteps, acted, current_briefing
from .lifecycle_store import LifecycleStore
from .missed_promises import (
    client_delay_notice,
    holder_notices,
    missed_promise,
    owned_up_automatically,
)
from .passed_over import Sparing
from .staff_language import of_escalations

log = logging.getLogger(__name__)
SWEEPER = {"role": "escalator", "address": "escalator"}


class DeadlineClimbs(LifecycleSteps):
    async def climb_due(self, limit: int = 50) -> int:
        """Climb every escalation whose deadline passed (up to `limit`); how many were due."""
        return await self._each(lambda store, now: store.lock_due(now, limit), self._climb)

    async def remind_promises(self, limit: int = 50) -> int:
        """Remind the holders of every open escalation whose promise to the client falls due
        within the policy's lead (up to `limit`), once per promise; how many were due."""
        lead = timedelta(minutes=self.policy.client_reply_remind_minutes)
        return await self._each(
            lambda store, now: store.lock_promises_due(now, now + lead, limit), self._remind
        )

    async def own_missed_promises(self, limit: int = 50) -> int:
        """Own up to every promise to a client that passed with its escalation open (up to
        `limit`; missed_promises.py): the client is told first, with a new date while the
        policy allows one, the holders hear it, and an acknowledged escalation climbs a
        level (its new holder must acknowledge it again; an unacknowledged one is climbing
        by its deadline already). How many were due."""
        return await self._each(
            lambda store, now: store.lock_promises_missed(now, limit), self._own_missed
        )

    async def _each(
        self,
        lock: Callable[[LifecycleStore, datetime], Awaitable[list[Escalation]]],
        step: Callable[[LifecycleStore, Escalation, datetime], Awaitable[None]],
    ) -> int:
        """One pass: the escalations `lock` finds (locked, skipped by other replicas), each
        taken by `step`, in one transaction whose timeline entries, links and outbox rows
        are inserted together; how many were found."""
        now = self.clock()
        async with self.db.transaction() as session, deferring_inserts(session):
            store = LifecycleStore(session)
            due = await lock(store, now)
            for e in due:
                await step(store, e, now)
        return len(due)

    async def _remind(self, store: LifecycleStore, e: Escalation, now: datetime) -> None:
        automatic = owned_up_automatically(self.policy, e)
        notes = promise_due_notices(e, of_escalations(self.policy, e), now, automatic)
        await store.change(e.id, promise_reminded_at=now, updated_at=now)
        promised = _iso(e.client_reply_by)
        told = sorted({n.recipient_role for n in notes})
        entry_id = derived_id("escalation-promise-due", e.id, promised)
        detail = {"promised": promised, "told": told}
        await store.note(e.id, entry_id, "promise_due", detail, SWEEPER, now)
        await store.enqueue(e.id, [Outgoing.of(NOTIFY_REQUEST, n) for n in notes], now)

    async def _own_missed(self, store: LifecycleStore, e: Escalation, now: datetime) -> None:
        missed = missed_promise(self.policy, e, now)
        await store.change(e.id, **missed.changes(e, now))
        e = missed.kept_on(e)
        told = sorted({n.role for n in e.notified})
        # Someone has it and the promise passed: it goes higher. Nobody has it: its own
        # deadline climbs it already (a second climb now would page a level, then the next).
        spared = await store.spared_of(e) if e.acknowledged else {}
        climb = next_climb(self.policy, e, spared) if e.acknowledged else None
        holders = e
        if climb is not None:
            # A more senior person takes it, and has to acknowledge it as their own.
            await store.change(e.id, acknowledged_at=None, acknowledged_by=None)
            why = {
                "promise_missed": missed.missed.isoformat(),
                "overdue_since": None,
                "client_told": missed.new_date is not None,
            }
            deadline = await self._climb_to(store, e, climb, now, why, spared)
            # The holders read where it is now (the level, the new deadline); the climb's
            # own roles have their re-escalation.
            holders = replace(e, level=climb.level, ack_deadline=deadline, taken_by=None)
        languages = of_escalations(self.policy, e)
        outputs = [
            Outgoing.of(NOTIFY_REQUEST, n) for n in holder_notices(holders, missed, languages, now)
        ]
        client = client_delay_notice(e, missed, climb is not None, now)
        if client is not None:
            outputs.append(Outgoing.of(NOTIFY_REQUEST, client))
        detail = {
            "promised": missed.missed.isoformat(),
            "new_date": _iso(missed.new_date),
            "client_told": client is not None,
            "told": told,
            "climbed_to": climb.level if climb else None,
        }
        entry_id = derived_id("escalation-promise-missed", e.id, missed.missed.isoformat())
        await store.note(e.id, entry_id, "promise_missed", detail, SWEEPER, now)
        await store.enqueue(e.id, outputs, now)
        log.info("escalation %s missed its promise to the client", e.id)

    async def _climb(self, store: LifecycleStore, e: Escalation, now: datetime) -> None:
        spared = await store.spared_of(e)
        climb = next_climb(self.policy, e, spared)
        if climb is None:
            await store.change(e.id, climb_due_at=None, updated_at=now)
            detail = {"level": e.level, "overdue_since": _iso(e.climb_due_at)}
            entry_id = derived_id("escalation-chain-ended", e.id, *e.per_opening(e.level))
            await store.note(e.id, entry_id, "chain_ended", detail, SWEEPER, now)
            return
        why = {"overdue_since": _iso(e.climb_due_at)}
        await self._climb_to(store, e, climb, now, why, spared)

    async def _climb_to(
        self,
        store: LifecycleStore,
        e: Escalation,
        climb: Climb,
        now: datetime,
        why: Mapping[str, object],
        spared: Mapping[str, Sparing],
    ) -> datetime:
        """Tell the climb's roles, with a new deadline to acknowledge (returned); `why`:
        what passed (the deadline nobody acknowledged by, or the promise to the client).
        Those told in place of a deputy the client's holds spare (`spared`, the store's;
        the climb's stand-ins) read why it is them, and in which case (passed_over.py)."""
        deadline = self.policy.ack_by(e.severity, now, e.ack_minutes)
        told = [
            Notified(
                role,
                climb.addresses.get(role) or role_address(self.policy, e, role) or "",
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
        climbed: dict[str, Any] = {"level": climb.level, "roles": list(climb.roles), **why}
        await store.note(
            e.id,
            derived_id("escalation-climb", e.id, *e.per_opening(climb.level)),
            "escalated",
            climbed,
            SWEEPER,
            now,
        )
        event = acted(
            e,
            "escalated",
            e.per_opening(climb.level),
            SWEEPER,
            now,
            status="open",
            level=climb.level,
            roles=list(climb.roles),
            ack_deadline=deadline,
        )
        outputs = [Outgoing.of(ESCALATION_ESCALATED, event)]
        briefing = current_briefing(e, self.policy.team_language)
        data = {
            **briefing,
            "level": climb.level,
            "ack_deadline": deadline.isoformat(),
            **why,
            "previous_roles": previous,
        }
        occasion = e.per_opening("level", climb.level)
        deputy = deputy_passed_over(e, spared) if climb.stand_ins else None
        for target in told:
            said = data
            if deputy is not None and target.role in climb.stand_ins:
                said = {**data, "passed_over": [deputy]}
            outputs.append(
                await self.notice_with_link(store, e, "re_escalation", target, said, occasion, now)
            )
        await store.enqueue(e.id, outputs, now)
        log.info("escalation %s climbed to level %s", e.id, climb.level)
        return deadline


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

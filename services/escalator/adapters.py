"""The store of escalations: where a message's escalation goes (opened, merged, reopened).

The values it takes and gives are in `placement`, the tables it writes in `tables`; the
lifecycle's changes (acknowledge, climb, ...) are in `lifecycle_store`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, String, any_, bindparam, case, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import derived_id

from .client_fixed import StillOwed
from .history_store import written_from
from .lifecycle import Escalation, taker
from .lifecycle_store import escalation_of
from .placement import (
    NewEscalation,
    Placed,
    active_hold,
    known_problems,
    more_severe,
    news_of,
    promise_over,
)
from .problem_keys import ABOUT_SIGNALS
from .tables import TOLD_ENTRIES, TZ, add_timeline_entry, escalations, timeline


class SqlEscalationStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_or_merge(
        self, new: NewEscalation, message_id: uuid.UUID, at: datetime
    ) -> Placed:
        """Merge into the open escalation of the same kind if any (raising its severity when
        the new rule is more severe), else reopen one resolved since `new.reopen_since`,
        else open one.

        The caller holds the subject's lock (history_store), so no other transaction places
        an escalation of this subject meanwhile. One query finds the open escalation of the
        kind, or else the last one resolved within the window, and locks it."""
        found = (
            await self.session.execute(
                _placement(),
                {
                    "subject_key": new.subject_key,
                    "kind": new.kind,
                    # Without a window nothing resolved qualifies: a bound nothing reaches.
                    "reopen_since": new.reopen_since or _NEVER,
                },
            )
        ).first()
        return await self.place(found, new, message_id, at)

    async def place(
        self, found: Any, new: NewEscalation, message_id: uuid.UUID, at: datetime
    ) -> Placed:
        """Merge into `found` if it is open, reopen it if it is resolved, or open anew."""
        if found is not None and found.status == "open":
            return await self._merge(found, new, message_id, at)
        if found is not None:
            return await self._reopen(found, new, message_id, at)
        promised = new.promised(new.severity)
        await self._insert(
            {
                "id": new.id,
                "subject_key": new.subject_key,
                "customer_id": new.customer_id,
                "kind": new.kind,
                "severity": new.severity,
                "status": "open",
                "rule": new.rule,
                "reason": new.reason,
                "level": 1,
                "identity_status": new.identity_status,
                "roles": new.roles,
                "signals": new.signals,
                "message_count": 1,
                "ack_deadline": new.ack_deadline,
                "opened_at": at,
                "updated_at": at,
                "message_id": message_id,
                "correlation_id": new.correlation_id,
                "notified": [],
                "briefing": {},
                "climb_due_at": new.ack_deadline,
                "facts": new.facts,
                "hold": new.hold,
                "planned": new.planned,
                "ack_minutes": new.ack_minutes,
                "reopen_count": 0,
                "client_reply_by": promised,
                "promise_to": new.promise_to if promised else None,
                "promises_missed": 0,
                "subject": new.subject,
            }
        )
        placed = Placed(
            new.id,
            True,
            new.severity,
            hold=new.hold,
            hold_placed=bool(new.hold),
            client_reply_by=promised,
            ack_deadline=new.ack_deadline,
        )
        await self._note(placed.id, message_id, "opened", _detail(new), at)
        await self._note_hold(placed, new, message_id, at)
        return placed

    async def _insert(self, row: dict[str, Any]) -> None:
        await insert_escalations(self.session, [row])

    async def _merge(
        self, existing: Any, new: NewEscalation, message_id: uuid.UUID, at: datetime
    ) -> Placed:
        values: dict[str, Any] = {"facts": new.facts}
        raised_from = None
        severity = existing.severity
        if more_severe(new.severity, existing.severity):
            raised_from, severity = existing.severity, new.severity
            values["severity"] = new.severity
            # Nobody has it yet: the graver severity's shorter deadline applies now.
            if existing.acknowledged_at is None and existing.climb_due_at is not None:
                values["climb_due_at"] = min(existing.climb_due_at, new.ack_deadline)
                values["ack_deadline"] = min(existing.ack_deadline, new.ack_deadline)
        # What the client was told stands; a message that makes the first promise sets it,
        # for the escalation's severity (raised above or not), not its own rule's. A promise
        # whose new dates ran out (or disowned) is not made again: only a person answers,
        # and the follow-up names no date. One that is over (kept: the client answered, or
        # said it works now) is made anew for the new problem, with its own new dates and
        # reminder; the follow-up says it, and the sweeper keeps it.
        promise = existing.client_reply_by
        news = news_of(known_problems(existing.signals, existing.promise_to), new.signals)
        fresh = existing.promise_to is None or (
            promise_over(existing.promise_to) and any(n.signal in ABOUT_SIGNALS for n in news)
        )
        if promise is None and new.promise is not None and fresh:
            values["client_reply_by"] = promise = new.promise(severity)
            values["promise_to"] = new.promise_to
            values["promises_missed"] = 0
            values["promise_reminded_at"] = None
        hold, hold_placed = existing.hold, bool(new.hold) and not active_hold(existing.hold)
        if hold_placed:
            values["hold"] = hold = new.hold
        elif new.hold and hold and active_hold(hold):
            # A threat merged into the held case that names someone the hold does not spare
            # yet (the deputy who stood in for the threatened manager): spared from now on.
            spares = [s for s in new.hold.get("spares", []) if s not in hold.get("spares", [])]
            if spares:
                values["hold"] = hold = {**hold, "spares": [*hold.get("spares", []), *spares]}
        new_sender = await self._new_sender(existing.id, new.confirmation_id)
        placed = Placed(
            existing.id,
            False,
            severity,
            raised_from,
            "merged",
            tuple(existing.notified or []),
            existing.level,
            hold,
            hold_placed,
            promise,
            news,
            existing.promise_to is not None,
            values.get("ack_deadline", existing.ack_deadline),
            new_sender,
            existing.identity_status == "suspicious",
            taker(existing.acknowledged_at, existing.acknowledged_by),
        )
        await self.session.execute(
            update(escalations)
            .where(escalations.c.id == existing.id)
            .values(
                message_count=escalations.c.message_count + 1,
                signals=escalations.c.signals.op("||")(new.signals),
                updated_at=at,
                **values,
            )
        )
        await self._note(placed.id, message_id, "merged", _detail(new), at)
        if raised_from is not None:
            raised = {"from": raised_from, "to": severity, "rule": new.rule}
            entry_id = derived_id("severity-raised", placed.id, message_id)
            await self._note(placed.id, entry_id, "severity_raised", raised, at)
        await self._note_hold(placed, new, message_id, at)
        return placed

    async def _new_sender(
        self, escalation_id: uuid.UUID, confirmation_id: uuid.UUID | None
    ) -> bool:
        """Whether the message's sender waits on a confirmation no earlier message of the
        escalation waited on (its timeline entries name the confirmations: 0016 indexes
        them): another address, not confirmed, writing in the client's name."""
        if confirmation_id is None:
            return False
        t = timeline.c
        seen = select(t.id).where(
            t.escalation_id == escalation_id,
            t.detail["confirmation_id"].astext == str(confirmation_id),
        )
        return not await self.session.scalar(select(seen.exists()))

    async def _reopen(
        self, resolved: Any, new: NewEscalation, message_id: uuid.UUID, at: datetime
    ) -> Placed:
        """The resolved escalation is open again: the rule's people are told anew, from
        level 1, with the new rule's deadline, at the graver of its severity and the new
        rule's (a case the team closed and the client says is not over is no smaller than
        it was); the last outcome stays in the timeline."""
        severity = new.severity
        if more_severe(resolved.severity, new.severity):
            severity = resolved.severity
        deadline = new.deadline_for(severity)
        new_sender = await self._new_sender(resolved.id, new.confirmation_id)
        await self.session.execute(
            update(escalations)
            .where(escalations.c.id == resolved.id)
            .values(
                status="open",
                severity=severity,
                rule=new.rule,
                reason=new.reason,
                level=1,
                identity_status=new.identity_status,
                roles=new.roles,
                signals=escalations.c.signals.op("||")(new.signals),
                message_count=escalations.c.message_count + 1,
                ack_deadline=deadline,
                climb_due_at=deadline,
                acknowledged_at=None,
                acknowledged_by=None,
                resolved_at=None,
                resolved_by=None,
                resolution_note=None,
                reopened_at=at,
                reopen_count=escalations.c.reopen_count + 1,
                updated_at=at,
                facts=new.facts,
                hold=new.hold,
                planned=new.planned,
                ack_minutes=new.ack_minutes,
                client_reply_by=new.promised(severity),
                promise_reminded_at=None,  # a new promise, to be reminded of in its turn
                promise_to=new.promise_to,
                promises_missed=0,
            )
        )
        placed = Placed(
            resolved.id,
            False,
            severity,
            change="reopened",
            notified=tuple(resolved.notified or []),
            hold=new.hold,
            hold_placed=bool(new.hold),
            client_reply_by=new.promised(severity),
            ack_deadline=deadline,
            new_sender=new_sender,
            suspicious_before=resolved.identity_status == "suspicious",
        )
        before = {
            "resolved_at": resolved.resolved_at.isoformat(),
            "resolved_by": resolved.resolved_by,
            "note": resolved.resolution_note,
        }
        await self._note(placed.id, message_id, "reopened", {**_detail(new), "after": before}, at)
        await self._note_hold(placed, new, message_id, at)
        return placed

    async def _note_hold(
        self, placed: Placed, new: NewEscalation, message_id: uuid.UUID, at: datetime
    ) -> None:
        if placed.hold_placed and new.hold is not None:
            detail = {"rule": new.rule, "reason": new.hold.get("reason", {})}
            entry_id = derived_id("hold-placed", placed.id, message_id)
            await self._note(placed.id, entry_id, "hold_placed", detail, at)

    async def _note(
        self,
        escalation_id: uuid.UUID,
        entry_id: uuid.UUID,
        entry: str,
        detail: dict[str, Any],
        at: datetime,
    ) -> None:
        await add_timeline_entry(self.session, escalation_id, entry_id, entry, detail, None, at)

    async def record_notified(
        self, escalation_id: uuid.UUID, notified: list[dict[str, Any]], briefing: dict[str, Any]
    ) -> None:
        """Who the opening told (they may act on it) and what a re-escalation repeats."""
        await self.session.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id)
            .values(notified=notified, briefing=briefing)
        )

    async def add_notified(
        self,
        escalation_id: uuid.UUID,
        told: list[dict[str, Any]],
        message_id: uuid.UUID,
        at: datetime,
        briefing: dict[str, Any] | None = None,
    ) -> None:
        """People a merged message told on top of those told before (none, maybe), and the
        `briefing` a re-escalation repeats from now on when the message raised the severity:
        one UPDATE of the escalation for both."""
        values: dict[str, Any] = {}
        if told:
            values["notified"] = escalations.c.notified.op("||")(told)
        if briefing is not None:
            values["briefing"] = briefing
        if not values:
            return
        await self.session.execute(
            update(escalations).where(escalations.c.id == escalation_id).values(**values)
        )
        if not told:
            return
        levels = sorted({n["level"] for n in told})
        detail = {"level": levels[0], "roles": [n["role"] for n in told]}
        entry_id = derived_id("notified", escalation_id, message_id)
        await self._note(escalation_id, entry_id, "notified", detail, at)

    async def last_told(self, escalation_id: uuid.UUID) -> datetime | None:
        """When the escalation's holders were last told of it: its opening or reopening,
        people added, a follow-up told to them."""
        return await self.session.scalar(_LAST_TOLD, {"id": escalation_id})

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
        """The message joins the open escalation without a rule of its own (its timeline
        names it and whether its holders were `told`, its count grows): the escalation as
        it is now, or None if resolved. `says_fixed`: the client's words that the problem
        is gone (client_fixed.py): the promise to the client (`promised`, as `promise_of`
        read it) is dropped unless the case `owed` more than that (client_fixed.still_owed:
        a disputed charge, a compensation asked for), and the timeline keeps the words, what
        was promised and dropped, and what stays owed. The
        promise is over, not used up: a new problem written into the case later is promised
        an answer again (`_merge`), and the follow-up notice says that date, one the sweeper
        keeps; it said the staff's deadline, minutes away or past, that nobody kept."""
        drops = says_fixed is not None and owed is None
        promise_to = escalations.c.promise_to
        # Kept where it went, marked over: a new problem is promised an answer again
        # (`_merge`), and its follow-up, one to a client answered before, says that date.
        over = case(
            (
                func.jsonb_typeof(promise_to) == "object",
                promise_to.op("||")(func.jsonb_build_object("over", "client_says_fixed")),
            ),
            else_=promise_to,
        )
        dropped = {"client_reply_by": None, "promise_to": over} if drops else {}
        row = await self._joined(escalation_id, at, **dropped)
        if row is None:
            return None
        detail: dict[str, Any] = {"told": told}
        if says_fixed is not None:
            was = promised.isoformat() if promised and drops else None
            detail |= {"says_fixed": says_fixed, "promise_dropped": was}
            if owed is not None:
                detail["still_owed"] = list(owed.matters)
        await self._note(escalation_id, message_id, "followed_up", detail, at)
        return escalation_of(row)

    async def matters_of(self, escalation_id: uuid.UUID) -> tuple[str, list[dict[str, Any]]]:
        """The escalation's kind and the signals every message written into it brought
        (what a promise to the client answers: client_fixed.still_owed)."""
        row = (
            await self.session.execute(
                select(escalations.c.kind, escalations.c.signals).where(
                    escalations.c.id == escalation_id
                )
            )
        ).one()
        return str(row.kind), list(row.signals or [])

    async def promise_of(self, escalation_id: uuid.UUID) -> datetime | None:
        """When the answer promised to the client is due, if a promise stands."""
        return await self.session.scalar(
            select(escalations.c.client_reply_by).where(escalations.c.id == escalation_id)
        )

    async def _joined(self, escalation_id: uuid.UUID, at: datetime, **values: Any) -> Any | None:
        """One more message joins the open escalation (with these changes of its row): its
        row now, or None if resolved."""
        result = await self.session.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id, escalations.c.status == "open")
            .values(message_count=escalations.c.message_count + 1, updated_at=at, **values)
            .returning(*escalations.c)
        )
        return result.first()

    async def waiting_on(
        self, escalation_ids: list[uuid.UUID], confirmation_id: uuid.UUID
    ) -> set[uuid.UUID]:
        """Those of these escalations a message was placed in whose sender waits on the
        confirmation (their timeline entries name it: 0016 indexes them)."""
        if not escalation_ids:
            return set()
        t = timeline.c
        found = await self.session.scalars(
            select(t.escalation_id)
            .where(
                t.escalation_id.in_(escalation_ids),
                t.detail["confirmation_id"].astext == str(confirmation_id),
            )
            .distinct()
        )
        return set(found)

    async def written_from(
        self, escalation_ids: list[uuid.UUID], subject_key: str, sender: str
    ) -> set[uuid.UUID]:
        """Those of these escalations a message of the subject from `sender` was placed in
        (its cases once it wrote as the client's: a confirmed address)."""
        if not escalation_ids or not sender:
            return set()
        found = await self.session.scalars(written_from(subject_key, sender))
        return set(found) & set(escalation_ids)

    async def answered_unclearly(
        self,
        escalation_id: uuid.UUID,
        message_id: uuid.UUID,
        confirmation_id: uuid.UUID,
        at: datetime,
    ) -> Escalation | None:
        """The registered contact's reply to the confirmation joins the open escalation (as a
        follow-up does; its timeline says `identity_unclear`, ids only): the escalation as it
        is now, or None if resolved."""
        row = await self._joined(escalation_id, at)
        if row is None:
            return None
        entry_id = derived_id("identity-unclear", escalation_id, message_id, confirmation_id)
        detail = {"confirmation_id": str(confirmation_id), "message_id": str(message_id)}
        await self._note(escalation_id, entry_id, "identity_unclear", detail, at)
        return escalation_of(row)

    async def lift_hold(
        self, escalation_id: uuid.UUID, by: str, message_id: uuid.UUID, at: datetime
    ) -> Escalation | None:
        """Lift the escalation's active hold: the escalation as it is now (for telling the
        people it told), or None if it had none (any more)."""
        lifted = {"lifted_at": at.isoformat(), "lifted_by": by}
        result = await self.session.execute(
            update(escalations)
            .where(
                escalations.c.id == escalation_id,
                escalations.c.status == "open",
                escalations.c.hold.is_not(None),
                escalations.c.hold["lifted_at"].astext.is_(None),
            )
            .values(hold=escalations.c.hold.op("||")(lifted), updated_at=at)
            .returning(*escalations.c)
        )
        row = result.first()
        if row is None:
            return None
        entry_id = derived_id("hold-lifted", escalation_id, message_id)
        await self._note(escalation_id, entry_id, "hold_lifted", {"by": by}, at)
        return escalation_of(row)


_NEVER = datetime.max.replace(tzinfo=UTC)
# Built once (a statement used again skips SQLAlchemy's building); the timeline's unique
# (escalation_id, message_id) index finds the escalation's entries.
_LAST_TOLD = text(
    "SELECT max(at) FROM escalator.escalation_timeline WHERE escalation_id = :id AND "
    f"(entry IN ({', '.join(repr(e) for e in TOLD_ENTRIES)}) OR (entry = 'followed_up' "
    "AND detail->>'told' = 'true'))"
)


async def insert_escalations(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await session.execute(insert(escalations), rows)


async def placements(
    session: AsyncSession, subject_keys: list[str], resolved_since: datetime
) -> list[Any]:
    """The subjects' open escalations and those resolved since, locked: what `place` may
    merge into or reopen, for all the subjects of a batch at once."""
    rows = await session.execute(
        _placements(), {"keys": subject_keys, "resolved_since": resolved_since}
    )
    return list(rows)


# Built once (see history_store): an array parameter keeps one compiled form for any batch.
@cache
def _placements() -> Select[Any]:
    e = escalations.c
    resolved = (e.status == "resolved") & (e.resolved_at >= bindparam("resolved_since", type_=TZ))
    return (
        select(escalations)
        .where(
            e.subject_key == any_(bindparam("keys", type_=ARRAY(String))),
            or_(e.status == "open", resolved),
        )
        .order_by(e.id)
        .with_for_update()
    )


@cache
def _placement() -> Select[Any]:
    e = escalations.c
    resolved = (e.status == "resolved") & (e.resolved_at >= bindparam("reopen_since", type_=TZ))
    return (
        select(escalations)
        .where(
            e.subject_key == bindparam("subject_key"),
            e.kind == bindparam("kind"),
            or_(e.status == "open", resolved),
        )
        # The open one first; else the last resolved.
        .order_by((e.status == "open").desc(), e.resolved_at.desc())
        .limit(1)
        .with_for_update()
    )


def _detail(new: NewEscalation) -> dict[str, Any]:
    # The identity it was placed with: a message of an address staff took back placed as
    # the client's (not suspicious) gives the case back to it (lifecycle_store.revoked_before).
    detail = {
        "rule": new.rule,
        "reason": new.reason,
        "signals": new.signals,
        "identity": new.identity_status,
    }
    if new.confirmation_id is not None:
        # Whose confirmation its message waits on: its outcome is told here (confirmations.py).
        detail["confirmation_id"] = str(new.confirmation_id)
    return detail

"""What the lifecycle's steps share: their dependencies, the notice they send, the outbox.

Staff commands (staff), climbs of missed deadlines (climbs) and a confirmation's outcome
(confirmations) all tell people: each
notice repeats the escalation's briefing with its hold as it is now, and is written to
the outbox in the step's transaction; `flush` publishes the outbox after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from shared.contracts import EscalationActed, SendNotification, derived_id
from shared.db import Database
from shared.group_commit import deferring_inserts
from shared.outbox import Outgoing, lock_key, outputs_of, record_outputs
from shared.subjects import NOTIFY_REQUEST

from .facts import hold_view
from .lifecycle import Escalation, Notified, channel_of
from .lifecycle_store import LifecycleStore, lock_unpublished, mark_published
from .policy import Policy
from .promised import promise_about, what_promised
from .staff_language import StaffLanguages, in_language, of_escalations, on_their_clock
from .tables import processed

Publish = Callable[[list[Outgoing]], Awaitable[None]]
# An acknowledge link for the person told, whose pages speak the language given (theirs).
LinkMaker = Callable[
    [LifecycleStore, Escalation, Notified, datetime, str | None], Awaitable[str | None]
]


async def _no_link(
    store: LifecycleStore,
    escalation: Escalation,
    notified: Notified,
    now: datetime,
    language: str | None,
) -> str | None:
    return None


class LifecycleSteps:
    """The base of StaffCommands, DeadlineClimbs and ConfirmationOutcomes: what they need
    to act and publish."""

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

    async def once_per_event(
        self,
        key: str,
        work: Callable[[LifecycleStore, datetime], Awaitable[int]],
        about_none: list[Outgoing] | None = None,
    ) -> int:
        """`work` in a transaction of its own, once per event (`key` among the processed
        keys: a redelivery, a replay from the dead letters or a command run again changes
        and tells nothing twice); what it put in the outbox is published after the commit.
        What it put in `about_none` (about no escalation, so no outbox row can hold it) is
        kept with the key instead, published after the commit and again at a redelivery
        (the same ids: JetStream and the notifier take it once). How many escalations it
        touched (0 for an event seen before)."""
        now = self.clock()
        kept = about_none if about_none is not None else []
        async with self.db.transaction() as session, deferring_inserts(session):
            await lock_key(session, f"escalator:{key}")
            stored = await outputs_of(session, processed, key)
            touched = 0
            if stored is None:
                touched = await work(LifecycleStore(session), now)
                await record_outputs(session, processed, key, kept, now)
        if stored is not None:  # seen before: what it kept may not have gone out
            if stored:
                await self.publish(stored)
            return 0
        if kept:
            await self.publish(kept)
        await self.flush()
        return touched

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

    async def notice_with_link(
        self,
        store: LifecycleStore,
        e: Escalation,
        kind: str,
        target: Notified,
        data: dict[str, Any],
        why: tuple[object, ...],
        now: datetime,
    ) -> Outgoing:
        """A notice asking `target` to take the escalation, with its acknowledge link
        (`ack_url`): the notice and the link's pages in the language the target reads,
        worked out once for both."""
        languages = of_escalations(self.policy, e)
        link = await self.ack_link(store, e, target, now, languages.of(target.address))
        data = {**data, "ack_url": link}
        note = notice_to(e, kind, target, data, why, languages, self.clock())
        return Outgoing.of(NOTIFY_REQUEST, note)


def notice_to(
    e: Escalation,
    kind: str,
    target: Notified,
    data: dict[str, Any],
    why: tuple[object, ...],
    languages: StaffLanguages,
    at: datetime,
    about: tuple[uuid.UUID, str] | None = None,
) -> SendNotification:
    """A staff notice about the escalation to one person it told, in the language they read
    (`languages`); `why` makes its id (once per occasion and person); `about`: the message
    (and correlation) it belongs to, when not the one that opened the escalation."""
    channel, recipient = channel_of(target.address)
    language = languages.of(target.address)
    message_id, correlation_id = about or (e.message_id, e.correlation_id)
    return SendNotification(
        event_id=derived_id("notify-request", e.id, *why, target.role, target.address),
        notification_id=derived_id("notification", e.id, *why, target.role, target.address),
        message_id=message_id,
        correlation_id=correlation_id,
        occurred_at=at,
        escalation_id=e.id,
        kind=kind,  # type: ignore[arg-type]
        channel=channel,  # type: ignore[arg-type]
        recipient=recipient,
        recipient_role=target.role,
        recipient_verified=True,  # staff directory addresses
        content_class="account",
        language=language,  # type: ignore[arg-type]
        data=on_their_clock(in_language(data, language), languages.zone_of(target.address)),
        severity=e.severity,  # type: ignore[arg-type]
    )


def acted(
    e: Escalation,
    action: str,
    occasion: tuple[object, ...],
    actor: Mapping[str, str],
    at: datetime,
    **fields: Any,
) -> EscalationActed:
    """The event of one lifecycle step (`escalation.<action>`), about the message that
    opened the escalation; `occasion` makes its id (once per step), `actor` who took it
    (role and address: staff, the sweeper, the verifier); `fields` the rest (status, level,
    note, roles, deadline) where they differ from the escalation's."""
    return EscalationActed(
        event_id=derived_id("escalation-acted", e.id, action, *occasion),
        message_id=e.message_id,
        correlation_id=e.correlation_id,
        occurred_at=at,
        escalation_id=e.id,
        action=action,  # type: ignore[arg-type]
        kind=e.kind,
        severity=e.severity,  # type: ignore[arg-type]
        actor=actor["address"],
        actor_role=actor["role"],
        **{"status": e.status, "level": e.level, **fields},
    )


def current_briefing(e: Escalation, team_language: str) -> dict[str, Any]:
    """What staff are told about it, in every language it has (the playbooks, the hold's
    reasons, the markers' names): notice_to says it in each reader's. The team's language
    gives the hold's reason where the rule wrote none in a reader's, as at the opening
    (facts.hold_view). Escalations opened before the lifecycle have less."""
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
    # Whoever is told from it now (a climb, a reassignment) has to take it: a stored
    # briefing's "taken by" (a merge into a taken case) is not theirs (lifecycle.ack_view).
    current: dict[str, Any] = {
        "escalation_id": str(e.id),
        "severity": e.severity,
        "taken_by": None,
        "ack_overdue": False,
    }
    if "hold" in e.briefing or e.hold:  # the hold as it is now, not as it was at opening
        current["hold"] = hold_view(e.hold, team_language)
    if e.client_reply_by is not None:  # whoever it climbs or is passed to keeps the promise
        current["client_reply_by"] = e.client_reply_by.isoformat()
        current["client_promised"] = what_promised(promise_about(e.kind, e.promise_to))
    return {**base, **e.briefing, **current}

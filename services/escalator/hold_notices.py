"""Who hears that a hold ended, and what they are told. Pure.

A hold pauses the investigation until the threats stop (seed 003). The message that
carries none of them lifts it; the people the escalation told (the rule's, a climb's, a
reassignment's) learn it then, in one notice each: the investigation may start now. Their
notice is the escalation's briefing with the hold as it is (lifted, and when) and why it
changed, on the team's clock and in its language, at the escalation's current level.
"""

from __future__ import annotations

from datetime import datetime

from shared.contracts import IdentityVerified, SendNotification, derived_id

from .condition_facts import hold_lifted_fact
from .lifecycle import Escalation, address_key, channel_of
from .lifecycle_steps import current_briefing


def hold_lifted_notices(
    e: Escalation, verified: IdentityVerified, team_language: str, now: datetime
) -> list[SendNotification]:
    """A notice to each person the escalation told (once per address), about this message."""
    lifted = hold_lifted_fact(verified.message_id)
    data = {
        **current_briefing(e, team_language),
        "level": e.level,
        "change": "hold_lifted",
        "change_items": [lifted.item()],
        "ack_deadline": e.ack_deadline.isoformat(),
    }
    notes: list[SendNotification] = []
    seen: set[str] = set()
    for person in e.notified:
        if address_key(person.address) in seen:
            continue
        seen.add(address_key(person.address))
        channel, recipient = channel_of(person.address)
        why = ("hold-lifted", verified.message_id, person.role, person.address)
        notes.append(
            SendNotification(
                event_id=derived_id("notify-request", e.id, *why),
                notification_id=derived_id("notification", e.id, *why),
                message_id=verified.message_id,
                correlation_id=verified.correlation_id,
                occurred_at=now,
                escalation_id=e.id,
                kind="manager_escalation",
                channel=channel,  # type: ignore[arg-type]
                recipient=recipient,
                recipient_role=person.role,
                recipient_verified=True,  # staff directory addresses
                content_class="account",
                language=team_language,  # type: ignore[arg-type]
                data=data,
                severity=e.severity,  # type: ignore[arg-type]
            )
        )
    return notes

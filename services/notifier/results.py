"""The notify.sent / notify.failed event of a notification's final outcome.

Its event id derives from the notification id, so publishing it again (after a crash between
the commit and the publish) is de-duplicated by JetStream.
"""

from __future__ import annotations

from datetime import datetime

from shared.contracts import NotificationDelivered, NotificationFailed, SendNotification, derived_id
from shared.outbox import Outgoing
from shared.subjects import NOTIFY_FAILED, NOTIFY_SENT


def _common(cmd: SendNotification, now: datetime) -> dict[str, object]:
    return {
        "event_id": derived_id("notification-result", cmd.notification_id),
        "message_id": cmd.message_id,
        "correlation_id": cmd.correlation_id,
        "occurred_at": now,
        "notification_id": cmd.notification_id,
        "kind": cmd.kind,
        "recipient_role": cmd.recipient_role,
    }


def delivered(
    cmd: SendNotification, provider_id: str, attempts: int, key: str, now: datetime
) -> Outgoing:
    event = NotificationDelivered(
        provider_message_id=provider_id,
        attempts=attempts,
        idempotency_key=key,
        **_common(cmd, now),  # type: ignore[arg-type]
    )
    return Outgoing.of(NOTIFY_SENT, event)


def failed(
    cmd: SendNotification, reason: str, attempts: int, now: datetime, *, permanent: bool = True
) -> Outgoing:
    event = NotificationFailed(
        reason=reason,
        attempts=attempts,
        permanent=permanent,
        **_common(cmd, now),  # type: ignore[arg-type]
    )
    return Outgoing.of(NOTIFY_FAILED, event)


def as_json(out: Outgoing) -> dict[str, object]:
    return {"subject": out.subject, "event_id": out.event_id, "payload": out.payload}

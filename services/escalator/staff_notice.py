"""A notice to a member of staff that is not an escalation's own telling (a threat against
them, an alert about an address the client disowns or staff took back). Pure.

Staff addresses come from the policy's directory or the CRM's account managers, so they are
verified and may read account content; the ids derive from what makes the notice once
(`once`), so a redelivered input asks the notifier for the same one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shared.contracts import NotificationKind, SendNotification, derived_id

from .lifecycle import channel_of


def staff_notice(
    kind: NotificationKind,
    role: str,
    address: str,
    language: str,
    data: dict[str, Any],
    once: tuple[object, ...],
    *,
    message_id: uuid.UUID,
    correlation_id: str,
    occurred_at: datetime,
    escalation_id: uuid.UUID | None = None,
    severity: str | None = None,
) -> SendNotification:
    channel, recipient = channel_of(address)
    return SendNotification(
        event_id=derived_id("notify-request", *once),
        notification_id=derived_id("notification", *once),
        message_id=message_id,
        correlation_id=correlation_id,
        occurred_at=occurred_at,
        escalation_id=escalation_id,
        severity=severity,  # type: ignore[arg-type]
        kind=kind,
        channel=channel,  # type: ignore[arg-type]
        recipient=recipient,
        recipient_role=role,
        recipient_verified=True,  # staff directory addresses
        content_class="account",
        language=language,  # type: ignore[arg-type]
        data=data,
    )

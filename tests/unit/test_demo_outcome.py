"""`careline demo` waits for every notification a message asked for: when is one settled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.notifier.samples import SAMPLES
from shared.contracts import NoticePart, NotificationDelivered, SendNotification, derived_id
from shared.demo import Outcome

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def request(kind: str = "service_failure_notice", **change: Any) -> SendNotification:
    nid = uuid.uuid4()
    values: dict[str, Any] = {
        "event_id": derived_id("notify-request", nid),
        "notification_id": nid,
        "message_id": uuid.uuid4(),
        "correlation_id": "c",
        "occurred_at": NOW,
        "kind": kind,
        "channel": "email",
        "recipient": "o.shevchuk@kvitka.ua",
        "recipient_role": "client_registered",
        "recipient_verified": True,
        "content_class": "account",
        "language": "uk",
        "data": SAMPLES["service_failure_notice"],
        **change,
    }
    return SendNotification(**values)


def sent(notification_id: uuid.UUID) -> NotificationDelivered:
    return NotificationDelivered(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="c",
        occurred_at=NOW,
        notification_id=notification_id,
        kind="service_failure_notice",
        channel="email",
        recipient_role="client_registered",
        provider_message_id="<x@careline.local>",
        attempt=1,
        idempotency_key="k",
    )


def part(note: SendNotification) -> NoticePart:
    assert note.escalation_id is not None
    return NoticePart(
        notification_id=note.notification_id,
        escalation_id=note.escalation_id,
        kind=note.kind,
        severity="P3",
        data=note.data,
    )


def test_a_digest_left_with_one_answer_is_settled_by_that_answers_result() -> None:
    """Acceptance: the phone call of story 002 brought a new problem into the open case; its
    digest held the first failure notice (sent before) and the follow-up, the notifier sent
    the follow-up alone under its own id, and the demo waited for the digest's until it
    timed out."""
    first, follow_up = (request(escalation_id=uuid.uuid4()) for _ in range(2))
    digest = request("client_digest", parts=[part(first), part(follow_up)])
    outcome = Outcome(verified=object(), requests=[digest], results={})  # type: ignore[arg-type]

    outcome.results[str(first.notification_id)] = sent(first.notification_id)
    assert not outcome.settled()
    outcome.results[str(follow_up.notification_id)] = sent(follow_up.notification_id)
    assert outcome.settled()


def test_a_request_is_settled_by_its_own_result_or_its_hold() -> None:
    alone, held = request(), request(held_for_confirmation=uuid.uuid4())
    outcome = Outcome(verified=object(), requests=[alone, held], results={})  # type: ignore[arg-type]

    assert not outcome.settled()
    outcome.results[str(alone.notification_id)] = sent(alone.notification_id)
    assert outcome.settled()

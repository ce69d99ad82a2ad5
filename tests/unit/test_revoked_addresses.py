"""Seed 000, taken back, after the moment: a request made before staff revoked the address
that arrives after it (or comes back for a retry) never puts account content there; one made
after the revoke is not stopped by it (services/notifier/revoked.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notifier.revoked import RevokedAddress, address_key, checked, refusal
from shared.contracts import SendNotification

pytestmark = pytest.mark.unit

REVOKED_AT = datetime(2026, 12, 9, 9, 30, tzinfo=UTC)
CEO = "a.sokolov@stroymontazh.ru"
CONFIRMATION = uuid.uuid4()
REVOKE = RevokedAddress(address_key(CEO), CONFIRMATION, uuid.uuid4(), REVOKED_AT)


def answer(made: datetime, **update: object) -> SendNotification:
    message_id = uuid.uuid4()
    values: dict[str, object] = {
        "event_id": uuid.uuid4(),
        "message_id": message_id,
        "correlation_id": str(message_id),
        "occurred_at": made,
        "notification_id": uuid.uuid4(),
        "kind": "billing_dispute_ack",
        "recipient": " A.Sokolov@StroyMontazh.ru",
        "recipient_role": "client_sender",
        "recipient_verified": True,
        "content_class": "account",
        "language": "ru",
    }
    return SendNotification.model_validate({**values, **update})


def test_account_content_made_before_the_revoke_is_refused_with_ids_only() -> None:
    before = answer(REVOKED_AT - timedelta(minutes=5))
    reason = refusal(before, REVOKE)
    assert reason is not None
    assert str(CONFIRMATION) in reason and str(before.notification_id) in reason
    assert "@" not in reason  # the address never goes to logs and events
    # The very moment of the revoke counts as before it.
    assert refusal(answer(REVOKED_AT), REVOKE) is not None


def test_a_request_made_after_the_revoke_goes_whatever_verified_the_address_again() -> None:
    assert refusal(answer(REVOKED_AT + timedelta(seconds=1)), REVOKE) is None


def test_only_account_content_in_an_email_to_a_client_is_checked() -> None:
    before = REVOKED_AT - timedelta(minutes=5)
    general = answer(before, content_class="general")
    staff = answer(before, recipient_role="account_manager")
    webhook = answer(before, channel="webhook", recipient="crm-hook")
    for cmd in (general, staff, webhook):
        assert not checked(cmd) and refusal(cmd, REVOKE) is None
    assert checked(answer(before, recipient_role="client_registered"))


def test_another_address_or_none_on_file_is_not_stopped() -> None:
    before = answer(REVOKED_AT - timedelta(minutes=5), recipient="buh@stroymontazh.ru")
    assert refusal(before, REVOKE) is None
    assert refusal(answer(REVOKED_AT - timedelta(minutes=5)), None) is None

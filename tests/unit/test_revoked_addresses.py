"""Seed 000, taken back, after the moment: a request made before staff revoked the address
that arrives after it (or comes back for a retry) never puts account content there; one made
after the revoke is not stopped by it (services/notifier/revoked.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.escalator.missed_promises import client_delay_notice, missed_promise
from services.escalator.notifications import client_contacts, promise_contact
from services.notifier.holds import Release, Resolution, settle
from services.notifier.revoked import RevokedAddress, address_key, checked, refusal
from shared.contracts import SendNotification
from tests.unit.test_missed_promises import ON_FILE, PROMISE_TO
from tests.unit.test_routing_policy import POLICY, _notes
from tests.unit.test_routing_policy import identity as identity_of

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


def test_a_request_made_after_the_revoke_on_a_verification_before_it_is_refused() -> None:
    """The verifier passed the message just before the revoke; the escalator got to it just
    after. Its request is newer than the revoke, the decision it was written on is not."""
    late = answer(
        REVOKED_AT + timedelta(minutes=1), identity_decided_at=REVOKED_AT - timedelta(seconds=2)
    )
    assert refusal(late, REVOKE) is not None
    # The very moment of the revoke counts as before it.
    assert refusal(answer(REVOKED_AT, identity_decided_at=REVOKED_AT), REVOKE) is not None
    # Decided after the revoke (the address confirmed again): it goes.
    again = answer(
        REVOKED_AT + timedelta(minutes=1), identity_decided_at=REVOKED_AT + timedelta(seconds=1)
    )
    assert refusal(again, REVOKE) is None


def test_the_escalator_stamps_its_client_contacts_with_the_verification_time() -> None:
    """Its own clock is when it got to the message; what the address was decided on is the
    verifier's. Each contact to the client, the registered one, the sender and a held answer,
    carries the verification's time, as does the promise a delay notice is later told by."""
    verified, decision, event = _notes(
        "Почему приостановили CRM?", identity_of("probable"), "unconfirmed-sender"
    )
    verified_at = event.occurred_at - timedelta(minutes=3)
    verified = verified.model_copy(update={"occurred_at": verified_at})

    notes = client_contacts(decision, event, verified)

    assert {n.recipient_role for n in notes} == {"client_registered", "client_sender"}
    assert all(n.identity_decided_at == verified_at for n in notes)
    assert all(n.occurred_at == event.occurred_at for n in notes)
    promise = promise_contact(verified)
    assert promise is not None and promise["identity_decided_at"] == verified_at.isoformat()


def test_a_delay_notice_carries_when_the_promise_address_was_decided() -> None:
    decided = REVOKED_AT - timedelta(days=1)
    on_file = replace(
        ON_FILE,
        promise_to={**PROMISE_TO, "recipient": CEO, "identity_decided_at": decided.isoformat()},
    )
    missed = missed_promise(POLICY, on_file, REVOKED_AT + timedelta(minutes=5))

    note = client_delay_notice(on_file, missed, False, REVOKED_AT + timedelta(minutes=5))

    assert note is not None and note.identity_decided_at == decided
    assert refusal(note, REVOKE) is not None
    # A promise kept before it was written down: the notice's own time stands for it.
    older = client_delay_notice(ON_FILE, missed, False, REVOKED_AT)
    assert older is not None and older.identity_decided_at is None


def test_a_held_answer_released_is_decided_by_its_confirmation_not_its_message() -> None:
    """Verified as probable before an earlier revoke of the address, confirmed after it: the
    confirmation made the address the client's, so that revoke does not stop it."""
    held = answer(
        REVOKED_AT - timedelta(hours=1),
        recipient_verified=False,
        held_for_confirmation=uuid.uuid4(),
        identity_decided_at=REVOKED_AT - timedelta(hours=1),
    )
    confirmed_at = REVOKED_AT + timedelta(minutes=10)
    resolution = Resolution(
        held.held_for_confirmation, "confirmed", uuid.uuid4(), confirmed_at, "email", CEO
    )

    decision = settle(held, resolution)

    assert isinstance(decision, Release)
    assert decision.cmd.identity_decided_at == confirmed_at
    assert refusal(decision.cmd, REVOKE) is None

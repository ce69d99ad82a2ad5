"""Answers held for a probable sender until its own address is confirmed: the escalator asks
for them, the notifier's pure decisions keep, release or withdraw them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.escalator.notifications import client_contacts
from services.escalator.policy import Decision, evaluate, load_policy
from services.notifier.cli import hold_lines
from services.notifier.domain import DisclosureRefused, check_disclosure, render
from services.notifier.holds import (
    HoldRefused,
    Release,
    Resolution,
    Withdrawal,
    check_hold,
    is_held,
    settle,
)
from services.notifier.service import settled
from shared.contracts import (
    ChannelConfirmed,
    ChannelRef,
    ConfirmationDenied,
    ConfirmationExpired,
    ConfirmationRequest,
    CustomerRef,
    EscalationChanged,
    Identity,
    IdentityVerified,
    Language,
    MessageNormalized,
    SenderIdentifiers,
    SendNotification,
    Signal,
    StaffRef,
    derived_id,
)

pytestmark = pytest.mark.unit

NOW = datetime(2022, 3, 26, 8, 2, tzinfo=UTC)
POLICY = load_policy()
CEO = "a.sokolov@stroymontazh.ru"
REGISTERED = "buh@stroymontazh.ru"
CONFIRMATION = ConfirmationRequest(
    confirmation_id=uuid.UUID("7c1e0c57-0d52-5b7e-8f0e-3b0a4a1b2c3d"),
    code="OK-ABCD-EFGH",
    url="https://support.example/v1/confirm/token",
    expires_at=NOW + timedelta(hours=72),
)
TEXTS: dict[str, str] = {
    "ru": "Счёт № 4512 мы уже оплатили вчера. Объясните причину отключения.",
    "uk": "Рахунок № 4512 ми вже сплатили вчора. Поясніть причину відключення.",
    "en": "We paid invoice 4512 yesterday. Please explain the suspension.",
}


def probable(
    confirmation: ConfirmationRequest | None = CONFIRMATION,
    status: str = "probable",
    channels: tuple[tuple[str, bool], ...] = ((REGISTERED, True),),
) -> Identity:
    return Identity(
        status=status,  # type: ignore[arg-type]
        confidence=0.7,
        customer=CustomerRef(
            id="cust-stroymontazh", name="ООО «СтройМонтаж»", tier="gold", timezone="Europe/Moscow"
        ),
        account_manager=StaffRef(
            id="am-petrova", name="Ольга Петрова", email="o.petrova@careline.example"
        ),
        authorized_channels=[ChannelRef(kind="email", address=a, verified=v) for a, v in channels],
        disclosure="general" if status == "probable" else "account",
        confirmation=confirmation,
    )


def verified_message(
    who: Identity, language: Language = "ru", sender: str | None = CEO
) -> IdentityVerified:
    message_id = derived_id("held-test", language, sender)
    message = MessageNormalized(
        event_id=derived_id("normalized", message_id),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=NOW,
        channel="email",
        sender=SenderIdentifiers(email=sender, display_name="Андрей Соколов"),
        subject="Re: Уведомление о приостановке",
        text=TEXTS.get(language, TEXTS["en"]),
        language=language,
        thread_id="seed000",
        external_id="seed000-ceo-reply@stroymontazh.ru",
        received_at=NOW,
    )
    return IdentityVerified(
        event_id=derived_id("verified", message_id),
        message_id=message_id,
        correlation_id=message.correlation_id,
        occurred_at=NOW,
        message=message,
        identity=who,
    )


def decisions_for(verified: IdentityVerified, *signals: str) -> list[Decision]:
    found = [Signal(name=name, score=0.9) for name in signals]
    return evaluate(POLICY, found, verified.identity)


def contacts(
    verified: IdentityVerified,
    *signals: str,
    into: uuid.UUID | None = None,
    occasion: tuple[object, ...] = (),
    follow_up: bool = False,
) -> list[SendNotification]:
    """The client contacts of the message's decisions: each opens an escalation, or with
    `into` joins that one (merged, or reopened with an `occasion`)."""
    notes = []
    for decision in decisions_for(verified, *signals):
        event = EscalationChanged(
            event_id=derived_id("changed", decision.rule.id),
            message_id=verified.message_id,
            correlation_id=verified.correlation_id,
            occurred_at=NOW,
            escalation_id=into or derived_id("escalation", decision.rule.id, verified.message_id),
            change="opened" if into is None else "reopened" if occasion else "merged",
            kind=decision.rule.kind,
            severity=decision.rule.severity,
            rule=decision.rule.id,
            reason=decision.reason,
            customer_id="cust-stroymontazh",
            identity_status=verified.identity.status,
            signals=list(decision.signals),
            roles=decision.rule.roles,
            ack_deadline=POLICY.ack_by(decision.rule.severity, NOW),
        )
        notes += client_contacts(decision, event, verified, occasion, follow_up)
    return notes


def held_of(notes: list[SendNotification]) -> list[SendNotification]:
    return [n for n in notes if is_held(n)]


# --- the escalator asks ----------------------------------------------------------------


def test_seed_000_billing_answer_goes_to_the_registered_channel_and_waits_for_the_ceo() -> None:
    notes = contacts(verified_message(probable()), "billing_dispute")

    assert [(n.kind, n.recipient, n.held_for_confirmation) for n in notes] == [
        ("billing_dispute_ack", REGISTERED, None),
        ("billing_dispute_ack", CEO, CONFIRMATION.confirmation_id),
        ("identity_confirmation", REGISTERED, None),
        ("unknown_sender_explanation", CEO, None),
    ]
    (held,) = held_of(notes)
    assert held.recipient_role == "client_sender"
    assert (held.recipient_verified, held.content_class) == (False, "account")
    assert held.reply_to_external_id == "seed000-ceo-reply@stroymontazh.ru"
    assert held.recipient_timezone == "Europe/Moscow"
    assert held.data["customer"] == "ООО «СтройМонтаж»"
    assert held.data["references"] == []
    assert held.data["sender_address"] is None  # the answer goes where the request came from
    registered = notes[0]
    assert registered.data["customer"] == held.data["customer"]
    assert held.notification_id != registered.notification_id
    assert held.event_id != registered.event_id


def test_a_service_failure_notice_is_held_for_the_sender_too() -> None:
    notes = contacts(verified_message(probable()), "service_failure")

    assert [n.kind for n in held_of(notes)] == ["service_failure_notice"]


def test_new_problems_written_into_the_case_hold_no_second_answer_for_the_sender() -> None:
    """Acceptance: a probable sender writing a new problem into an open case got two
    identical held answers released (the message's own, and the follow-up's)."""
    verified = verified_message(probable())
    case = derived_id("escalation", "open case")
    first = contacts(verified, "service_failure", into=case)
    follow_up = contacts(
        verified, "service_failure", into=case, occasion=("news", 1), follow_up=True
    )

    assert [n.kind for n in held_of(first)] == ["service_failure_notice"]
    assert held_of(follow_up) == []
    assert [(n.kind, n.recipient) for n in follow_up] == [("service_failure_notice", REGISTERED)]


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("ru", "Мы передали обращение ответственному менеджеру"),
        ("uk", "Ми передали звернення відповідальному менеджерові"),
        ("en", "We have passed your request to the manager in charge"),
    ],
)
def test_without_a_registered_address_the_sender_is_not_told_of_a_request_never_sent(
    language: Language, said: str
) -> None:
    """Acceptance: a sender whose organisation has no confirmed address read "we have sent a
    confirmation request" though none went; the account manager confirms it instead."""
    asked = contacts(verified_message(probable(), language), "service_failure")
    unasked = contacts(verified_message(probable(channels=()), language), "service_failure")

    (explained,) = [n for n in asked if n.kind == "unknown_sender_explanation"]
    assert explained.data["confirmation_asked"] is True
    assert [n.kind for n in unasked] == ["unknown_sender_explanation"]
    assert unasked[0].data["confirmation_asked"] is False
    rendered = render(unasked[0])
    assert said in rendered.body and said in (rendered.html or "")
    assert said not in render(explained).body


def test_the_confirmation_request_itself_is_never_held_for_the_sender() -> None:
    notes = contacts(verified_message(probable()))

    assert [n.kind for n in notes] == ["identity_confirmation", "unknown_sender_explanation"]
    assert held_of(notes) == []


@pytest.mark.parametrize(
    "who",
    [
        probable(confirmation=None),
        probable(status="verified", channels=((REGISTERED, True), (CEO, True))),
        probable(status="unknown"),
        probable(channels=((REGISTERED, True), (CEO, True))),
    ],
    ids=["no-confirmation", "verified", "unknown", "sender-already-verified"],
)
def test_no_hold_without_a_confirmation_of_an_unverified_sender(who: Identity) -> None:
    assert held_of(contacts(verified_message(who), "billing_dispute")) == []


def test_no_hold_for_a_sender_without_email() -> None:
    assert held_of(contacts(verified_message(probable(), sender=None), "billing_dispute")) == []


YOUR_MESSAGE = {
    "ru": "Мы получили ваше сообщение",
    "uk": "Ми отримали ваше повідомлення",
    "en": "We received your message",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_held_answer_is_in_the_client_language_and_renders(language: Language) -> None:
    (held,) = held_of(contacts(verified_message(probable(), language), "billing_dispute"))

    assert held.language == language
    rendered = render(held)
    assert rendered.fallback_from is None
    # Held for the sender, so sent to where it was written from: "your message".
    assert YOUR_MESSAGE[language] in rendered.body


def test_held_ids_are_deterministic() -> None:
    first = held_of(contacts(verified_message(probable()), "billing_dispute"))
    again = held_of(contacts(verified_message(probable()), "billing_dispute"))

    assert [n.notification_id for n in first] == [n.notification_id for n in again]


ESCALATION = derived_id("escalation", "open")
SECOND_CONFIRMATION = CONFIRMATION.model_copy(
    update={"confirmation_id": uuid.UUID("0f8b7a58-2d0e-4a8e-9d0c-6c1f7f7e1a11")}
)
OTHER = "sokolov.andrey@gmail.com"


def ids(notes: list[SendNotification]) -> dict[tuple[str, str], uuid.UUID]:
    return {(n.kind, n.recipient): n.notification_id for n in notes}


def test_a_later_message_from_an_address_already_answered_asks_for_nothing_new() -> None:
    """Every message of an open escalation yields the rule's client contacts; the notifier
    takes each id once, so the same ids mean the client hears nothing twice."""
    first = contacts(verified_message(probable()), "billing_dispute", into=ESCALATION)
    again = contacts(
        verified_message(probable(), language="uk"),
        "billing_dispute",
        "compensation_demand",
        into=ESCALATION,
    )

    assert ids(again).items() >= ids(first).items()
    assert {n.event_id for n in first} <= {n.event_id for n in again}


def test_a_client_writing_into_an_open_escalation_from_a_new_address_is_answered() -> None:
    """Seed 000 again, a day later, from the CEO's private mail: the owner is asked to
    confirm this address too (its own confirmation) and the answer waits for it; the
    registered address, answered already, is not answered again."""
    first = contacts(verified_message(probable()), "billing_dispute", into=ESCALATION)
    later = contacts(
        verified_message(probable(confirmation=SECOND_CONFIRMATION), sender=OTHER),
        "billing_dispute",
        into=ESCALATION,
    )

    assert (
        ids(later)[("billing_dispute_ack", REGISTERED)]
        == ids(first)[("billing_dispute_ack", REGISTERED)]
    )
    new = set(ids(later).values()) - set(ids(first).values())
    assert sorted((n.kind, n.recipient) for n in later if n.notification_id in new) == [
        ("billing_dispute_ack", OTHER),
        ("identity_confirmation", REGISTERED),
        ("unknown_sender_explanation", OTHER),
    ]
    (held,) = held_of(later)
    assert (held.recipient, held.held_for_confirmation) == (
        OTHER,
        SECOND_CONFIRMATION.confirmation_id,
    )
    (asked,) = [n for n in later if n.kind == "identity_confirmation"]
    assert asked.data["confirmation_code"] == SECOND_CONFIRMATION.code


def test_a_sender_whose_held_answer_was_released_gets_no_copy_of_it_later() -> None:
    """The CEO confirmed: his address is a verified one of the account now, and the answer
    held for him went out. His next message asks for the registered-address contact, now to
    him: the same id as the one the registered address had, so nothing goes twice."""
    first = contacts(verified_message(probable()), "billing_dispute", into=ESCALATION)
    confirmed = probable(status="verified", channels=((REGISTERED, True), (CEO, True)))
    later = contacts(verified_message(confirmed, language="uk"), "billing_dispute", into=ESCALATION)

    (answer,) = [n for n in later if n.kind == "billing_dispute_ack"]
    assert answer.recipient == CEO
    assert answer.notification_id == ids(first)[("billing_dispute_ack", REGISTERED)]


def test_a_reopened_escalation_answers_the_client_again() -> None:
    first = contacts(verified_message(probable()), "billing_dispute", into=ESCALATION)
    reopened = contacts(
        verified_message(probable()),
        "billing_dispute",
        into=ESCALATION,
        occasion=("reopened", "message-2"),
    )

    assert not set(ids(first).values()) & set(ids(reopened).values())


# --- the notifier decides --------------------------------------------------------------


def held_request(**changes: Any) -> SendNotification:
    (held,) = held_of(contacts(verified_message(probable()), "billing_dispute"))
    return held.model_copy(update=changes)


def confirmed(address: str = CEO, kind: str = "email", confirmation: uuid.UUID | None = None):  # type: ignore[no-untyped-def]
    return ChannelConfirmed(
        event_id=derived_id("channel-confirmed", address, kind),
        message_id=uuid.uuid4(),
        correlation_id="c",
        occurred_at=NOW,
        confirmation_id=confirmation or CONFIRMATION.confirmation_id,
        customer_id="cust-stroymontazh",
        contact_id="ct-sokolov",
        channel=ChannelRef(kind=kind, address=address, verified=True),  # type: ignore[arg-type]
        via="link",
        confirmed_at=NOW + timedelta(minutes=5),
    )


def test_without_its_hold_the_same_answer_would_be_refused() -> None:
    held = held_request()

    check_hold(held)  # accepted as held
    with pytest.raises(DisclosureRefused):
        check_disclosure(held.model_copy(update={"held_for_confirmation": None}))
    with pytest.raises(DisclosureRefused):
        check_disclosure(held)  # and never sendable as it stands


def test_only_an_email_answer_can_be_held() -> None:
    with pytest.raises(HoldRefused):
        check_hold(held_request(channel="webhook"))


@pytest.mark.parametrize("address", [CEO, "A.Sokolov@StroyMontazh.ru", f" {CEO} "])
def test_a_confirmation_of_exactly_that_address_releases_it_verified(address: str) -> None:
    decision = settle(held_request(), Resolution.confirmed(confirmed(address)))

    assert isinstance(decision, Release)
    assert decision.cmd.recipient_verified is True
    assert decision.cmd.recipient == CEO
    check_disclosure(decision.cmd)


@pytest.mark.parametrize(
    ("address", "kind"),
    [(REGISTERED, "email"), ("sokolov@mail.ru", "email"), ("+74951234567", "phone")],
)
def test_a_confirmation_of_another_channel_withdraws_it(address: str, kind: str) -> None:
    decision = settle(held_request(), Resolution.confirmed(confirmed(address, kind)))

    assert isinstance(decision, Withdrawal)
    assert "verified another channel" in decision.reason
    assert address not in decision.reason  # ids, not addresses


def test_a_denial_withdraws_it_with_the_reason() -> None:
    denied = ConfirmationDenied(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="c",
        occurred_at=NOW,
        confirmation_id=CONFIRMATION.confirmation_id,
        customer_id="cust-stroymontazh",
        denied_at=NOW,
    )

    decision = settle(held_request(), Resolution.denied(denied))

    assert isinstance(decision, Withdrawal)
    assert "not theirs" in decision.reason
    assert str(CONFIRMATION.confirmation_id) in decision.reason


def test_an_expiry_withdraws_it_with_the_reason() -> None:
    expired = ConfirmationExpired(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="c",
        occurred_at=NOW,
        confirmation_id=CONFIRMATION.confirmation_id,
        customer_id="cust-stroymontazh",
        expired_at=CONFIRMATION.expires_at,
    )

    decision = settle(held_request(), Resolution.expired(expired))

    assert isinstance(decision, Withdrawal)
    assert "expired 2022-03-29 08:02 UTC" in decision.reason


def test_another_confirmation_settles_nothing() -> None:
    other = Resolution.confirmed(confirmed(confirmation=uuid.uuid4()))

    with pytest.raises(ValueError, match="not held for"):
        settle(held_request(), other)


def test_a_release_makes_the_row_due_with_its_audit_trail() -> None:
    resolution = Resolution.confirmed(confirmed())
    at = NOW + timedelta(minutes=6)

    values, events = settled(held_request(), resolution, at)

    assert events == []
    assert values["status"] == "pending"
    assert values["next_attempt_at"] == values["released_at"] == at
    assert values["released_by"] == resolution.event_id
    assert values["request"]["recipient_verified"] is True


def test_a_withdrawal_is_final_and_reported() -> None:
    denied = Resolution(CONFIRMATION.confirmation_id, "denied", uuid.uuid4(), NOW)

    values, events = settled(held_request(), denied, NOW)

    assert values["status"] == "withdrawn"
    assert values["withdrawn_by"] == denied.event_id
    assert values["next_attempt_at"] is None
    (event,) = events
    assert event.subject == "notify.failed"
    assert event.payload["attempts"] == 0
    assert event.payload["reason"] == values["withdrawn_reason"]
    assert values["result"]["event_id"] == event.event_id


def test_the_listing_shows_held_released_and_withdrawn_with_their_times() -> None:
    row: dict[str, Any] = {
        "status": "held",
        "held_for_confirmation": CONFIRMATION.confirmation_id,
        "held_at": NOW,
        "released_at": None,
        "released_by": None,
        "withdrawn_at": None,
        "withdrawn_reason": None,
    }
    assert hold_lines(row) == [
        f"held 2022-03-26 08:02:00 for confirmation {CONFIRMATION.confirmation_id}",
        "not sent until the address is confirmed",
    ]
    event_id = uuid.uuid4()
    released = {**row, "status": "sent", "released_at": NOW, "released_by": event_id}
    assert hold_lines(released)[1] == (
        f"released 2022-03-26 08:02:00 to the confirmed address by event {event_id}"
    )
    withdrawn = {**row, "status": "withdrawn", "withdrawn_at": NOW, "withdrawn_reason": "why"}
    assert hold_lines(withdrawn)[1] == "withdrawn 2022-03-26 08:02:00: why"
    assert hold_lines({**row, "held_for_confirmation": None}) == []


def test_an_expiry_is_announced_with_an_id_of_its_confirmation() -> None:
    from services.verifier.confirm_store import PendingConfirmation
    from services.verifier.expiry import expired_event

    pending = PendingConfirmation(
        confirmation_id=CONFIRMATION.confirmation_id,
        message_id=uuid.uuid4(),
        correlation_id="corr",
        customer_id="cust-stroymontazh",
        contact_id="ct-sokolov",
        channel_kind="email",
        channel_address=CEO,
        match_key=CEO,
        claimed_name=None,
        code=CONFIRMATION.code,
        status="pending",
        expires_at=CONFIRMATION.expires_at,
    )
    later = CONFIRMATION.expires_at + timedelta(seconds=5)

    first, again = expired_event(pending, later), expired_event(pending, later + timedelta(1))

    assert first.subject == "crm.confirmation.expired"
    assert first.event_id == again.event_id  # a second pass or a reply: the same event
    event = ConfirmationExpired.model_validate(first.payload)
    assert (event.message_id, event.correlation_id) == (pending.message_id, "corr")
    assert event.expired_at == CONFIRMATION.expires_at
    assert CEO not in json.dumps(first.payload)  # ids, not addresses

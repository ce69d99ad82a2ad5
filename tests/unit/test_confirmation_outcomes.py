"""Seed 000: what a probable sender's confirmation came to reaches the people holding the
escalations of its message, in the team's language: confirmed (answer the client there),
denied (nothing of the account to the sender), expired (reach the client yourselves)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.escalator.lifecycle import Escalation, Notified
from services.escalator.settlement import (
    Settlement,
    as_settled,
    closes,
    promise_owed,
    settlement_notices,
)
from services.escalator.staff_language import StaffLanguages
from services.notifier.domain import render
from services.notifier.figures import percent
from services.notifier.samples import SAMPLES
from shared.contracts import (
    ChannelConfirmed,
    ChannelRef,
    ConfirmationDenied,
    ConfirmationExpired,
    Language,
)

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
CEO = "a.sokolov@stroymontazh.ru"
MANAGER = "o.petrova@careline.example"
BILLING = "billing@careline.example"
MESSAGE = uuid.uuid4()
CONFIRMATION = uuid.uuid4()


def held(kind: str, *holders: tuple[str, str], status: str = "open") -> Escalation:
    briefing = {**SAMPLES["manager_escalation"], "kind": kind, "severity": "P3"}
    return Escalation(
        id=uuid.uuid4(),
        kind=kind,
        severity="P3",
        status=status,
        level=1,
        message_id=MESSAGE,
        correlation_id=str(MESSAGE),
        ack_deadline=NOW + timedelta(hours=4),
        climb_due_at=NOW + timedelta(hours=4),
        notified=tuple(Notified(role, address, 1) for role, address in holders),
        briefing=briefing,
    )


def confirmed(via: str = "link") -> Settlement:
    return Settlement.confirmed(
        ChannelConfirmed(
            event_id=uuid.uuid4(),
            message_id=MESSAGE,
            correlation_id=str(MESSAGE),
            occurred_at=NOW,
            confirmation_id=CONFIRMATION,
            customer_id="cust-stroymontazh",
            contact_id="ct-sokolov",
            channel=ChannelRef(kind="email", address=CEO, verified=True),
            via=via,  # type: ignore[arg-type]
            confirmed_at=NOW,
        )
    )


def expired() -> Settlement:
    return Settlement.expired(
        ConfirmationExpired(
            event_id=uuid.uuid4(),
            message_id=MESSAGE,
            correlation_id=str(MESSAGE),
            occurred_at=NOW,
            confirmation_id=CONFIRMATION,
            customer_id="cust-stroymontazh",
            expired_at=NOW,
        )
    )


IDENTITY = held("identity_confirmation", ("account_manager", MANAGER))
BILLING_DISPUTE = held("billing", ("billing", BILLING), ("account_manager", MANAGER))


def test_each_holder_hears_once_and_the_manager_of_both_in_one_digest() -> None:
    notes = settlement_notices([IDENTITY, BILLING_DISPUTE], confirmed(), StaffLanguages("ru"), NOW)

    by_recipient = {n.recipient: n for n in notes}
    assert sorted(by_recipient) == [BILLING, MANAGER]
    digest, billing = by_recipient[MANAGER], by_recipient[BILLING]
    assert digest.kind == "staff_digest" and digest.data["change"] == "identity_confirmed"
    assert [e["kind"] for e in digest.data["escalations"]] == ["identity_confirmation", "billing"]
    assert billing.kind == "manager_escalation" and billing.escalation_id == BILLING_DISPUTE.id
    # About the message that started the confirmation; the sender is verified from now on.
    assert {n.message_id for n in notes} == {MESSAGE}
    assert {n.data["identity_status"] for n in notes} == {"verified"}
    # A redelivered outcome makes the same ids: the notifier takes each once.
    again = settlement_notices([IDENTITY, BILLING_DISPUTE], confirmed(), StaffLanguages("ru"), NOW)
    assert [n.notification_id for n in again] == [n.notification_id for n in notes]


def test_a_resolved_escalation_tells_nobody_and_an_expiry_leaves_the_identity_probable() -> None:
    done = held("identity_confirmation", ("account_manager", MANAGER), status="resolved")

    assert settlement_notices([done], confirmed(), StaffLanguages("ru"), NOW) == []
    assert as_settled(IDENTITY, expired()) is IDENTITY
    (note,) = settlement_notices([IDENTITY], expired(), StaffLanguages("ru"), NOW)
    assert note.data["identity_status"] == "probable"


@pytest.mark.parametrize(
    ("language", "subject", "said"),
    [
        ("ru", "[P3] Отправитель подтверждён — ", f"адрес отправителя {CEO} (по ссылке)"),
        ("uk", "[P3] Відправника підтверджено — ", f"адресу відправника {CEO} (за посиланням)"),
        ("en", "[P3] Sender confirmed — ", f"the sender's address {CEO} (by the link)"),
    ],
)
def test_the_confirmed_notice_says_so_first_in_the_team_language(
    language: Language, subject: str, said: str
) -> None:
    (note,) = settlement_notices([IDENTITY], confirmed(), StaffLanguages(language), NOW)

    rendered = render(note)

    assert rendered.subject.startswith(subject)
    assert said in rendered.body
    assert said.replace("'", "&#39;") in (rendered.html or "")
    assert "identity_confirmed" not in rendered.body


@pytest.mark.parametrize(
    ("language", "subject", "said"),
    [
        ("ru", "[P3] Отправителя никто не подтвердил — ", "свяжитесь с клиентом"),
        ("uk", "[P3] Відправника ніхто не підтвердив — ", "зв'яжіться з клієнтом"),
        ("en", "[P3] Nobody confirmed the sender — ", "reach the client"),
    ],
)
def test_an_expired_request_tells_the_holders_to_reach_the_client(
    language: Language, subject: str, said: str
) -> None:
    (note,) = settlement_notices(
        [IDENTITY, BILLING_DISPUTE], expired(), StaffLanguages(language), NOW
    )[:1]

    rendered = render(note)

    assert rendered.subject.startswith(subject)
    assert said in rendered.body


def test_the_outcome_is_told_without_what_it_settled_and_closes_the_confirmation_only() -> None:
    """The rule's conditions ("identity: probable") and the confirmation rule's playbook
    ("a request went to the registered address") would contradict the outcome: left out,
    the billing playbook kept. Confirmed, the identity confirmation's work is done."""
    notes = settlement_notices([IDENTITY, BILLING_DISPUTE], confirmed(), StaffLanguages("ru"), NOW)
    by_recipient = {n.recipient: n for n in notes}
    digest, billing = by_recipient[MANAGER], by_recipient[BILLING]

    identity_item, billing_item = digest.data["escalations"]
    assert identity_item["condition_items"] == [] and identity_item["playbook"] == ""
    assert billing_item["playbook"] == billing.data["playbook"] != ""
    assert digest.data["identity_confidence"] == 0.95  # as sure as a verified channel
    body = render(digest).body
    assert "идентификация отправителя: вероятная" not in body
    assert "Что делать: Не спорить" in body  # the billing escalation's playbook only
    assert body.count("Что делать:") == 1
    # The identity confirmation is resolved by it: nobody is asked to acknowledge it.
    assert identity_item["resolved"] is True and "resolved" not in billing_item
    assert body.count("Возьмите в работу до") == 1

    assert closes(IDENTITY, confirmed())
    assert not closes(BILLING_DISPUTE, confirmed()) and not closes(IDENTITY, expired())


def test_a_case_another_message_opened_does_not_show_its_sender_as_this_one() -> None:
    """Review: the briefing's sender is the opening message's; the outcome of a later
    sender's confirmation must not name the verified client who opened the case."""
    case = held("billing", ("billing", BILLING))
    sender = {"email": "buh@stroymontazh.ru"}
    briefing = {**case.briefing, "sender": sender, "subject": "Счёт"}
    opened_by_client = replace(case, message_id=uuid.uuid4(), briefing=briefing)

    (note,) = settlement_notices([opened_by_client], expired(), StaffLanguages("ru"), NOW)

    assert note.data["sender"] is None and note.data["subject"] == ""
    assert "Отправитель: buh@stroymontazh.ru" not in render(note).body


# --- where a promise made while the sender waited is owned up to ---------------------

REGISTERED = "buh@stroymontazh.ru"
PROMISE_TO = {
    "recipient": REGISTERED,
    "language": "uk",
    "timezone": "Europe/Kyiv",
    "customer": "ТОВ «СтройМонтаж»",
    "account_manager": "Ольга Петрова",
    "subject": "Рахунок № 4512 оплачено",
    "received_at": "2026-12-05T07:12:00+00:00",
}
PROMISED = replace(BILLING_DISPUTE, client_reply_by=NOW + timedelta(hours=2), promise_to=PROMISE_TO)


def denied() -> Settlement:
    return Settlement.denied(
        ConfirmationDenied(
            event_id=uuid.uuid4(),
            message_id=MESSAGE,
            correlation_id=str(MESSAGE),
            occurred_at=NOW,
            confirmation_id=CONFIRMATION,
            customer_id="cust-stroymontazh",
            denied_at=NOW,
        )
    )


SETTLED_SAID = {
    ("confirmed", "ru"): "контакт клиента ООО «СтройМонтаж» 2026-12-07 подтвердил этот адрес",
    ("confirmed", "uk"): "контакт клієнта ООО «СтройМонтаж» 2026-12-07 підтвердив цю адресу",
    ("confirmed", "en"): "customer ООО «СтройМонтаж» confirmed this address on 2026-12-07",
    ("denied", "ru"): "контакт клиента ООО «СтройМонтаж» 2026-12-07 не признал этот адрес",
    ("denied", "uk"): "контакт клієнта ООО «СтройМонтаж» 2026-12-07 не визнав цю адресу",
    ("denied", "en"): "customer ООО «СтройМонтаж» disowned this address on 2026-12-07",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.parametrize(
    ("outcome", "status", "confidence"),
    [("confirmed", "verified", 0.95), ("denied", "suspicious", 0.05)],
)
def test_the_identity_shown_after_the_outcome_says_who_settled_it(
    outcome: str, status: str, confidence: float, language: Language
) -> None:
    """Acceptance: staff read "suspicious, confidence 0.80" after a denial, the probable
    sender's figure and evidence. The outcome's identity goes with its own confidence, and
    the outcome leads the evidence."""
    probable = replace(
        BILLING_DISPUTE,
        briefing={
            **BILLING_DISPUTE.briefing,
            "identity_status": "probable",
            "identity_confidence": 0.8,
            "customer": "ООО «СтройМонтаж»",
        },
    )
    settlement = confirmed() if outcome == "confirmed" else denied()
    settled = as_settled(probable, settlement)
    assert settled.briefing["identity_status"] == status
    assert settled.briefing["identity_confidence"] == confidence
    before = probable.briefing["identity_evidence"]
    assert settled.briefing["identity_evidence"][1:] == before
    items = probable.briefing["identity_evidence_items"]
    assert settled.briefing["identity_evidence_items"][1:] == items
    (note,) = [
        n
        for n in settlement_notices([probable], settlement, StaffLanguages(language), NOW)
        if n.recipient == BILLING
    ]
    rendered = render(note)
    assert SETTLED_SAID[outcome, language] in rendered.body
    assert percent(confidence, language) in rendered.body


def test_a_confirmed_sender_is_owed_the_promise_its_released_answer_made() -> None:
    """The billing answer went to the registered contact and, held, to the CEO with the same
    date; confirmed, the CEO's address is where a delay is told, in the same words."""
    settled = as_settled(PROMISED, confirmed())

    # Where it was is kept: a revoke of the address brings it back there (revocation.py);
    # and since when the address is the client's, which a delay notice there carries.
    moved_from = PROMISE_TO["recipient"]
    assert settled.promise_to == {
        **PROMISE_TO,
        "recipient": CEO,
        "moved_from": moved_from,
        "identity_decided_at": NOW.isoformat(),
    }
    assert settled.client_reply_by == PROMISED.client_reply_by
    assert PROMISED.promise_to == PROMISE_TO  # the escalation as read is not changed


def test_a_denied_request_is_owed_to_nobody_and_an_expired_one_stays_registered() -> None:
    disowned = as_settled(PROMISED, denied())
    # Kept (the holders are told and it climbs when it passes), told to nobody.
    assert disowned.promise_to == {**PROMISE_TO, "recipient": None}
    assert disowned.client_reply_by == PROMISED.client_reply_by
    # The registered contact had the promise and disowned nothing.
    assert as_settled(PROMISED, expired()).promise_to == PROMISE_TO


def test_only_a_promise_made_while_this_sender_waited_follows_the_outcome() -> None:
    # No promise (the identity confirmation makes none): none after.
    assert as_settled(IDENTITY, confirmed()).promise_to is None
    assert as_settled(IDENTITY, denied()).promise_to is None
    # A case the verified client opened keeps its promise where it went.
    theirs = replace(PROMISED, briefing={**PROMISED.briefing, "identity_status": "verified"})
    for outcome in (confirmed(), denied()):
        assert as_settled(theirs, outcome).promise_to == PROMISE_TO
    # A confirmation of a channel no answer can be held for (a phone) moves nothing.
    by_phone = replace(
        confirmed(), channel=ChannelRef(kind="phone", address="+79161234567", verified=True)
    )
    assert promise_owed(PROMISE_TO, by_phone) == PROMISE_TO


SHOWN = {
    "ru": ("идентификация: подтверждена", "подозрительная"),
    "uk": ("ідентифікація: підтверджена", "підозріла"),
    "en": ("identity: verified", "suspicious"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_billing_reads_the_confirmed_sender_not_the_disowned_opener(language: Language) -> None:
    """Seed 000, older finding: an address the client disowned opened the billing case
    (suspicious); the CEO's new address wrote into it and was confirmed. Billing's notice of
    the confirmation said «подозрительная»: the opening sender's identity beside the news of
    another. It shows the confirmed sender, as the outcome left it; the case keeps its own."""
    disowned = {"email": "forger@stroymontazh-pay.ru"}
    opened_by_forger = replace(
        BILLING_DISPUTE,
        message_id=uuid.uuid4(),
        briefing={
            **BILLING_DISPUTE.briefing,
            "identity_status": "suspicious",
            "identity_confidence": 0.05,
            "sender": disowned,
            "customer": "ООО «СтройМонтаж»",
        },
    )
    settlement = confirmed()

    assert as_settled(opened_by_forger, settlement) is opened_by_forger
    (note,) = [
        n
        for n in settlement_notices([opened_by_forger], settlement, StaffLanguages(language), NOW)
        if n.recipient == BILLING
    ]

    assert note.data["identity_status"] == "verified"
    assert note.data["sender"]["email"] == CEO
    body = render(note).body
    shown, stale = SHOWN[language]
    assert shown in body.lower() and stale not in body.lower()
    assert CEO in body and disowned["email"] not in body
    assert SETTLED_SAID["confirmed", language] in body

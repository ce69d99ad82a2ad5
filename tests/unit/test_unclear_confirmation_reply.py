"""A registered contact's reply to a confirmation request that is neither yes nor no, and a
reply naming two requests' codes: how the verifier reads them, and what the holders of the
sender's cases are told (ru, uk, en)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.escalator.lifecycle import Escalation, Notified
from services.escalator.staff_language import StaffLanguages
from services.escalator.unclear import unclear_answers, unclear_notices
from services.notifier.domain import render
from services.notifier.samples import SAMPLES
from services.verifier.adapters import decision_row
from services.verifier.confirmation import (
    answered_codes,
    codes_by_place,
    is_denial,
    read_reply,
    vouches,
)
from services.verifier.replies import UnclearAnswer, with_unclear_answers
from shared.contracts import (
    ChannelRef,
    CustomerRef,
    Identity,
    IdentityVerified,
    Language,
    MessageNormalized,
    SenderIdentifiers,
    StaffRef,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
PLAIN, PAYMENT = "OK-AAAA-BBBB", "OK-CCCC-DDDD"
FORGER = "a.sokolov.stroymontazh@gmail.com"
MANAGER = "o.petrova@careline.example"
CONFIRMATION = uuid.UUID("00000000-0000-0000-0000-0000000000c1")


@pytest.mark.parametrize(
    "text",
    [
        "А кто это вообще? Мы вам ничего не писали?",
        "Кто этот человек? Позвоните мне.",
        "Хто це взагалі? Ми вам нічого не писали?",
        "Зателефонуйте мені щодо цього",
        "Who is this person?",
        "Call me about this",
        "Did we ask for anything? Not sure, call me",
    ],
)
def test_a_reply_that_asks_or_wants_a_call_is_neither_yes_nor_no(text: str) -> None:
    assert not is_denial(text)
    assert not vouches(text, PLAIN)
    assert read_reply(text, PLAIN) == "neither"


@pytest.mark.parametrize(
    "text",
    [
        "Кто это? Мы ничего не просили!",
        "Это не мы, кто это?",
        "Хто це? Ми нічого не просили.",
        "Who is this? We never requested this.",
    ],
)
def test_a_no_beside_a_question_still_denies(text: str) -> None:
    assert is_denial(text)


def test_a_reply_answers_the_request_it_types_or_replies_to_not_one_it_only_quotes() -> None:
    both = {PLAIN, PAYMENT}
    # "Это не мы" to the payment-details mail, whose thread quotes the plain request.
    replied = codes_by_place("Это не мы!", f"Re: реквизиты (код {PAYMENT})", f"> код {PLAIN}")
    assert answered_codes(replied, both) == {PAYMENT}
    # The code typed wins over the mail replied to.
    typed = codes_by_place(f"{PLAIN} — подтверждаю", f"Re: (код {PAYMENT})", "")
    assert answered_codes(typed, both) == {PLAIN}
    # No subject (a client that drops it): the quoted request.
    assert answered_codes(codes_by_place("Да", "", f"> {PLAIN}"), both) == {PLAIN}
    # A code of no pending request of this customer answers nothing.
    assert answered_codes(codes_by_place("Да", "OK-ZZZZ-ZZZZ", ""), both) == set()


def reply(
    text: str,
    language: Language = "ru",
    settled: str | None = None,
    *,
    answer: UnclearAnswer | None = None,
    manager: StaffRef | None = None,
    subject: str = f"Re: Подтвердите обращение (код {PLAIN})",
) -> IdentityVerified:
    """The registered contact's reply, as the verifier sends it: verified, with the unclear
    answer (by default to the confirmation of the forger's address)."""
    identity = Identity(
        status="verified",
        confidence=0.95,
        customer=CustomerRef(id="cust-stroymontazh", name="ООО «СтройМонтаж»", tier="gold"),
        account_manager=manager,
        authorized_channels=[
            ChannelRef(kind="email", address="buh@stroymontazh.ru", verified=True)
        ],
        disclosure="account",
    )
    answer = answer or UnclearAnswer(CONFIRMATION, "cust-stroymontazh", "email", FORGER, settled)
    message_id = uuid.uuid4()
    message = MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=NOW,
        channel="email",
        sender=SenderIdentifiers(email="buh@stroymontazh.ru"),
        subject=subject,
        text=text,
        language=language,
        thread_id="t",
        external_id="x",
        received_at=NOW,
    )
    return IdentityVerified(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=NOW,
        message=message,
        identity=with_unclear_answers(identity, [answer]),
    )


def test_the_unclear_answer_is_evidence_of_its_own_with_ids_only_on_file() -> None:
    verified = reply("А кто это вообще?")
    (item,) = verified.identity.evidence
    assert item.kind == "confirmation_unclear" and item.weight == 0.0
    assert item.values["address"] == FORGER and FORGER not in item.detail
    assert str(CONFIRMATION) in item.detail
    # The decision kept for good names ids: no address, no name.
    (kept,) = decision_row(verified.message_id, verified.identity, NOW)["evidence"]
    assert "address" not in kept["values"] and "customer_name" not in kept["values"]
    assert kept["values"]["confirmation_id"] == str(CONFIRMATION)
    # The escalator reads it back; a probable sender's evidence of the kind counts for nothing.
    (answer,) = unclear_answers(verified.identity)
    assert (answer.confirmation_id, answer.address) == (CONFIRMATION, FORGER)
    probable = verified.identity.model_copy(update={"status": "probable"})
    assert unclear_answers(probable) == []


def held(kind: str) -> Escalation:
    return Escalation(
        id=uuid.uuid4(),
        kind=kind,
        severity="P3",
        status="open",
        level=1,
        message_id=uuid.uuid4(),
        correlation_id="c",
        ack_deadline=NOW + timedelta(hours=4),
        climb_due_at=NOW + timedelta(hours=4),
        notified=(Notified("account_manager", MANAGER, 1),),
        briefing={**SAMPLES["manager_escalation"], "kind": kind, "severity": "P3"},
    )


@pytest.mark.parametrize(
    ("language", "text", "subject", "said"),
    [
        (
            "ru",
            "А кто это вообще? Мы вам ничего не писали?",
            "[P3] Клиент не подтвердил и не отклонил отправителя: позвоните",
            f"ответил на запрос подтверждения для {FORGER}, но не подтвердил и не отклонил",
        ),
        (
            "uk",
            "Хто це взагалі? Ми вам нічого не писали?",
            "[P3] Клієнт не підтвердив і не відхилив відправника: зателефонуйте",
            f"відповів на запит підтвердження для {FORGER}, але не підтвердив і не відхилив",
        ),
        (
            "en",
            "Who is this person? Call me about this",
            "[P3] The client neither confirmed nor denied the sender: call them",
            f"answered the confirmation request for {FORGER} without confirming or denying",
        ),
    ],
)
def test_the_holders_read_what_the_contact_wrote_and_to_call_the_number_on_file(
    language: Language, text: str, subject: str, said: str
) -> None:
    verified = reply(text, language)
    (answer,) = unclear_answers(verified.identity)
    case = held("payment_details")

    (note,) = unclear_notices(case, verified, answer, {}, StaffLanguages(language), NOW)
    rendered = render(note)

    assert note.escalation_id == case.id and note.message_id == verified.message_id
    assert note.data["change"] == "identity_unclear"
    assert rendered.subject.startswith(subject)
    assert said in rendered.body and f"«{text}»" in rendered.body
    assert {"ru": "CRM", "uk": "CRM", "en": "number on file"}[language] in rendered.body
    # A redelivered reply makes the same notice: the notifier takes it once.
    (again,) = unclear_notices(case, verified, answer, {}, StaffLanguages(language), NOW)
    assert again.notification_id == note.notification_id


def test_a_reply_without_text_is_quoted_by_its_subject_not_as_nothing() -> None:
    verified = reply("")
    (answer,) = unclear_answers(verified.identity)
    (note,) = unclear_notices(
        held("payment_details"), verified, answer, {}, StaffLanguages("ru"), NOW
    )
    body = render(note).body
    assert "«»" not in body and f"«Re: Подтвердите обращение (код {PLAIN})»" in body


@pytest.mark.parametrize(
    ("language", "text", "subject", "said"),
    [
        (
            "ru",
            "Это не мы! Ничего не меняйте.",
            "[P3] Клиент подтвердил отправителя, а теперь пишет, что это не они: позвоните",
            f"раньше подтвердил адрес отправителя {FORGER}, а теперь отвечает, что это не они",
        ),
        (
            "uk",
            "Це не ми! Нічого не змінюйте.",
            "[P3] Клієнт підтвердив відправника, а тепер пише, що це не вони: зателефонуйте",
            f"раніше підтвердив адресу відправника {FORGER}, а тепер відповідає, що це не вони",
        ),
        (
            "en",
            "Not us! Change nothing.",
            "[P3] The client confirmed the sender and now says it was not them: call them",
            f"confirmed the sender's address {FORGER} before, and now answers that it was not",
        ),
    ],
)
def test_a_no_after_a_yes_is_told_as_such(
    language: Language, text: str, subject: str, said: str
) -> None:
    """«Да» to the first mail, «Это не мы» to the payment-details one: the confirmation
    stands (words do not undo it), and the holders read that it was taken back."""
    verified = reply(text, language, settled="confirmed")
    (answer,) = unclear_answers(verified.identity)
    assert answer.settled == "confirmed"
    (note,) = unclear_notices(
        held("payment_details"), verified, answer, {}, StaffLanguages(language), NOW
    )
    rendered = render(note)
    assert note.data["change"] == "identity_denied_late"
    assert rendered.subject.startswith(subject)
    assert said in rendered.body and f"«{text}»" in rendered.body

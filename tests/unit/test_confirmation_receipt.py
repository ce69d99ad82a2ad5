"""The registered contact who answered a confirmation request hears what came of it
(notifier receipts.py), in its language, at the address the request went to."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.notifier.domain import render
from services.notifier.holds import Resolution
from services.notifier.receipts import receipt_for
from services.verifier.confirmation import is_denial
from shared.contracts import Language, SendNotification
from tests.unit.test_held_answers import CEO, CONFIRMATION, NOW, REGISTERED, contacts, probable
from tests.unit.test_held_answers import verified_message as seed_000

pytestmark = pytest.mark.unit

REQUEST_MAIL = "<request@careline.local>"


def asked(language: Language = "ru") -> SendNotification:
    """The identity confirmation request seed 000's message sent the registered address."""
    (request,) = [
        n
        for n in contacts(seed_000(probable(), language), "billing_dispute")
        if n.kind == "identity_confirmation"
    ]
    return request


def outcome(kind: str) -> Resolution:
    return Resolution(
        confirmation_id=CONFIRMATION.confirmation_id,
        outcome=kind,  # type: ignore[arg-type]
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, kind),
        at=NOW + timedelta(hours=1),
        channel_kind="email" if kind == "confirmed" else None,
        address=CEO if kind == "confirmed" else None,
    )


def test_the_request_carries_its_confirmation_so_the_answer_can_be_thanked() -> None:
    assert asked().data["confirmation_id"] == str(CONFIRMATION.confirmation_id)


@pytest.mark.parametrize("kind", ["confirmed", "denied"])
def test_whoever_answered_is_told_at_the_address_asked_in_the_requests_thread(kind: str) -> None:
    request = asked()

    receipt = receipt_for(request, outcome(kind), REQUEST_MAIL)

    assert receipt is not None
    assert (receipt.kind, receipt.recipient, receipt.language) == (
        "confirmation_receipt",
        REGISTERED,
        "ru",
    )
    assert receipt.content_class == "account" and receipt.recipient_verified
    assert receipt.reply_to_external_id == REQUEST_MAIL
    assert receipt.data["outcome"] == kind and receipt.data["sender_address"] == CEO
    # Once per confirmation, whichever event told it.
    again = receipt_for(request, outcome(kind), REQUEST_MAIL)
    assert again is not None and again.notification_id == receipt.notification_id
    assert receipt.notification_id != request.notification_id


def test_an_expiry_answers_nothing() -> None:
    assert receipt_for(asked(), outcome("expired"), REQUEST_MAIL) is None


SAID = {
    ("ru", "confirmed"): ("Спасибо: адрес подтверждён", "Мы записали этот адрес"),
    ("ru", "denied"): (
        "Спасибо: мы не ответим на чужое обращение",
        "туда мы не сообщим ничего о вашем аккаунте",
    ),
    ("uk", "confirmed"): ("Дякуємо: адресу підтверджено", "Ми записали цю адресу"),
    ("uk", "denied"): (
        "Дякуємо: ми не відповімо на чуже звернення",
        "туди ми нічого не повідомимо про ваш акаунт",
    ),
    ("en", "confirmed"): ("Thank you: the address is confirmed", "We have added this address"),
    ("en", "denied"): (
        "Thank you: we will not answer a request that was not yours",
        "we will tell it nothing about your account",
    ),
}


@pytest.mark.parametrize(("language", "kind"), sorted(SAID))
def test_the_receipt_says_what_came_of_the_answer(language: Language, kind: str) -> None:
    receipt = receipt_for(asked(language), outcome(kind), REQUEST_MAIL)
    assert receipt is not None

    mail = render(receipt)

    title, words = SAID[(language, kind)]
    assert mail.subject.startswith(title)
    assert words in mail.body and CEO in mail.body
    assert mail.html is not None and words in mail.html


ASKED_WORDS = {"ru": "«Это не мы»", "uk": "«Це не ми»", "en": '"Not us"'}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_request_asks_for_a_denial_of_everyone_and_the_verifier_reads_it(
    language: Language,
) -> None:
    """A bookkeeper can truthfully answer "not me" of a message her CEO sent: the request
    asks whether it was none of them, in words the verifier reads as a denial."""
    body = render(asked(language)).body

    assert ASKED_WORDS[language] in body
    assert is_denial(ASKED_WORDS[language].strip('«»"'))

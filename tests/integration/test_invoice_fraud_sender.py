"""Seed 000's impostor side on the real servers: a mail in the client's name from an address
not on file (probable) asking to change the payment details opens the payment-details and
the confirmation escalations, asks the registered contact to confirm in words that say what
was asked (no new account number, no subject carrying it), and sends the sender nothing:
neither at its message nor when it writes again into the case."""

from __future__ import annotations

import json
import uuid
from contextlib import AsyncExitStack

import nats
import pytest

from services.notifier.domain import render
from shared.contracts import SendNotification
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    BILLING,
    CONFIRMATION_CODE,
    Bus,
    awaiting_confirmation,
    escalator_settings,
    publish_verified,
    start,
    until,
)

pytestmark = pytest.mark.integration

FORGER = "ceo@stroymontazh-ru.com"
REGISTERED = "buh@stroymontazh.ru"
SECURITY = "security@careline.example"
MANAGER = "o.petrova@careline.example"
IBAN = "UA213223130000026007233566001"
SUBJECT = f"Новые реквизиты {IBAN}"
ASK = {
    "ru": f"Добрый день! Наши реквизиты изменились, оплачивайте счёт № 4512 на новый счёт {IBAN}.",
    "uk": f"Доброго дня! У нас змінилися реквізити, просимо надалі платити на рахунок {IBAN}.",
    "en": f"Kindly pay invoice INV-2024-0042 to our new bank account {IBAN}, the old is closed.",
}
AGAIN = {
    "ru": "Вы получили наше письмо? Ответьте, пожалуйста.",
    "uk": "Ви отримали наш лист? Дайте відповідь, будь ласка.",
    "en": "Did you get our message? Please reply.",
}
# What the registered contact reads, in each language.
SAID = {
    "ru": ("просят сменить платёжные реквизиты", "попросили сменить ваши платёжные реквизиты"),
    "uk": ("просять змінити платіжні реквізити", "попросили змінити ваші платіжні реквізити"),
    "en": ("A request to change the payment details", "asked us to change your payment details"),
}
NOT_US = {"ru": "«Это не мы»", "uk": "«Це не ми»", "en": '"Not us"'}


def from_the_forger(text: str, language: str, confirmation_id: uuid.UUID) -> bytes:
    """The harness's client, written from a lookalike address: probable (matched by name),
    with a confirmation asked of the registered contact, as the verifier sends it."""
    verified = awaiting_confirmation(
        text, FORGER, confirmation_id, language=language, subject=SUBJECT
    )
    return json.dumps(verified).encode()


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
async def test_a_probable_senders_payment_details_change_is_not_answered_to_the_sender(
    env: Env, watch: tuple[nats.NATS, Bus], language: str
) -> None:
    nc, bus = watch
    confirmation = uuid.uuid4()
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, from_the_forger(ASK[language], language, confirmation))
        await bus.wait("escalation.opened", 2)
        await until(lambda: bus.to(REGISTERED) and bus.to(SECURITY) and bus.to(BILLING))
        # The forger writes again ("did you get it?"): no payment words, the case is open.
        await publish_verified(nc, from_the_forger(AGAIN[language], language, confirmation))
        await bus.wait("escalation.updated")
        await until(lambda: len(bus.to(REGISTERED)) >= 2)

    opened = {e["kind"] for e in bus.of("escalation.opened")}
    assert opened == {"payment_details", "identity_confirmation"}
    # Nothing automatic went back to the sender, at either message.
    assert bus.to(FORGER) == []

    # The registered contact is asked to confirm, in words that say what was asked; the
    # second message asks with the same id (the notifier takes it once).
    requests = bus.to(REGISTERED)
    assert {n["notification_id"] for n in requests} == {requests[0]["notification_id"]}
    asked = SendNotification.model_validate(requests[0])
    assert (asked.kind, asked.language) == ("identity_confirmation", language)
    assert asked.data["asks"] == ["payment_details"] and asked.data["subject"] == ""
    mail = render(asked)
    title, said = SAID[language]
    assert title in mail.subject and CONFIRMATION_CODE in mail.subject
    assert said in mail.body and FORGER in mail.body and NOT_US[language] in mail.body
    assert IBAN not in mail.subject + mail.body + (mail.html or "")

    # Staff hear both escalations, with why the sender was not answered.
    for address in (SECURITY, BILLING, MANAGER):
        (first, *_) = bus.to(address)
        assert first["data"]["client_contacts_withheld"] == {
            "kinds": ["unknown_sender_explanation"],
            "why": "unverified_sender",
        }
    escalations = await rows(
        env,
        "SELECT kind, severity FROM escalator.escalations WHERE subject_key = :key ORDER BY kind",
        key="customer:cust-stroymontazh",
    )
    assert escalations == [
        {"kind": "identity_confirmation", "severity": "P3"},
        {"kind": "payment_details", "severity": "P2"},
    ]

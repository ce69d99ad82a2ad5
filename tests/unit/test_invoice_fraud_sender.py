"""Seed 000's impostor side: a sender not verified asking to change payment details (invoice
fraud, business email compromise) is sent nothing automatic back, and the registered
contact's confirmation request says plainly what was asked, without the new account."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.escalator.digest import UNVERIFIED_SENDER, message_notices
from services.escalator.history import History, PastEscalation, SeenMessage
from services.escalator.notifications import client_contacts, staff_notifications
from services.escalator.policy import Decision, guarded_asks, silent_to_sender
from services.escalator.policy_explain import explain
from services.escalator.policy_explain import render as explain_render
from services.notifier.domain import render
from shared.contracts import (
    ConfirmationRequest,
    Identity,
    IdentityVerified,
    Language,
    SendNotification,
)
from tests.unit.test_routing_policy import (
    NOW,
    POLICY,
    escalation,
    identity,
    message,
    scenario,
)

pytestmark = pytest.mark.unit

IBAN = "UA213223130000026007233566001"
ASK = {
    "ru": f"Добрый день! Наши реквизиты изменились, оплачивайте счёт № 4512 на новый счёт {IBAN}.",
    "uk": f"Доброго дня! У нас змінилися реквізити, просимо надалі платити на рахунок {IBAN}.",
    "en": f"Kindly pay invoice INV-2024-0042 to our new bank account {IBAN}, the old is closed.",
}
SUBJECT = f"Новые реквизиты {IBAN}"
PLAIN = "Почему приостановили CRM?"
SENDER = "ceo@stroymontazh.ru"
REGISTERED = "buh@stroymontazh.ru"
CONFIRMATION = ConfirmationRequest(
    confirmation_id=uuid.UUID("6b1f0a8e-0c5d-4d57-9a55-1b9f3f0e7a21"),
    code="482913",
    expires_at=NOW + timedelta(days=1),
)


def probable() -> Identity:
    return identity("probable").model_copy(update={"confirmation": CONFIRMATION})


def notices(
    text: str, who: Identity, history: History | None = None, language: Language = "ru"
) -> tuple[IdentityVerified, list[Decision], list[SendNotification]]:
    """What the escalator asks the notifier for at this message (as service.py builds it)."""
    history = history or History()
    verified, decisions = scenario(text, who, subject=SUBJECT, language=language)
    silent = silent_to_sender(POLICY, who, history, decisions, SENDER)
    asks = guarded_asks(POLICY, decisions, history, SENDER) if silent else []
    staff: list[SendNotification] = []
    clients: list[SendNotification] = []
    for d in decisions:
        event = escalation(d, verified)
        staff += staff_notifications(POLICY, d, event, verified)
        clients += client_contacts(d, event, verified, strangers=True, asks=asks)
    return (
        verified,
        decisions,
        message_notices(verified, staff, clients, silent_sender=silent),
    )


def earlier(text_signals: dict[str, float], sender: str = SENDER) -> SeenMessage:
    return SeenMessage(
        message_id=str(uuid.uuid4()),
        at=NOW - timedelta(hours=1),
        channel="email",
        sender=sender,
        signals=text_signals,
    )


def open_payment_details_case() -> PastEscalation:
    """The client's payment details case, opened an hour ago and open still."""
    return PastEscalation(
        id=str(uuid.uuid4()),
        kind="payment_details",
        severity="P2",
        status="open",
        rule="payment-details-change",
        opened_at=NOW - timedelta(hours=1),
    )


# --- the decision ------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["probable", "unknown", "suspicious", "conflict"])
def test_an_unverified_sender_asking_to_change_payment_details_is_not_answered(
    status: str,
) -> None:
    who = identity(status)
    _, decisions = scenario(ASK["ru"], who)

    assert "payment_details" in {d.rule.kind for d in decisions}
    assert silent_to_sender(POLICY, who, History(), decisions)
    assert guarded_asks(POLICY, decisions, History(), SENDER) == ["payment_details"]


def test_a_verified_sender_keeps_todays_behaviour() -> None:
    who = identity("verified")
    _, decisions = scenario(ASK["ru"], who)

    assert not silent_to_sender(POLICY, who, History(), decisions)


def test_a_probable_sender_without_payment_words_is_answered_as_before() -> None:
    who = probable()
    _, decisions = scenario(PLAIN, who)

    assert not silent_to_sender(POLICY, who, History(), decisions)
    assert guarded_asks(POLICY, decisions, History(), SENDER) == []


def test_while_a_payment_details_case_is_open_an_unverified_sender_hears_nothing() -> None:
    """The forger's follow-up ("did you update our details?") says no payment words."""
    case = open_payment_details_case()
    who = probable()
    _, decisions = scenario(PLAIN, who)

    assert silent_to_sender(POLICY, who, History(escalations=[case]), decisions)
    resolved = case.model_copy(update={"status": "resolved"})
    assert not silent_to_sender(POLICY, who, History(escalations=[resolved]), decisions)


def test_a_sender_that_asked_before_hears_nothing_though_the_case_was_closed() -> None:
    """The forger writes again ("any news?") after the case was resolved: it asked to
    change the details, and is still not told what we did."""
    resolved = open_payment_details_case().model_copy(update={"status": "resolved"})
    asked = History(messages=[earlier({"payment_details_change": 0.9})], escalations=[resolved])
    who = probable()
    _, decisions = scenario(PLAIN, who)

    assert silent_to_sender(POLICY, who, asked, decisions, SENDER)
    # Another address asked it, or nobody did: this sender is answered as before.
    others = History(messages=[earlier({"payment_details_change": 0.9}, "other@mail.ru")])
    assert not silent_to_sender(POLICY, who, others, decisions, SENDER)
    assert not silent_to_sender(POLICY, identity("verified"), asked, decisions, SENDER)


def test_what_the_sender_asked_before_is_its_own_not_another_addresses() -> None:
    _, decisions = scenario(PLAIN, probable())
    asked = History(messages=[earlier({"payment_details_change": 0.9})])
    others = History(messages=[earlier({"payment_details_change": 0.9}, "other@mail.ru")])

    assert guarded_asks(POLICY, decisions, asked, SENDER.upper()) == ["payment_details"]
    assert guarded_asks(POLICY, decisions, others, SENDER) == []


def test_the_policy_can_guard_nothing() -> None:
    policy = POLICY.model_copy(update={"no_reply_to_unverified_while": []})
    who = probable()
    _, decisions = scenario(ASK["ru"], who)

    assert not silent_to_sender(policy, who, History(), decisions)


# --- what goes out -----------------------------------------------------------------------


def test_nothing_goes_back_to_the_sender_and_staff_are_told_why() -> None:
    _, _, notes = notices(ASK["ru"], probable())

    assert [n.recipient for n in notes if n.recipient_role.startswith("client")] == [REGISTERED]
    assert not [n for n in notes if n.recipient == SENDER]
    staff = [n for n in notes if not n.recipient_role.startswith("client")]
    assert {n.recipient_role for n in staff} == {"account_manager", "security", "billing"}
    for note in staff:
        assert note.data["client_contacts_withheld"] == {
            "kinds": ["unknown_sender_explanation"],
            "why": UNVERIFIED_SENDER,
        }
        assert note.data["client_contacts_sent"]["kinds"] == ["identity_confirmation"]


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("ru", "поэтому отправителю ничего не отправлено автоматически"),
        ("uk", "тому відправникові нічого не надіслано автоматично"),
        ("en", "so nothing was sent back to the sender automatically"),
    ],
)
def test_staff_read_why_the_sender_was_not_answered(language: Language, line: str) -> None:
    _, _, notes = notices(ASK["ru"], probable())
    (security,) = [n for n in notes if n.recipient_role == "security"]

    said = render(security.model_copy(update={"language": language}))

    assert line in said.body and line in (said.html or "")


def test_a_probable_sender_of_another_request_still_gets_its_explanation() -> None:
    _, _, notes = notices(PLAIN, probable())

    assert [n.kind for n in notes if n.recipient == SENDER] == ["unknown_sender_explanation"]


@pytest.mark.parametrize(
    ("language", "subject", "said", "not_us"),
    [
        (
            "ru",
            "От имени ООО «СтройМонтаж» просят сменить платёжные реквизиты (код 482913)",
            f"с адреса {SENDER}, 14 марта 2025 г., 09:30 (UTC), и попросили сменить ваши "
            "платёжные реквизиты",
            "«Это не мы»",
        ),
        (
            "uk",
            "Від імені ООО «СтройМонтаж» просять змінити платіжні реквізити (код 482913)",
            f"з адреси {SENDER}, 14 березня 2025 р., 09:30 (UTC), і попросили змінити ваші "
            "платіжні реквізити",
            "«Це не ми»",
        ),
        (
            "en",
            "A request to change the payment details of ООО «СтройМонтаж» (code 482913)",
            f"from {SENDER} asked us to change your payment details",
            "Not us",
        ),
    ],
)
def test_the_registered_contact_is_told_plainly_what_was_asked(
    language: Language, subject: str, said: str, not_us: str
) -> None:
    _, _, notes = notices(ASK[language], probable(), language=language)
    (asked,) = [n for n in notes if n.recipient == REGISTERED]

    rendered = render(asked)

    assert asked.kind == "identity_confirmation"
    assert asked.data["asks"] == ["payment_details"]
    assert rendered.subject == subject
    html = rendered.html or ""
    for body in (rendered.body, html.replace("<strong>", "").replace("</strong>", "")):
        assert said in body and not_us in body.replace("&ldquo;", '"').replace("&rdquo;", '"')
        # Neither the new account nor the subject that carries it is repeated.
        assert IBAN not in body and "Новые реквизиты" not in body
        assert "482913" in body


def test_a_payment_details_ask_after_a_plain_request_asks_the_contact_again() -> None:
    """The same confirmation: a plain request was sent for the address's first message; the
    second asks for payment details, so the registered contact hears of that too (once)."""
    _, _, plain = notices(PLAIN, probable())
    _, _, fraud = notices(ASK["ru"], probable())
    # Its case resolved, the sender writes again: it asked before, so it is still not
    # answered, and the request names the ask (merged into the same escalation, its id is
    # the earlier ask's: the notifier takes it once; tests/integration/...fraud_sender).
    history = History(messages=[earlier({"payment_details_change": 0.9})])
    _, _, later = notices(PLAIN, probable(), history=history)

    def request(notes: list[SendNotification]) -> uuid.UUID:
        (found,) = [n.notification_id for n in notes if n.kind == "identity_confirmation"]
        return found

    assert request(plain) != request(fraud)
    (asked,) = [n for n in later if n.kind == "identity_confirmation"]
    assert asked.data["asks"] == ["payment_details"] and request(later) != request(plain)
    assert not [n for n in later if n.recipient == SENDER]


def test_the_sender_writing_again_while_its_case_is_open_is_still_not_answered() -> None:
    case = open_payment_details_case()
    history = History(messages=[earlier({"payment_details_change": 0.9})], escalations=[case])
    _, _, again = notices(PLAIN, probable(), history=history)

    # The request names the ask (its id then is the first request's, merged into the same
    # escalation: the notifier takes it once; tests/integration/test_invoice_fraud_sender).
    (asked,) = [n for n in again if n.kind == "identity_confirmation"]
    assert asked.data["asks"] == ["payment_details"] and asked.data["subject"] == ""
    assert not [n for n in again if n.recipient == SENDER]


# --- policy explain ----------------------------------------------------------------------


def test_policy_explain_shows_what_is_withheld_and_what_the_request_names() -> None:
    out = explain_render(explain(POLICY, message(ASK["ru"], email=SENDER), probable()))

    assert (
        "client contact: unknown_sender_explanation to sender (withheld: the sender is not "
        "verified and asks what impostors ask)" in out
    )
    assert (
        "client contact: identity_confirmation to registered_channel (says the sender "
        "asked: payment_details)" in out
    )
    plain = explain_render(explain(POLICY, message(PLAIN, email=SENDER), probable()))
    assert "client contact: unknown_sender_explanation to sender\n" in plain

"""Card numbers a client writes reach staff mail masked but for their last four digits."""

from __future__ import annotations

import pytest

from services.escalator.facts import fact_pack, seen_message
from services.escalator.history import History
from services.escalator.notifications import staff_notifications
from services.escalator.privacy import luhn_valid, mask_card_numbers
from services.notifier.domain import render
from tests.unit.test_default_policy import KVITKA, POLICY, decide
from tests.unit.test_routing_policy import escalation, identity, message, verified_message

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # Written like a card: masked whatever the check digit (a mistyped digit is still it).
        (
            "Карта для возврата 4276 3800 1234 5678, спасибо",
            "Карта для возврата **** **** **** 5678, спасибо",
        ),
        (
            "Картка 5168-7422-1234-5670, поверніть туди",
            "Картка ****-****-****-5670, поверніть туди",
        ),
        ("Amex 3782 822463 10005 was charged twice", "Amex **** ****** *0005 was charged twice"),
        # A plain run of digits only when it passes the Luhn check.
        ("refund to card 4111111111111111 please", "refund to card ************1111 please"),
    ],
)
def test_card_numbers_keep_only_their_last_four_digits(text: str, masked: str) -> None:
    assert mask_card_numbers(text) == masked
    assert len(mask_card_numbers(text)) == len(text)  # evidence offsets stay right


@pytest.mark.parametrize(
    "text",
    [
        "Рахунок 26001234567890 у ПриватБанку",  # 14 digits, fails the check: an account
        "Order 2024-1234-5678-9012-7 never arrived",  # a dashed reference, not a card
        "Телефон +7 916 123-45-67, договор 118/2019 на 480000.00 руб.",
        "invoice 1234567890123",
    ],
)
def test_other_numbers_are_left_as_they_are(text: str) -> None:
    assert mask_card_numbers(text) == text


def test_the_luhn_check() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("378282246310005")
    assert not luhn_valid("4276380012345678")


def test_the_legal_notice_and_the_history_show_the_card_masked() -> None:
    text = (
        "Верните деньги на карту 4276 3800 1234 5678, иначе подам на вас в суд. "
        "Номер карты повторяю: 4276 3800 1234 5678."
    )
    who = identity("verified", customer=KVITKA)
    d = decide(text, who)["legal"]
    verified = verified_message(message(text), who)
    seen = seen_message(verified, list(d.signals), [], [])
    pack = fact_pack(verified, d.signals, seen, History())
    (legal, *_) = staff_notifications(
        POLICY, d, escalation(d, verified), verified, {"fact_pack": pack}
    )

    body = render(legal).body
    assert legal.kind == "legal_notice"
    assert "4276 3800 1234 5678" not in body and "3800 1234" not in str(legal.data)
    assert body.count("**** **** **** 5678") >= 2  # the quoted message and its excerpt
    assert "**** **** **** 5678" in seen.excerpt

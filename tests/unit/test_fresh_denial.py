"""A registered contact writing a fresh mail (not a reply: no code) that says no to a
request answers the requests it names: the address asked about or the name its sender
claimed, in Russian, Ukrainian or English; a first name alone names nobody."""

from __future__ import annotations

import pytest

from services.verifier.confirmation import named_in

FORGER = "director@stroymontazh.ru"


@pytest.mark.parametrize(
    ("text", "claimed"),
    [
        ("Это не мы, никакого Игоря Белова у нас нет", "Игорь Белов"),
        ("Це не ми, жодного Ігоря Бєлова у нас немає", "Ігор Бєлов"),
        ("Not us: nobody called Rachel White works here", "Rachel White"),
        # The address, in any case, with or without a name claimed.
        ("Адрес Director@StroyMontazh.ru не наш, не отвечайте туда", None),
    ],
)
def test_a_no_names_the_request_by_its_address_or_the_claimed_name(
    text: str, claimed: str | None
) -> None:
    assert named_in(text, FORGER, claimed, 85)


@pytest.mark.parametrize(
    ("text", "claimed"),
    [
        ("Мы ничего не просили!", "Игорь Белов"),
        ("Это не мы, Игорь у нас давно не работает", "Игорь Белов"),  # a first name alone
        ("Not us: nobody called Rachel works here", "Rachel White"),
        ("Not us", None),
    ],
)
def test_a_no_naming_neither_names_no_request(text: str, claimed: str | None) -> None:
    assert not named_in(text, FORGER, claimed, 85)

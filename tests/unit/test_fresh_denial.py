"""A registered contact writing a fresh mail (not a reply: no code) that disowns someone
outright answers the requests a sentence of it disowns: the address asked about, whole, or
the name its sender claimed, in Russian, Ukrainian or English. A first name alone, a name in
a signature or beside another matter, or a no that disowns nobody, names no request (review:
«Нет, мы уже оплатили. Иван Петров» denied Иван Петров's own new address)."""

from __future__ import annotations

import pytest

from services.verifier.confirmation import disowns, names_disowned

FORGER = "director@stroymontazh.ru"


@pytest.mark.parametrize(
    ("text", "claimed"),
    [
        ("Это не мы, никакого Игоря Белова у нас нет", "Игорь Белов"),
        ("Це не ми, жодного Ігоря Бєлова у нас немає", "Ігор Бєлов"),
        ("Not us: nobody called Rachel White works here", "Rachel White"),
        ("We don't know Rachel White.", "Rachel White"),
        # The address, whole, in any case, with or without a name claimed.
        ("Адрес Director@StroyMontazh.ru не наш, не отвечайте туда", None),
        ("Hello.\nThe address director@stroymontazh.ru is not ours.", None),
    ],
)
def test_a_sentence_disowning_the_address_or_the_claimed_name_names_the_request(
    text: str, claimed: str | None
) -> None:
    assert names_disowned(text, FORGER, claimed, 85)


@pytest.mark.parametrize(
    ("text", "claimed"),
    [
        ("Мы ничего не просили!", "Игорь Белов"),
        ("Это не мы, Игорь у нас давно не работает", "Игорь Белов"),  # a first name alone
        ("Not us: nobody called Rachel works here", "Rachel White"),
        ("Not us", None),
        # The name in a signature, or beside another matter: no one disowned.
        ("Нет, мы уже оплатили в пятницу.\n\nС уважением,\nИгорь Белов", "Игорь Белов"),
        ("No, we already paid on Friday.\n\nRegards,\nRachel White\nCEO", "Rachel White"),
        ("Ні, ми вже оплатили. Ігор Бєлов надіслав платіжку.", "Ігор Бєлов"),
        ("Our card was declined, so Rachel White paid by bank transfer.", "Rachel White"),
        ("Отказываемся от пакета внедрения. Игорь Белов", "Игорь Белов"),
        # Disowned in one sentence, named in another.
        ("Это не наш сотрудник. Игорь Белов уже в курсе.", "Игорь Белов"),
        # Another address that only ends like it.
        ("Not us. xdirector@stroymontazh.ru is a scammer", None),
    ],
)
def test_anything_less_names_no_request(text: str, claimed: str | None) -> None:
    assert not names_disowned(text, FORGER, claimed, 85)


def test_a_plain_no_disowns_nobody() -> None:
    assert disowns("Мы ничего не просили менять, это мошенники!")
    assert not disowns("Нет, мы уже оплатили в пятницу.")
    assert not disowns("Our card was declined.")

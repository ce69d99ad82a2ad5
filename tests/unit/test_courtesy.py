"""A message that only thanks, agrees or greets joins an open case without telling its
holders; anything that asks, adds or complains is read (ru, uk, en)."""

from __future__ import annotations

import pytest

from services.escalator.courtesy import courtesy_only


@pytest.mark.parametrize(
    "text",
    [
        "Спасибо!",
        "Спасибо большое, будем ждать ответа!",
        "Ок",
        "Дякую, чекаємо",
        "Добре, зрозуміло. З повагою",
        "ok, thanks",
        "Thank you so much, we will wait for your reply.",
    ],
)
def test_courtesy_alone_tells_nobody(text: str) -> None:
    assert courtesy_only(text)


@pytest.mark.parametrize(
    "text",
    [
        "Есть новости? Ждём ответа.",
        "?",
        "Спасибо, но экспорт так и не работает.",
        "Дякую, а коли буде рахунок?",
        "Thanks, the invoice number is 4512.",
        "ok " * 12,
    ],
)
def test_a_question_a_detail_or_a_complaint_is_read(text: str) -> None:
    assert not courtesy_only(text)

"""A message that only thanks, agrees or greets joins an open case without telling its
holders; anything that asks, adds or complains is read (ru, uk, en)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.escalator.courtesy import courtesy_only, holders_hear


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


NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
QUIET = timedelta(minutes=10)


@pytest.mark.parametrize(
    ("text", "told_ago", "heard"),
    [
        ("Вы тут?", None, True),  # nobody told of the case yet
        ("Вы тут?", timedelta(minutes=2), False),  # told moments ago: a chat's next line
        ("Ви тут? Відповідайте", timedelta(minutes=10), True),  # the window passed
        ("Any news?", timedelta(hours=1), True),
        ("Спасибо!", None, False),  # courtesy is never told
    ],
)
def test_holders_hear_a_line_once_per_quiet_window(
    text: str, told_ago: timedelta | None, heard: bool
) -> None:
    last_told = None if told_ago is None else NOW - told_ago
    assert holders_hear(text, last_told, NOW, QUIET) is heard

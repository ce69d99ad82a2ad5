"""Legal reads the client's words whole, up to a bound: a pasted 900 kB statement made a
legal notice (and the notify request under it, near NATS's 1 MiB payload) of that size."""

from __future__ import annotations

import pytest

from services.escalator.notifications import QUOTED_CHARS, quoted_text
from services.notifier import domain
from shared.contracts import Language
from shared.text_head import head_of
from tests.unit.test_notification_rendering import DATA

pytestmark = pytest.mark.unit

LEFT_OUT = {
    "ru": "ещё 1234 знаков не показано: полный текст — в исходном сообщении",
    "uk": "ще 1234 знаків не показано: повний текст — у вихідному повідомленні",
    "en": "1234 more characters not shown: the full text is in the original message",
}


def test_a_letter_is_quoted_whole_and_a_pasted_statement_up_to_the_bound() -> None:
    letter = "Если отключите, подам в суд. Карта 4111 1111 1111 1111."
    assert quoted_text(letter) == ("Если отключите, подам в суд. Карта **** **** **** 1111.", 0)

    statement = "Подам в суд. " + "строка выписки 45123; " * 10_000
    quoted, left_out = quoted_text(statement)
    assert len(quoted) <= QUOTED_CHARS and quoted.startswith("Подам в суд.")
    assert left_out == len(statement) - len(quoted) > 0
    assert not quoted.endswith("4512")  # cut before a word, not inside a number


def test_the_head_is_cut_where_a_word_ends() -> None:
    assert head_of("счёт № 45123 оплачен", 10) == "счёт №"
    assert head_of("счёт № 45123 оплачен", 12) == "счёт № 45123"
    assert head_of("короткий", 100) == "короткий"
    assert head_of("x" * 50, 10) == "x" * 10  # one word longer than the bound


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.parametrize("kind", ["legal_notice", "staff_digest"])
def test_staff_read_how_much_was_left_out(kind: str, language: Language) -> None:
    data = {**DATA[kind], "message_text": "Подам в суд.", "message_text_left_out": 1234}
    mail = domain.render_kind(kind, language, data)
    assert LEFT_OUT[language] in mail.body and mail.html and LEFT_OUT[language] in mail.html
    whole = domain.render_kind(kind, language, {**data, "message_text_left_out": 0})
    assert LEFT_OUT[language] not in whole.body

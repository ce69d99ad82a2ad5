"""A client writing into an open case that the problem is gone ("Всё заработало, спасибо")
is read narrowly: only a message that says nothing else drops the promise to the client
(client_fixed.py); a "not", a "but", a question or a complaint is a follow-up like any
other."""

from __future__ import annotations

import pytest

from services.escalator.client_fixed import says_fixed


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Всё заработало, спасибо!", "Всё заработало"),
        ("Спасибо, все заработало, можно закрывать обращение, хорошего дня", "все заработало"),
        ("Вопрос снят, спасибо", "Вопрос снят"),
        ("Уже не актуально", "Уже не актуально"),
        ("Проблема решена, благодарю за оперативность", "Проблема решена"),
        ("Ошибки больше нет", "Ошибки больше нет"),
        ("Вже все працює, дякую!", "Вже все працює"),
        ("Запрацювало, дякую", "Запрацювало"),
        ("Питання знято", "Питання знято"),
        ("Проблеми більше немає, дякую", "Проблеми більше немає"),
        ("It works now, thanks!", "It works now"),
        ("It’s fixed, thank you", "It’s fixed"),
        ("Everything is working again, thanks guys", "Everything is working again"),
        ("Never mind, figured it out", "Never mind, figured it out"),
        ("Вы починили, спасибо!", "Вы починили"),
        ("Ви виправили, дякую", "Ви виправили"),
        ("You fixed it, thanks!", "You fixed it"),
        ("The problem is gone, thanks", "The problem is gone"),
        ("Всё заработало 👍", "Всё заработало"),
    ],
)
def test_a_message_saying_only_that_the_problem_is_gone_says_so(text: str, said: str) -> None:
    assert says_fixed(text) == said


@pytest.mark.parametrize(
    "text",
    [
        # Turned round by a "not" or "still".
        "Ещё не заработало",
        "Так и не заработало, вы обещали",
        "Досі не працює",
        "still not working now",
        "You haven't fixed it",
        # Something is still wrong, or more is said than that it works.
        "Всё работает очень медленно",
        "Заработало, но счёт всё ещё неверный",
        "Запрацювало, але рахунок досі неправильний",
        "It works now, but the invoice is still wrong",
        "У меня больше нет сил ждать",
        "We are working now without the export",
        # A question asks whether it works.
        "Заработало?",
        "Is it fixed now?",
        # A chat's question without its "?" (review): "you fixed it" needs thanks.
        "Вы починили",
        "Уже починили",
        "Ви виправили",
        "have you fixed it already",
        "Have you resolved it already",
        # Sarcasm said by a face.
        "Всё починили 🤡",
        "Всё работает 🙄🙄🙄",
        # Gone is the problem's, not the data's or the money's.
        "hello, it's gone",
        "thanks, it's gone",
        # Nothing of the kind.
        "Есть новости по счёту?",
        "Спасибо, ждём",
    ],
)
def test_anything_more_or_less_is_a_follow_up_like_any_other(text: str) -> None:
    assert says_fixed(text) is None


def test_a_long_message_says_more_than_that_it_works() -> None:
    assert says_fixed("Всё заработало, спасибо. " + "Спасибо большое, " * 20) is None

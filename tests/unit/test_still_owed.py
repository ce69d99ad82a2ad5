"""«Всё заработало» drops only what it settles: a case that also holds an overcharge or a
compensation asked for keeps the answer promised to the client, and its holders read what
is still owed (acceptance, seed 001: orlov@alfa-group.ru's export bug and «сказали, что
тариф стоит 5000, а выставили 7000»; ru/uk/en)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.escalator.client_fixed import MISINFORMATION, StillOwed, still_owed
from services.escalator.hold_notices import follow_up_notices
from services.escalator.problem_keys import keyed
from services.escalator.staff_language import StaffLanguages
from services.notifier.domain import render
from shared.contracts import Language
from tests.unit.test_confirmation_outcomes import BILLING, MANAGER, held
from tests.unit.test_default_policy import decide
from tests.unit.test_follow_ups import NOW
from tests.unit.test_routing_policy import identity, message, verified_message

FIRST_MAIL = {
    "ru": "Не работает экспорт отчётов. И ещё: нам сказали, что тариф стоит 5000, а "
    "выставили 7000. Требуем компенсацию.",
    "uk": "Не працює експорт звітів. І ще: нам сказали, що тариф коштує 5000, а виставили "
    "7000. Вимагаємо компенсацію.",
    "en": "The export won't open since Monday. You told us the plan costs 5000, but you "
    "charged us 7000. We demand compensation.",
}
ONLY_BROKEN = {
    "ru": "Экспорт отчётов не работает с понедельника.",
    "uk": "Експорт звітів не працює з понеділка.",
    "en": "The export won't open since Monday.",
}


def recorded(text: str, language: str) -> dict[str, list[dict[str, object]]]:
    """The signals each case the message opens records, by kind (as the escalator keys them)."""
    return {
        kind: keyed(d.signals, text, language)  # type: ignore[arg-type]
        for kind, d in decide(text).items()
    }


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_it_works_now_settles_nothing_of_an_overcharge_or_a_compensation(language: str) -> None:
    cases = recorded(FIRST_MAIL[language], language)

    failure = still_owed("service_failure", cases["service_failure"])
    assert failure is not None and failure.matters == (MISINFORMATION,)
    assert any("5000" in w for w in failure.words)
    # The compensation asked for is a case of its own: still owed whatever works now.
    compensation = still_owed("compensation", cases["compensation"])
    assert compensation is not None and compensation.matters == ("compensation_demand",)


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_case_of_only_a_thing_broken_owes_nothing_once_it_works(language: str) -> None:
    cases = recorded(ONLY_BROKEN[language], language)

    assert still_owed("service_failure", cases["service_failure"]) is None


def test_every_message_of_the_case_counts_and_form_is_no_matter() -> None:
    broken = recorded(ONLY_BROKEN["ru"], "ru")["service_failure"]
    form = {"name": "service_failure", "evidence": [{"rule": "form.caps", "text": "ЭКСПОРТ"}]}
    assert still_owed("service_failure", [*broken, form]) is None
    billing = {"name": "billing_dispute", "evidence": [{"rule": "ru.bill.x", "text": "счёт"}]}
    assert still_owed("service_failure", [*broken, billing]) == StillOwed(
        ("billing_dispute",), ("счёт",)
    )
    # A case of another kind owes what it is about, whatever its evidence kept.
    assert still_owed("billing", []) == StillOwed(("billing_dispute",), ())


OWED = {
    "ru": (
        "[P3] Клиент пишет, что всё работает, но обещанный ответ всё ещё нужен — ",
        "клиент пишет, что всё работает: «Всё заработало, спасибо!»; но ответ клиенту по "
        "тому, что мы сказали клиенту (цена, условия), компенсации всё ещё обещан "
        "(«сказали, что тариф стоит 5000, а выставили 7000»)",
        "Клиенту обещан ответ по существу не позднее",
    ),
    "uk": (
        "[P3] Клієнт пише, що все працює, але обіцяна відповідь досі потрібна — ",
        "клієнт пише, що все працює: «Всё заработало, спасибо!»; але відповідь клієнтові "
        "щодо того, що ми сказали клієнтові (ціна, умови), компенсації досі обіцяна "
        "(«сказали, что тариф стоит 5000, а выставили 7000»)",
        "Клієнтові обіцяно відповідь по суті не пізніше",
    ),
    "en": (
        "[P3] The client says it works now, but the answer promised is still owed — ",
        "the client says it works now: «Всё заработало, спасибо!»; but the answer on what we "
        "told the client (a price, terms), the compensation is still promised to the client "
        "(«сказали, что тариф стоит 5000, а выставили 7000»)",
        "The client is promised a substantive answer by",
    ),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_holders_read_what_the_promise_still_owes(language: Language) -> None:
    case = held("service_failure", ("billing", BILLING), ("account_manager", MANAGER))
    case = replace(case, client_reply_by=NOW + timedelta(hours=4))
    verified = verified_message(message("Всё заработало, спасибо!"), identity("verified"))
    owed = StillOwed(
        (MISINFORMATION, "compensation_demand"),
        ("сказали, что тариф стоит 5000, а выставили 7000",),
    )

    notes = follow_up_notices(
        case, verified, {}, StaffLanguages(language), NOW, ("Всё заработало", True), owed
    )

    assert {n.data["change"] for n in notes} == {"client_says_fixed_owed"}
    (fact,) = notes[0].data["change_items"]
    assert fact["kind"] == "client_says_fixed_owed"
    subject, said, promised = OWED[language]
    rendered = render(notes[0])
    body = " ".join(rendered.body.split())
    assert rendered.subject.startswith(subject)
    assert said in body
    assert "careline client-reply CL-" in body
    assert promised in body  # by when, still (the briefing keeps it)

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
from services.escalator.notifications import follow_up_data
from services.escalator.placement import closed_promise, known_problems, promise_over
from services.escalator.problem_keys import keyed
from services.escalator.staff_language import StaffLanguages
from services.notifier.domain import render, render_kind
from services.notifier.samples import SAMPLES
from shared.contracts import Language
from tests.unit.test_confirmation_outcomes import BILLING, MANAGER, held
from tests.unit.test_default_policy import decide
from tests.unit.test_follow_ups import NOW
from tests.unit.test_routing_policy import escalation, identity, message, verified_message

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


# --- a follow-up when no promise stands names no date (item: untracked staff deadline) ---

UNDATED = {
    ("service_failure_notice", "ru"): "Мы сообщим вам причину и план исправления",
    ("service_failure_notice", "uk"): "Ми повідомимо вам причину й план виправлення",
    ("service_failure_notice", "en"): "with the cause and our plan for the fix, with a firm date.",
    ("outage_report_ack", "ru"): "Мы напишем вам, что показала проверка",
    ("outage_report_ack", "uk"): "Ми напишемо вам, що показала перевірка",
    ("outage_report_ack", "en"): "We will write to you with what the check found",
    ("billing_dispute_ack", "ru"): "Мы сами сообщим вам результат",
    ("billing_dispute_ack", "uk"): "Ми самі повідомимо вам результат",
    ("billing_dispute_ack", "en"): "We will tell you the result ourselves",
}


@pytest.mark.parametrize(("kind", "language"), sorted(UNDATED))
def test_a_follow_up_with_no_promise_standing_names_no_date(kind: str, language: str) -> None:
    data = {**SAMPLES[kind], "follow_up": True, "reply_by": None, "ack_deadline": None}
    dated = {**SAMPLES[kind], "follow_up": True}

    for rendered in (render_kind(kind, language, data), render_kind(kind, language, dated)):
        assert rendered.subject
    undated = render_kind(kind, language, data)
    body = " ".join(undated.body.split())
    assert UNDATED[kind, language] in body
    # The sample's date (and its deadline), said when a promise stands, is nowhere now.
    said = " ".join(render_kind(kind, language, dated).body.split())
    assert said != body and len(said) > len(body)
    html = " ".join((undated.html or "").split())
    assert UNDATED[kind, language].split(",")[0] in html


@pytest.mark.parametrize("kind", ["service_failure_notice", "outage_report_ack"])
def test_the_follow_up_data_drops_the_staff_deadline_when_no_promise_stands(kind: str) -> None:
    text = ONLY_BROKEN["ru"]
    verified = verified_message(message(text), identity("verified"))
    event = escalation(decide(text)["service_failure"], verified)

    # The new dates ran out: no promise stands, and the staff's deadline is no date to say.
    assert follow_up_data(kind, event) == {
        "follow_up": True,
        "reply_by": None,
        "ack_deadline": None,
    }
    promised = event.model_copy(update={"client_reply_by": NOW + timedelta(hours=4)})
    assert follow_up_data(kind, promised) == {"follow_up": True}
    assert follow_up_data("request_ack", promised) == {"follow_up": True}


def test_a_promise_kept_is_over_and_one_used_up_is_not() -> None:
    to = {"recipient": "buh@stroymontazh.ru", "language": "ru"}

    assert not promise_over(to)  # its new dates ran out: no new one, a person answers
    assert not promise_over(None) and not promise_over({"recipient": None})  # none, disowned
    answered = closed_promise(to, "answered")
    assert promise_over(answered) and answered == {**to, "over": "answered"}
    assert closed_promise(None, "answered") is None


def test_after_it_works_now_the_same_problem_again_is_news() -> None:
    export = {"name": "service_failure", "evidence": [{"rule": "ru.fail.not_working"}]}
    insult = {"name": "abuse", "evidence": [{"rule": "ru.insult.strong"}]}
    to = {"recipient": "buh@stroymontazh.ru"}

    assert known_problems([export, insult], to) == [export, insult]
    assert known_problems([export, insult], closed_promise(to, "answered")) == [export, insult]
    fixed = closed_promise(to, "client_says_fixed")
    assert known_problems([export, insult], fixed) == [insult]

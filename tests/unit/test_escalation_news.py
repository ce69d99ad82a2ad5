"""News in an open case: what a merged message brings that the escalation did not have,
and who hears it (docs/escalations.md, Merging)."""

from __future__ import annotations

from typing import Any

import pytest

from services.escalator.detection import detect
from services.escalator.notifications import notified_staff, staff_notifications, to_other_holders
from services.escalator.placement import News, news_of
from services.escalator.policy import evaluate
from services.escalator.problem_keys import keyed, problem_keys, same_thing
from services.escalator.staff_language import StaffLanguages
from shared.contracts import Signal, SignalEvidence
from tests.unit.test_routing_policy import POLICY, escalation, identity, message, verified_message

pytestmark = pytest.mark.unit


def test_news_is_evidence_of_a_kind_the_escalation_did_not_have() -> None:
    def signal(name: str, *evidence: tuple[str, str]) -> dict[str, object]:
        pieces = [{"rule": r, "text": t, "start": 7, "end": 7 + len(t)} for r, t in evidence]
        return {"name": name, "evidence": pieces}

    def words(news: tuple[News, ...]) -> list[str]:
        return [" ".join(n.text.split()) for n in news]

    before = [signal("legal_threat", ("ru.legal.sue", "подам на вас в суд"))]
    said_again = [signal("legal_threat", ("ru.legal.sue", "Подам в суд"))]
    shouted = [signal("legal_threat", ("form.all_caps", "ВЫ"))]
    new = [
        signal("legal_threat", ("ru.legal.sue", "подам в суд")),
        signal("service_failure", ("ru.fail.denied_what_exists", "сказал, что   нет")),
    ]

    insulted = [signal("abuse", ("ru.mat.x", "козлы"))]
    assert news_of(before, said_again) == news_of(before, shouted) == ()
    assert news_of(before, insulted) == ()  # another insult is no new fact
    assert words(news_of(before, new)) == ["сказал, что нет"]
    assert news_of(before, new)[0][:3] == ("service_failure", 7, 7 + len("сказал, что   нет"))
    assert words(news_of(None, before)) == ["подам на вас в суд"]


def test_news_of_the_case_reaches_every_holder_once() -> None:
    """A merge with news tells the rule's roles; whoever else holds the case (a climb's
    deputy, a reassignment's owner on a webhook) gets the same notice, once."""
    text = "Экспорт до сих пор не работает, и вчера ваш оператор сказал, что такой функции нет."
    verified = verified_message(message(text), identity("verified"))
    signals = detect(text, language="ru")
    (decision,) = [d for d in evaluate(POLICY, signals, verified.identity) if d.rule.kind]
    event = escalation(decision, verified)
    occasion = ("news", verified.message_id)
    staff = staff_notifications(POLICY, decision, event, verified, {}, occasion)
    notified = [
        *notified_staff(staff),
        {"role": "deputy", "address": "Deputy.Support@careline.example", "level": 2},
        {"role": "deputy", "address": "deputy.support@careline.example", "level": 3},
        {"role": "supervisor", "address": "webhook:https://hooks.example/sv", "level": 2},
    ]

    copies = to_other_holders(staff, notified, occasion, StaffLanguages("ru"))

    assert [(c.recipient_role, c.channel, c.recipient) for c in copies] == [
        ("deputy", "email", "Deputy.Support@careline.example"),
        ("supervisor", "webhook", "https://hooks.example/sv"),
    ]
    assert {c.notification_id for c in copies}.isdisjoint(n.notification_id for n in staff)
    assert copies == to_other_holders(
        staff, notified, occasion, StaffLanguages("ru")
    )  # the same ids again
    assert all(c.data["reason"] == staff[0].data["reason"] for c in copies)


def keyed_signals(text: str, language: str) -> list[dict[str, Any]]:
    """A message's signals as its escalation keeps them (problems keyed)."""
    return keyed(detect(text, language=language), text, language)


def news(case: list[str], message: str, language: str) -> list[str]:
    before = [s for text in case for s in keyed_signals(text, language)]
    return [n.text for n in news_of(before, keyed_signals(message, language))]


@pytest.mark.parametrize(
    ("language", "case", "again", "new"),
    [
        (
            "en",
            "The dashboard is still not working.",
            # The same problem in other words: another entry, an inflection, a repeat mark.
            "Dashboards still broken again, no idea why.",
            # Another problem, found by the same entry ("still ...").
            "The CSV export is still broken, it returns an empty file.",
        ),
        # Another entry and another form of the failure word ("broke", "broken").
        (
            "en",
            "The export broke again.",
            "The exports are still broken.",
            "Login is still broken.",
        ),
        (
            "ru",
            "Экспорт отчётов до сих пор не работает.",
            "Экспорт до сих пор не работает, сколько можно.",
            "Личный кабинет до сих пор не работает.",
        ),
        (
            "uk",
            "Експорт звітів досі не працює.",
            "Експорт досі не працює, скільки можна.",
            "Особистий кабінет досі не працює.",
        ),
    ],
)
def test_a_problem_is_news_when_it_is_about_another_thing_not_by_its_entry(
    language: str, case: str, again: str, new: str
) -> None:
    assert news([case], again, language) == []
    fresh = news([case], new, language)
    assert len(fresh) == 1 and fresh[0] in new
    # Once in the case, it is no news either; the two problems apart are both known.
    assert news([case, new], again, language) == news([case, new], new, language) == []


def test_what_a_problem_is_about_is_its_clauses_content_words() -> None:
    text = (
        "Экспорт отчётов до сих пор не работает, а вчера ваш оператор сказал, что такой "
        "функции нет, хотя она есть."
    )
    keys = problem_keys(text, detect(text, language="ru"), "ru")
    # The failure words, the pronouns and the time are not what failed.
    assert sorted(set(keys.values())) == [("оператор",), ("отчет", "экспорт")]
    english = "Our invoices for March are wrong."
    assert problem_keys(english, detect(english, language="en"), "en") == {}  # no failure


def failure_keys(text: str, evidence: str, language: str) -> tuple[str, ...]:
    """The key of a failure whose evidence is `evidence` in `text` (found by hand: what
    is keyed does not hang on which lexicon entry finds it)."""
    start = text.index(evidence)
    found = SignalEvidence(start=start, end=start + len(evidence), text=evidence, rule="x")
    signal = Signal(name="service_failure", score=0.9, evidence=[found])
    (key,) = problem_keys(text, [signal], language).values()
    return key


@pytest.mark.parametrize(
    ("language", "a", "b", "key"),
    [
        (
            "en",
            ("The invoices page won't load", "won't load"),
            ("invoice page still not loading", "still not loading"),
            ("invoice", "page"),
        ),
        ("en", ("export broke", "broke"), ("the exports are broken", "broken"), ("export",)),
        # Irregular forms, which no likeness of letters joins ("paid"/"pay": 57 of 100).
        (
            "en",
            ("The plan we paid for was charged twice", "charged twice"),
            ("you charged twice for the plan we pay for", "charged twice"),
            ("pay", "plan"),
        ),
        (
            "ru",
            ("Экспорты отчётов не работают", "не работают"),
            ("экспорт отчета опять не работает", "не работает"),
            ("отчет", "экспорт"),
        ),
        (
            "uk",
            ("Експорти звітів не працюють", "не працюють"),
            ("експорт звіту знову не працює", "не працює"),
            ("експорт", "звіт"),
        ),
        # English words in a Russian message are English.
        (
            "ru",
            ("Не работают invoices", "Не работают"),
            ("invoice опять не работает", "не работает"),
            ("invoice",),
        ),
    ],
)
def test_a_problem_is_keyed_by_its_words_lemmas(
    language: str, a: tuple[str, str], b: tuple[str, str], key: tuple[str, ...]
) -> None:
    assert failure_keys(*a, language) == failure_keys(*b, language) == key


def test_problems_about_different_things_have_different_lemmas() -> None:
    export, login = (
        failure_keys("export broken", "broken", "en"),
        failure_keys("login fails", "fails", "en"),
    )
    assert (export, login) == (("export",), ("login",))
    assert not same_thing(export, login)


@pytest.mark.parametrize(
    "words",
    [
        "works",
        "worked",
        "working",
        "breaks",
        "broke",
        "broken",
        "fails",
        "failed",
        "failing",
        "errors",
        "issues",
        "fixes",
        "fixed",
        "isn't",
        "won’t",
        "didn't",
        "shouldn't",
        "is gone",
        "went down",
        "when you're",
        "for days",
        "nights",
    ],
)
def test_every_form_of_a_not_what_word_is_left_out(words: str) -> None:
    """The word lists hold lemmas: the forms of a word that only says something failed,
    or when, are left out as the word is."""
    assert failure_keys(f"The export {words} again", "again", "en") == ("export",)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("export", "reports"), ("exports",), True),  # a shorter repeat, an inflection
        (("експорт",), ("экспорт", "отчет"), True),  # another language's letters
        (("1043", "invoice"), ("1045", "invoice"), False),  # numbers are told exactly
        (("dashboard", "morning"), ("export", "morning"), False),  # half is not enough
        (("dashboard",), (), False),  # naming nothing is no match: the entry decides
    ],
)
def test_the_same_thing_is_most_of_the_shorter_keys_words_alike(
    a: tuple[str, ...], b: tuple[str, ...], same: bool
) -> None:
    assert same_thing(a, b) is same_thing(b, a) is same


def test_a_thing_named_after_a_vague_failure_is_news_a_vague_repeat_is_not() -> None:
    vague, named = "It still doesn't work!", "The CSV export still doesn't work."
    assert news([vague], named, "en") == ["still doesn't"]
    assert news([named], vague, "en") == []  # "still ..." the case has: by its entry


def test_an_escalation_kept_before_problems_were_keyed_goes_by_the_entry() -> None:
    before = [
        {**s, "evidence": [{k: v for k, v in e.items() if k != "about"} for e in s["evidence"]]}
        for s in keyed_signals("The dashboard is still not working.", "en")
    ]
    now = keyed_signals("The CSV export is still broken.", "en")
    assert news_of(before, now) == ()


def test_a_second_disputed_charge_is_news_the_same_one_again_is_not() -> None:
    case = "You charged us twice for invoice 1043."
    assert news([case], "Invoice 1043 was charged twice, fix it.", "en") == []
    assert news([case], "You also charged us twice for invoice 1045.", "en") != []

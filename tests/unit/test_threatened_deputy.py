"""A client's threat that names the account manager's deputy (seeds 002/003: protect the
staff). The deputy stands in for a threatened manager and is the next one threatened («А
вашему Игорю передайте, что я его найду»): the CRM's deputy rides on the identity
(`account_manager.deputy`), is named as the manager is (case forms, pet names), told apart,
spared the client's cases, and the policy's next role stands in for both."""

from __future__ import annotations

import dataclasses
import html

import pytest

from services.escalator.detection import detect
from services.escalator.history import History
from services.escalator.notifications import account_manager_stand_in, staff_notifications
from services.escalator.policy import Situation, evaluate
from services.escalator.policy_rules import Notify
from services.escalator.staff_language import of_message
from services.escalator.threatened import (
    THREATENED_KIND,
    is_spared,
    spared_staff,
    threatened_notices,
    threatened_staff,
    with_threatened,
)
from services.notifier.domain import render
from services.notifier.reasons import condition_said
from shared.contracts import Language, StaffRef
from tests.unit.test_routing_policy import (
    NOW,
    POLICY,
    escalation,
    identity,
    message,
    verified_message,
)

pytestmark = pytest.mark.unit

MANAGER_EMAIL = "o.petrova@careline.example"
DEPUTY_EMAIL = "deputy.person@careline.example"


def with_deputy(deputy: str = "Игорь Соколов", language: str | None = None) -> StaffRef:
    return StaffRef(
        id="am-petrova",
        name="Ольга Петрова",
        email=MANAGER_EMAIL,
        deputy=StaffRef(id="am-deputy", name=deputy, email=DEPUTY_EMAIL, language=language),
    )


def named(text: str, deputy: str = "Игорь Соколов") -> list[tuple[str, str, str]]:
    """Whom of the manager and the deputy called `deputy` the threats of `text` name."""
    people = threatened_staff(text, detect(text), with_deputy(deputy))
    return [(p.role, p.staff_id, p.by) for p in people]


DEPUTY_NAMED = [("deputy", "am-deputy", "name")]


@pytest.mark.parametrize(
    ("deputy", "text"),
    [
        ("Игорь Соколов", "А вашему Игорю передайте, что я его найду."),
        ("Игорь Соколов", "Игоря я найду и ноги ему переломаю."),
        ("Игорь Соколов", "И Соколову передайте: я знаю, где он живёт."),
        ("Александр Ким", "Саше передайте: я знаю, где он живёт."),  # a pet name
        ("Ігор Коваль", "Передайте вашому Ігорю, що я знаю, де він живе."),
        ("Олександр Бондар", "Передайте Сашку, що я знаю, де він живе."),
        ("Igor Smith", "Tell Igor I know where he lives."),
        ("Igor Smith", "Tell your manager Igor I will be waiting for him after work."),
        ("Игорь Соколов", "Игорь, вы такой красивый, давайте встретимся вечером?"),
    ],
)
def test_a_threat_naming_the_deputy_is_aimed_at_the_deputy_not_the_manager(
    deputy: str, text: str
) -> None:
    # «вашему менеджеру Игорю»: "your manager" named by name is that one, not the manager.
    assert named(text, deputy) == DEPUTY_NAMED


@pytest.mark.parametrize(
    "text",
    [
        "Передайте Марине, что я знаю, где она живёт.",  # neither of them
        "Передайте вашему Дмитрию, что я его найду.",
        "Tell Mark I know where he lives.",
        "Игорь, добрый день! Я знаю, где вы живёте.",  # a greeting, the threat apart
        "Игорь, я подам на вас в суд.",  # a threat of court: legal's
    ],
)
def test_a_name_that_is_neither_the_managers_nor_the_deputys_names_nobody(text: str) -> None:
    assert named(text) == []


def test_a_threat_naming_both_names_both_and_your_manager_is_still_the_manager() -> None:
    both = "Передайте Ольге и Игорю, что я знаю, где они живут."
    assert named(both) == [("account_manager", "am-petrova", "name"), *DEPUTY_NAMED]
    role = "Передайте вашему менеджеру, что я его найду и ноги ему переломаю."
    assert named(role) == [("account_manager", "am-petrova", "role")]


def test_without_a_deputy_on_file_the_deputys_name_names_nobody() -> None:
    text = "А вашему Игорю передайте, что я его найду."
    alone = with_deputy().model_copy(update={"deputy": None})
    assert threatened_staff(text, detect(text), alone) == []


def decided(text: str, language: str | None = None):  # type: ignore[no-untyped-def]
    am = with_deputy(language=language)
    verified = verified_message(message(text), identity("verified", manager=am))
    signals = detect(text)
    people = threatened_staff(text, signals, am)
    situation = Situation(NOW, "email", text, History())
    decisions = evaluate(POLICY, signals, verified.identity, situation)
    return verified, people, [with_threatened(d, people) for d in decisions]


THREAT = "А вашему Игорю передайте, что я его найду."
SAID = {
    "ru": "угроза называет по имени заместителя менеджера клиента (Игорь Соколов)",
    "uk": "погроза називає на ім'я заступника менеджера клієнта (Игорь Соколов)",
    "en": "the threat names the account manager's deputy (Игорь Соколов)",
}
ALONE = {
    "ru": ["Клиент угрожает лично вам", "угроза называет вас по имени", "в одиночку"],
    "uk": ["Клієнт погрожує особисто вам", "погроза називає вас на ім'я", "самі"],
    "en": ["A client threatens you personally", "a threat names you", "alone"],
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_deputy_is_told_apart_and_the_holders_read_who_is_threatened(
    language: Language,
) -> None:
    from services.notifier.domain import _environment

    verified, people, decisions = decided(THREAT, language)
    (violence,) = [d for d in decisions if d.rule.kind == "violence"]
    assert "the threat names the deputy am-deputy by name" in violence.reason
    (fact,) = [f for f in violence.facts if f.kind.startswith("threatened_")]
    assert fact.kind == "threatened_deputy_name"
    reasons = _environment().get_template("_staff_labels.j2").module.REASONS  # type: ignore[attr-defined]
    assert condition_said(fact.item(), reasons[language]).startswith(SAID[language])

    event = escalation(violence, verified)
    (note,) = threatened_notices(
        people, violence, event, verified, of_message(POLICY, verified.identity)
    )
    assert (note.kind, note.recipient, note.recipient_role) == (
        THREATENED_KIND,
        DEPUTY_EMAIL,
        "deputy",
    )
    assert note.language == language  # the CRM's language of the deputy
    rendered = render(note)
    for words in ALONE[language]:
        assert words in rendered.subject + "\n" + rendered.body, words


DEMAND = "Верните деньги за подписку."


def _demand(text: str):  # type: ignore[no-untyped-def]
    verified, people, decisions = decided(text)
    (demand,) = [d for d in decisions if d.rule.kind == "compensation"]
    assert demand.rule.roles == ["account_manager"]
    return verified, people, demand


def test_the_crms_deputy_stands_in_for_the_threatened_manager_at_their_own_address() -> None:
    verified, people, demand = _demand("Передайте Ольге: я знаю, где она живёт. " + DEMAND)
    spared = spared_staff(people, [])
    assert spared == {"am-petrova"}

    (note,) = staff_notifications(
        POLICY, demand, escalation(demand, verified), verified, threatened=spared
    )

    assert (note.recipient_role, note.recipient) == ("deputy", DEPUTY_EMAIL)
    assert note.recipient != POLICY.address("deputy")
    assert note.data["stand_in_for"] == "threatened_account_manager"


HEAD_STANDS_IN = {
    "ru": ("угрожает своему менеджеру и заместителю менеджера", "вместо них обоих"),
    "uk": ("погрожує своєму менеджерові та заступникові менеджера", "замість них обох"),
    "en": ("threatens their account manager and the manager's deputy", "in place of both"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_threatened_deputy_is_passed_over_and_the_head_of_support_stands_in(
    language: Language,
) -> None:
    # After the deputy stood in, the client threatens the deputy; the manager is spared by
    # the earlier threat's hold (its staff id), the deputy by this one.
    verified, people, demand = _demand(THREAT + " " + DEMAND)
    spared = spared_staff(people, []) | {"am-petrova"}
    assert spared == {"am-petrova", "am-deputy"}

    (note,) = staff_notifications(
        POLICY, demand, escalation(demand, verified), verified, threatened=spared
    )

    assert (note.recipient_role, note.recipient) == (
        "head_of_support",
        POLICY.address("head_of_support"),
    )
    # Their notice says the deputy is threatened too, not only the manager.
    assert note.data["stand_in_for"] == "threatened_deputy"
    rendered = render(note.model_copy(update={"language": language}))
    for words in HEAD_STANDS_IN[language]:
        assert words in rendered.body, words
        assert rendered.html is not None and words in html.unescape(rendered.html), words


def test_a_threatened_deputy_alone_leaves_the_managers_cases_with_the_manager() -> None:
    verified, people, demand = _demand(THREAT + " " + DEMAND)

    (note,) = staff_notifications(
        POLICY, demand, escalation(demand, verified), verified, threatened=spared_staff(people, [])
    )

    assert (note.recipient_role, note.recipient) == ("account_manager", MANAGER_EMAIL)


def test_when_the_rule_tells_the_head_of_support_it_holds_the_case_for_both_spared() -> None:
    verified, _, demand = _demand(THREAT + " " + DEMAND)
    head = Notify(role="head_of_support")
    both = dataclasses.replace(
        demand, rule=demand.rule.model_copy(update={"notify": [*demand.rule.notify, head]})
    )
    spared = {"am-petrova", "am-deputy"}

    notes = staff_notifications(
        POLICY, both, escalation(both, verified), verified, threatened=spared
    )

    # Not the director: the head of support, next after the deputy, has it already.
    assert [n.recipient_role for n in notes] == ["head_of_support"]
    assert account_manager_stand_in(POLICY, ["account_manager"], with_deputy(), spared) == (
        "head_of_support",
        POLICY.address("head_of_support"),
    )
    # Nobody on file: the policy's deputy address, as before.
    assert account_manager_stand_in(POLICY, []) == ("deputy", POLICY.address("deputy"))


def test_a_spared_deputy_holding_a_case_is_spared_its_news() -> None:
    am = with_deputy()
    deputy = {"role": "deputy", "address": DEPUTY_EMAIL.upper()}
    policy_deputy = {"role": "deputy", "address": "deputy.support@careline.example"}

    assert is_spared(deputy, {"am-deputy"}, am)
    assert not is_spared(deputy, {"am-petrova"}, am)
    assert not is_spared(policy_deputy, {"am-deputy"}, am)


# A common word at a sentence's start is no name, its capital being the sentence's; a
# word addressing someone («Вера, …», "Bill, …") is, wherever it stands.
@pytest.mark.parametrize(
    ("manager_name", "deputy", "text", "expected"),
    [
        ("Надежда Ким", "Игорь Соколов", "Надежды у вас нет, я знаю где вы живёте.", []),
        ("Вера Ким", "Игорь Соколов", "Веры у вас нет, я знаю, где вы живёте.", []),
        ("Надія Коваль", "Ігор Бондар", "Надії у вас немає, я знаю, де ви живете.", []),
        (
            "Ольга Петрова",
            "Bill Jones",
            "Bill me again and I will come to your office and break your legs.",
            [],
        ),
        (
            "Hope Smith",
            "Igor Smith",
            "Hope you like hospital food, I will break your legs.",
            [],
        ),
        (
            "Вера Ким",
            "Игорь Соколов",
            "Вера, я знаю, где вы живёте.",
            [("account_manager", "am-petrova", "name")],
        ),
        (
            "Надежда Ким",
            "Игорь Соколов",
            "Надежде передайте: я знаю, где она живёт.",
            [("account_manager", "am-petrova", "name")],
        ),
        (
            "Ольга Петрова",
            "Bill Jones",
            "Bill, I will come to your office and break your legs.",
            DEPUTY_NAMED,
        ),
    ],
)
def test_a_common_word_opening_a_sentence_names_nobody(
    manager_name: str, deputy: str, text: str, expected: list[tuple[str, str, str]]
) -> None:
    am = with_deputy(deputy).model_copy(update={"name": manager_name})
    people = threatened_staff(text, detect(text), am)
    assert [(p.role, p.staff_id, p.by) for p in people] == expected


@pytest.mark.parametrize(
    ("deputy", "text"),
    [
        ("Игорь Соколов", "Я знаю, где живёт ваш менеджер, Игорь подтвердит."),
        ("Ігор Бондар", "Я знаю, де живе ваш менеджер, Ігор підтвердить."),
        ("Igor Smith", "I know where your manager lives, Igor will confirm."),
    ],
)
def test_your_manager_beside_the_deputys_name_is_still_the_manager(deputy: str, text: str) -> None:
    """Before, any name of the deputy in the sentence made "your manager" the deputy."""
    assert named(text, deputy) == [("account_manager", "am-petrova", "role"), *DEPUTY_NAMED]

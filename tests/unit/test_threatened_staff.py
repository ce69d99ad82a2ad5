"""A client's threat that names the account manager (seed 003: protect the staff): who is
named, in which words (ru, uk, en, any case form), what the escalation says of it, and the
notice the threatened person gets in the language they read."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from services.escalator.detection import detect
from services.escalator.history import (
    History,
    Hold,
    PastEscalation,
    holds_to_lift,
    standing_holds,
)
from services.escalator.notifications import client_contacts, staff_notifications
from services.escalator.policy import Situation, evaluate, hold_stands
from services.escalator.policy_rules import Notify
from services.escalator.staff_language import of_message
from services.escalator.threatened import (
    THREATENED_KIND,
    is_spared,
    one_each,
    spared_staff,
    threatened_notices,
    threatened_staff,
    unnamed_to_client,
    with_threatened,
)
from services.notifier.domain import render, render_kind
from services.notifier.reasons import condition_said
from services.notifier.samples import SAMPLES
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

HEAD_ROLE = Notify(role="head_of_support")


def manager(name: str, language: str | None = None) -> StaffRef:
    return StaffRef(id="am-7", name=name, email="am7@careline.example", language=language)


def named(text: str, name: str) -> list[tuple[str, tuple[str, ...]]]:
    """How the threats of `text` name the manager called `name`, and by which signals."""
    return [(p.by, p.signals) for p in threatened_staff(text, detect(text), manager(name))]


@pytest.mark.parametrize(
    ("name", "text", "signal"),
    [
        ("Ольга Петрова", "Ольга, я знаю, где вы живёте.", "violence_threat"),
        ("Ольга Петрова", "Передайте Ольге: я знаю, где она живёт.", "violence_threat"),
        ("Ольга Петрова", "Ольгу я найду и ноги ей переломаю.", "violence_threat"),
        ("Ольга Петрова", "Ользі передайте: я знаю, де вона живе.", "violence_threat"),
        ("Ольга Петрова", "И Петровой передайте: я знаю, где она работает.", "violence_threat"),
        ("Олег Иванов", "Олегу передайте, что я знаю, где он живёт.", "violence_threat"),
        ("Ірина Шевченко", "Ірині передайте: я знаю, де вона живе.", "violence_threat"),
        ("Надежда Ким", "Надежде передайте: я знаю, где она живёт.", "violence_threat"),
        (
            "Anna Smith",
            "Tell your manager Anna I will be waiting for her after work.",
            "violence_threat",
        ),
        ("Anna Smith", "Anna, I know where you live.", "violence_threat"),
        ("Anna Smith", "Tell Anna's boss I will break her legs.", "violence_threat"),
        ("Анна Коваль", "Анна, вы такая красивая, давайте встретимся вечером?", "harassment"),
        (
            "Ольга Петрова",
            "Ольга, я расскажу о вас в каждом SMM-сообществе.",
            "reputation_threat",
        ),
    ],
)
def test_a_threat_naming_the_account_manager_in_any_case_form_is_aimed_at_them(
    name: str, text: str, signal: str
) -> None:
    found = named(text, name)

    assert len(found) == 1 and found[0][0] == "name"
    assert signal in found[0][1]


@pytest.mark.parametrize(
    "text",
    [
        "Передайте вашему менеджеру, что я его найду и ноги ему переломаю.",
        "Вашому менеджеру передайте: я знаю, де він живе.",
        "Tell your account manager I know where she lives.",
    ],
)
def test_your_manager_in_the_threat_is_the_account_manager(text: str) -> None:
    assert [how for how, _ in named(text, "Ольга Петрова")] == ["role"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # A greeting, then the threat in a sentence of its own: greeted, not named by it.
        ("Ольга Петрова", "Ольга, добрый день! Я знаю, где вы живёте."),
        ("Ольга Петрова", "Ольга, добрий день!\nЯ знаю, де ви живете."),
        # A signature: the writer's name, on a line of its own.
        ("Ольга Петрова", "Я знаю, где вы живёте.\nОльга"),
        # A threat of court is legal's business, not a danger to the person.
        ("Ольга Петрова", "Ольга, я подам на вас в суд."),
        # Someone else is named; a word that only looks alike.
        ("Ольга Петрова", "Передайте Марине, что я знаю, где она живёт."),
        ("Ольга Петрова", "Под ольхой у вашего офиса я вас найду и ноги переломаю."),
        ("Олег Иванов", "Олень на вашем логотипе? Я знаю, где вы живёте."),
        # A name that is a common word, written as one; a Latin name without its capital.
        ("Надежда Ким", "надежды нет, я знаю, где вы живёте."),
        ("Will Brown", "I will break your legs."),
        ("Anna Smith", "I know where you live, anna."),
        # The manager named, but in the sentence beside the threat.
        ("Anna Smith", "Anna promised a refund. I know where you live."),
        # No threat at all.
        ("Ольга Петрова", "Ольга, спасибо, всё работает."),
    ],
)
def test_a_name_outside_the_threat_or_a_look_alike_names_nobody(name: str, text: str) -> None:
    assert named(text, name) == []


def test_nobody_is_named_without_an_account_manager_on_file() -> None:
    text = "Ольга, я знаю, где вы живёте."
    assert threatened_staff(text, detect(text), None) == []


TEXT = "Передайте Ольге: я знаю, где она живёт."


def decided(text: str = TEXT, language: str | None = None):  # type: ignore[no-untyped-def]
    am = StaffRef(
        id="am-petrova", name="Ольга Петрова", email="o.petrova@careline.example", language=language
    )
    who = identity("verified", manager=am)
    verified = verified_message(message(text), who)
    signals = detect(text)
    situation = Situation(NOW, "email", text, History())
    people = threatened_staff(text, signals, am)
    decisions = [with_threatened(d, people) for d in evaluate(POLICY, signals, who, situation)]
    return verified, people, decisions


def test_the_escalation_says_who_is_threatened_by_id_and_role_not_by_name() -> None:
    _, _, decisions = decided()

    (violence,) = [d for d in decisions if d.rule.kind == "violence"]
    assert "the threat names the account manager am-petrova by name" in violence.reason
    assert "Ольга" not in violence.reason.split("«")[0]  # the client's words are quoted apart
    (fact,) = [f for f in violence.facts if f.kind.startswith("threatened_")]
    assert fact.kind == "threatened_account_manager_name"
    assert fact.values == {"person": "Ольга Петрова", "staff": "am-petrova"}


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("ru", "угроза называет по имени менеджера клиента (Ольга Петрова)"),
        ("uk", "погроза називає на ім'я менеджера клієнта (Ольга Петрова)"),
        ("en", "the threat names the account manager (Ольга Петрова)"),
    ],
)
def test_security_and_the_head_of_support_read_who_is_threatened_in_their_language(
    language: Language, said: str
) -> None:
    from services.notifier.domain import _environment

    _, _, decisions = decided()
    (violence,) = [d for d in decisions if d.rule.kind == "violence"]
    (fact,) = [f for f in violence.facts if f.kind.startswith("threatened_")]
    reasons = _environment().get_template("_staff_labels.j2").module.REASONS  # type: ignore[attr-defined]

    assert condition_said(fact.item(), reasons[language]).startswith(said)


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_threatened_manager_gets_a_notice_of_their_own_in_their_language(
    language: Language,
) -> None:
    verified, people, decisions = decided(language=language)
    (violence,) = [d for d in decisions if d.rule.kind == "violence"]
    event = escalation(violence, verified)
    languages = of_message(POLICY, verified.identity)

    (note,) = threatened_notices(people, violence, event, verified, languages)

    assert (note.kind, note.recipient, note.recipient_role) == (
        THREATENED_KIND,
        "o.petrova@careline.example",
        "account_manager",
    )
    assert note.language == language and note.escalation_id == event.escalation_id
    assert note.data["holders"] == ["security", "head_of_support"]
    assert note.data["by"] == "name" and note.data["words"] == ["знаю, где она живёт"]
    # Once per escalation and person: the same message again asks for the same notice.
    again = threatened_notices(people, violence, event, verified, languages)
    assert again[0].notification_id == note.notification_id
    rendered = render(note)
    assert rendered.html is not None
    text = rendered.subject + "\n" + rendered.body
    for words in ALONE[language]:
        assert words in text, words
    assert rendered.template == f"{THREATENED_KIND}.{language}.txt.j2"


# What the notice must say in each language: it is personal, who holds it, not alone.
ALONE = {
    "ru": [
        "Клиент угрожает лично вам",
        "служба безопасности, руководитель поддержки",
        "Не отвечайте клиенту в одиночку",
        "CL-",
    ],
    "uk": [
        "Клієнт погрожує особисто вам",
        "служба безпеки, керівник підтримки",
        "Не відповідайте клієнтові самі",
        "CL-",
    ],
    "en": [
        "A client threatens you personally",
        "security, head of support",
        "Do not answer the client alone",
        "CL-",
    ],
}


def test_a_threat_naming_nobody_tells_no_one_apart() -> None:
    verified, people, decisions = decided("Я знаю, где вы живёте.")
    (violence,) = [d for d in decisions if d.rule.kind == "violence"]
    event = escalation(violence, verified)

    assert people == []
    assert not [f for f in violence.facts if f.kind.startswith("threatened_")]
    assert (
        threatened_notices(people, violence, event, verified, of_message(POLICY, verified.identity))
        == []
    )


def test_the_sample_renders_in_every_language_with_the_role_said() -> None:
    for language in ("ru", "uk", "en"):
        data = {**SAMPLES[THREATENED_KIND], "by": "role"}
        rendered = render_kind(THREATENED_KIND, language, data)
        assert {"ru": "«вашего менеджера»", "uk": "«вашого менеджера»", "en": '"your manager"'}[
            language
        ] in rendered.body


STAND_IN = {
    "ru": "В этом сообщении клиент угрожает своему менеджеру: обращение пришло вам вместо",
    "uk": "У цьому повідомленні клієнт погрожує своєму менеджерові: звернення надійшло вам",
    "en": "In this message the client threatens their account manager: the case comes to you",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_threatened_managers_other_cases_of_the_message_go_to_the_deputy(
    language: Language,
) -> None:
    # Seed 003: the money demanded beside the threat is not the threatened manager's to take.
    text = "Передайте Ольге: я знаю, где она живёт. Верните деньги за подписку."
    verified, people, decisions = decided(text)
    (demand,) = [d for d in decisions if d.rule.kind == "compensation"]
    assert demand.rule.roles == ["account_manager"]
    event = escalation(demand, verified)
    languages = of_message(POLICY, verified.identity)
    spared = {p.staff_id for p in people}

    (note,) = staff_notifications(
        POLICY, demand, event, verified, None, (), languages, threatened=spared
    )
    (alone,) = staff_notifications(POLICY, demand, event, verified, None, (), languages)

    assert (note.recipient_role, note.recipient) == ("deputy", POLICY.address("deputy"))
    assert note.data["stand_in_for"] == "threatened_account_manager"
    assert alone.recipient == "o.petrova@careline.example"  # no threat: the manager's case
    rendered = render(note.model_copy(update={"language": language}))
    assert STAND_IN[language] in rendered.body
    assert rendered.html is not None and STAND_IN[language] in rendered.html


def test_with_nobody_to_stand_in_the_threatened_managers_case_still_reaches_them() -> None:
    text = "Передайте Ольге: я знаю, где она живёт. Верните деньги за подписку."
    verified, _, decisions = decided(text)
    (demand,) = [d for d in decisions if d.rule.kind == "compensation"]
    lone = POLICY.model_copy(update={"chains": {}})

    (note,) = staff_notifications(
        lone, demand, escalation(demand, verified), verified, threatened={"am-petrova"}
    )

    assert note.recipient == "o.petrova@careline.example"
    assert "stand_in_for" not in note.data


def test_with_nobody_to_stand_in_the_rules_other_roles_hold_it_without_the_threatened() -> None:
    # The violence rule tells security and the head of support: with no deputy to stand in,
    # a rule naming the manager beside them leaves the threatened manager out.
    text = "Передайте Ольге: я знаю, где она живёт. Верните деньги за подписку."
    verified, _, decisions = decided(text)
    (demand,) = [d for d in decisions if d.rule.kind == "compensation"]
    both = dataclasses.replace(
        demand, rule=demand.rule.model_copy(update={"notify": [*demand.rule.notify, HEAD_ROLE]})
    )
    lone = POLICY.model_copy(update={"chains": {}})

    notes = staff_notifications(
        lone, both, escalation(both, verified), verified, threatened={"am-petrova"}
    )

    assert [n.recipient_role for n in notes] == ["head_of_support"]


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_clients_acknowledgements_do_not_name_the_threatened_manager(
    language: Language,
) -> None:
    text = "Передайте Ольге: я знаю, где она живёт. Верните деньги за подписку."
    verified, people, decisions = decided(text)
    (demand,) = [d for d in decisions if d.rule.kind == "compensation"]
    (ack,) = client_contacts(demand, escalation(demand, verified), verified)
    assert ack.data["account_manager"] == "Ольга Петрова"

    manager = verified.identity.account_manager
    (unnamed,) = unnamed_to_client([ack], spared_staff(people, []), manager)

    assert unnamed.data["account_manager"] is None
    assert "Ольга" not in render(unnamed.model_copy(update={"language": language})).body
    assert unnamed_to_client([ack], frozenset(), manager) == [ack]


@pytest.mark.parametrize(
    ("name", "text", "how"),
    [
        ("Олег Иванов", "Вашему Олегу не поздоровится", "name"),
        ("Ірина Шевченко", "передайте Ірині, що я її знайду", "name"),
        ("Олена Коваль", "скажіть своїй Олені, хай оглядається", "name"),
        ("Марина Орлова", "пусть ваша Марина ходит и оглядывается", "name"),
        # Latin letters (rounds 27 and 29: "pust" was read «пуст», not «пусть»), the name
        # read in Cyrillic as the detector reads the words
        ("Марина Орлова", "pust vasha Marina hodit i oglyadyvaetsya", "name"),
        ("Олег Иванов", "vashemu Olegu ne pozdorovitsya", "name"),
        ("Марина Орлова", "peredayte Marine chto ya ee naydu", "name"),
        ("Anna Smith", "tell Anna she'd better watch her back", "name"),
        ("Anna Smith", "your manager will regret it personally", "role"),
        # Round 30: Ukrainian in Latin letters, "h" read х where «хай», «ходить» are meant
        # and "-tsya" / "-tsia" as «-ться», in chat spelling and in the official scheme
        ("Оксана Мельник", "hay vasha Oksana hodyt i oglyadayetsya", "name"),
        ("Оксана Мельник", "hai vasha Oksana khodyt i ohliadaietsia", "name"),
        ("Оксана Мельник", "хай ваш менеджер боїться", "role"),
        ("Оксана Мельник", "khay vash menedzher boyitsya", "role"),
        ("Марина Орлова", "pust vash menedzher boitsya", "role"),
        ("Anna Smith", "let your Anna keep looking over her shoulder", "name"),
        # Round 31: watching the manager («я за вами слежу», "I've been watching you")
        ("Ольга Петрова", "Ольга, я за вами слежу, видел вас вчера у подъезда", "name"),
        ("Ольга Петрова", "Olga, ya za vami slezhu, videl vas vchera u podyezda", "name"),
        ("Ольга Петрова", "Я знаю, на какой машине ездит ваш менеджер", "role"),
        ("Оксана Мельник", "Оксано, я стежу за вами, бачив вас біля під'їзду", "name"),
        ("Anna Smith", "Anna, I've been watching you, saw you outside your building", "name"),
    ],
)
def test_round_27_threats_sent_through_us_reach_the_person_they_name(
    name: str, text: str, how: str
) -> None:
    """Detection round 27: these fired no threat, so nobody was told."""
    assert named(text, name) == [(how, ("violence_threat",))]


def test_a_standing_hold_keeps_sparing_the_manager_its_threats_named() -> None:
    # Yesterday's threat named her; today the client writes again while the hold stands.
    hold = Hold(
        rule="violence-to-security",
        reason={"ru": "Разбирательство приостановлено до прекращения угроз."},
        while_signals=["violence_threat"],
        since=NOW,
        message_id="m-1",
        spares=["am-petrova"],
    )
    held = PastEscalation(
        id="e-1", kind="violence", severity="P1", status="open", rule="r", opened_at=NOW, hold=hold
    )
    am = StaffRef(id="am-petrova", name="Ольга Петрова", email="O.Petrova@careline.example")

    spared = spared_staff([], [held])

    assert spared == {"am-petrova"}
    assert is_spared(
        {"role": "account_manager", "address": "o.petrova@careline.example"}, spared, am
    )
    assert not is_spared({"role": "deputy", "address": "deputy@careline.example"}, spared, am)
    assert not is_spared(
        {"role": "account_manager", "address": "o.petrova@careline.example"}, frozenset(), am
    )


@pytest.mark.parametrize(
    "text",
    [
        "Ольга, вы такая красивая, давайте встретимся вечером?",
        "Ольго, ви така гарна, давайте зустрінемося ввечері?",
        "Your manager is so beautiful, let us meet tonight?",
    ],
)
def test_advances_naming_the_manager_spare_her_with_a_hold_that_withholds_nothing(
    text: str,
) -> None:
    """Seed 002, case 3: the harassment rule's hold remembers whom the advances named, so
    the client's later cases go to the deputy; it pauses none of the client's answers."""
    _, people, decisions = decided(text)
    (harassment,) = [d for d in decisions if d.rule.kind == "harassment"]
    hold = harassment.rule.hold
    assert hold is not None and hold.spares_only and not hold.apology_lifts
    assert [p.signals for p in people] == [("harassment",)]
    # Named as advances, not as a threat (the staff notices call them so).
    assert {"advances_account_manager_name", "advances_account_manager_role"} & {
        f.kind for f in harassment.facts
    }
    assert "the advances name the account manager am-petrova" in harassment.reason
    assert not hold_stands(History(), [], [harassment])


def _sparing(kind: str, spares_only: bool, calm_for: timedelta) -> PastEscalation:
    hold = Hold(
        rule=f"{kind}-rule",
        reason={"en": "The manager does not handle the client's cases."},
        while_signals=["harassment"],
        since=NOW,
        message_id="m-1",
        spares=["am-petrova"],
        calm_for=calm_for,
        apology_lifts=False,
        spares_only=spares_only,
    )
    return PastEscalation(
        id="e-1", kind=kind, severity="P3", status="open", rule="r", opened_at=NOW, hold=hold
    )


def test_a_sparing_hold_spares_the_manager_without_holding_the_clients_answers() -> None:
    held = _sparing("harassment", True, timedelta(days=30))
    history = History(escalations=[held])

    assert spared_staff([], standing_holds(history, [])) == {"am-petrova"}
    assert not hold_stands(history, [], [])
    # A threats hold beside it still holds them.
    violence = _sparing("violence", False, timedelta(0)).model_copy(update={"id": "e-2"})
    assert hold_stands(History(escalations=[held, violence]), [], [])


@pytest.mark.parametrize(
    "text",
    [
        "Извините, я был неправ. Когда будет готов экспорт?",
        "Вибачте, я був неправий. Коли буде готовий експорт?",
        "Sorry, I was out of line. When will the export be ready?",
    ],
)
def test_neither_calm_nor_an_apology_hands_the_manager_back_before_a_month(text: str) -> None:
    history = History(escalations=[_sparing("harassment", True, timedelta(days=30))])
    scores = {s.name: s.score for s in detect(text)}

    assert holds_to_lift(history, scores, at=NOW + timedelta(days=1), text=text) == []
    assert holds_to_lift(history, scores, at=NOW + timedelta(days=30), text=text) != []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Ольга Петрова", "Передайте Оле, что я знаю, где она живёт."),
        ("Ольга Петрова", "Олю я найду и ноги ей переломаю."),
        ("Александр Ким", "Саше передайте: я знаю, где он живёт."),
        ("Владимир Орлов", "Вове передайте, что я знаю, где он живёт."),
        ("Татьяна Белова", "Таню я найду, пусть оглядывается."),
        ("Ольга Петренко", "Передайте Олі, що я знаю, де вона живе."),
        ("Олександр Бондар", "Передайте Сашку, що я знаю, де він живе."),
        ("Alexander Smith", "Tell Alex I know where he lives."),
        ("Katherine Brown", "Kate, I know where you live."),
    ],
)
def test_a_pet_name_of_the_managers_first_name_names_them(name: str, text: str) -> None:
    """Clients write to the manager they know as Оля, Сашко, Kate: before 2026-12-08 a
    threat to «Оле» named nobody."""
    assert named(text, name) == [("name", ("violence_threat",))]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Ольга Петрова", "Передайте Тане, что я знаю, где она живёт."),  # another's pet name
        ("Ольга Петрова", "Оля, добрый день! Я знаю, где вы живёте."),  # a greeting
        ("Alexander Smith", "Tell alex I know where he lives."),  # Latin without a capital
    ],
)
def test_a_pet_name_of_another_name_or_outside_the_threat_names_nobody(
    name: str, text: str
) -> None:
    assert named(text, name) == []


# Seed 003 with a failure piled on: five signals at once open a "fed up" failure case
# beside the violence one, both carrying the threat to the manager by name.
PILED_UP = {
    "ru": "Вы, идиоты, потеряли все наши данные, опять и уже третий раз. Верните деньги за "
    "подписку, иначе оболью вас грязью во всех сообществах. Передайте Ольге: я знаю, где она "
    "живёт.",
    "uk": "Ви, ідіоти, втратили всі наші дані, знову і вже втретє. Поверніть гроші за "
    "підписку, інакше обіллю вас брудом у всіх спільнотах. Передайте Ользі: я знаю, де вона "
    "живе.",
    "en": "You idiots lost all our data, again, the third time. Refund the subscription or I "
    "will trash you in every forum. Tell Olga I know where she lives.",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_threatened_manager_is_told_once_of_the_threats_own_case(language: Language) -> None:
    verified, people, decisions = decided(PILED_UP[language])
    languages = of_message(POLICY, verified.identity)
    notes = [
        note
        for d in decisions
        for note in threatened_notices(people, d, escalation(d, verified), verified, languages)
    ]
    assert len({n.escalation_id for n in notes}) > 1  # several cases carry the threat

    (note,) = one_each(notes)

    assert note.recipient == "o.petrova@careline.example"
    assert note.data["kind"] == "violence" and note.data["on_threats"]

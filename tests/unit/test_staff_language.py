"""Each staff member reads notices in their own language (an acceptance run found the
account manager of a London client reading Russian ones): the choice (the policy's role
language, `staff_languages`, the CRM's record, the team's), and what the notices say in
it, in ru, uk and en."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from services.escalator.detection import detect
from services.escalator.digest import message_notices
from services.escalator.facts import hold_view
from services.escalator.hold_notices import hold_lifted_notices
from services.escalator.lifecycle import Notified
from services.escalator.lifecycle_steps import current_briefing
from services.escalator.notifications import staff_briefing, staff_notifications, to_other_holders
from services.escalator.policy import Policy, Situation, evaluate
from services.escalator.policy_check import check_policy
from services.escalator.staff_language import (
    CONFIRMED_NOTE,
    REVOKED_NOTE,
    StaffLanguages,
    in_language,
    of_escalations,
    of_message,
    staff_languages,
)
from services.notifier.domain import render
from shared.contracts import SendNotification, StaffRef
from tests.unit.test_escalation_lifecycle import escalation as on_file
from tests.unit.test_policy_cli import SHIPPED
from tests.unit.test_routing_policy import (
    MANAGER,
    POLICY,
    escalation,
    identity,
    message,
    verified_message,
)

pytestmark = pytest.mark.unit

HEAD = POLICY.address("head_of_support")
# Seed 001, said again: a broken promise, the third time (the marker repeated_failure).
FED_UP = "Вы обещали починить экспорт и опять не сделали, уже третий раз."
BLACKMAIL = "Верните деньги, иначе я стану вашим кошмаром: распишу про вас во всех SMM-сообществах."
PLAYBOOK_START = {
    "ru": "Клиент «накопил»",
    "uk": "Клієнт «накопичив»",
    "en": "The client is fed up",
}
MARKER = {"ru": "повторный сбой", "uk": "повторний збій", "en": "a repeated failure"}
HOLD_REASON = {
    "ru": "Разбирательство приостановлено до прекращения угроз.",
    "uk": "Розгляд призупинено до припинення погроз.",
    "en": "Investigation paused until the threats stop.",
}


def with_languages(team: str = "ru", **policy: Any) -> Policy:
    return Policy.model_validate({**POLICY.model_dump(), "team_language": team, **policy})


def notices(
    text: str, policy: Policy, manager: StaffRef | None = MANAGER
) -> list[SendNotification]:
    verified = verified_message(message(text), identity(manager=manager))
    signals = detect(text, language="ru")
    situation = Situation(text=text)
    return [
        note
        for decision in evaluate(policy, signals, verified.identity, situation)
        for note in staff_notifications(policy, decision, escalation(decision, verified), verified)
    ]


def to(notes: list[SendNotification], address: str) -> SendNotification:
    (note,) = [n for n in notes if n.recipient.casefold() == address.casefold()]
    return note


# --- whose language ----------------------------------------------------------------------


def test_a_role_may_say_its_language_and_a_plain_address_reads_the_teams() -> None:
    policy = with_languages(
        roles={**POLICY.roles, "legal": {"address": "Legal@x.example", "language": "en"}}
    )

    languages = staff_languages(policy)

    assert policy.address("legal") == "Legal@x.example"
    assert languages.of(" legal@X.example ") == "en"  # compared as addresses are
    assert languages.of(HEAD) == "ru"  # the team's


def test_staff_languages_name_people_the_roles_do_not() -> None:
    policy = with_languages("uk", staff_languages={"Emily.Carter@careline.example": "en"})

    languages = staff_languages(policy)

    assert languages.of("emily.carter@careline.example") == "en"
    assert languages.of("anyone@careline.example") == "uk"


def test_the_crm_says_an_account_managers_language_when_the_policy_does_not() -> None:
    manager = MANAGER.model_copy(update={"language": "uk"})

    assert of_message(POLICY, identity(manager=manager)).of(MANAGER.email) == "uk"
    # The policy's word wins over the CRM's.
    policy = with_languages(staff_languages={MANAGER.email: "en"})
    assert of_message(policy, identity(manager=manager)).of(MANAGER.email) == "en"
    # Without either, the team's; and none without a CRM record.
    assert of_message(POLICY, identity()).of(MANAGER.email) == "ru"
    assert of_message(POLICY, identity(manager=None)).of(MANAGER.email) == "ru"


def test_an_escalation_remembers_the_crms_word_in_its_fact_pack() -> None:
    pack = {"crm": {"account_manager": {"email": "emily@x.example", "language": "en"}}}
    e = replace(on_file(), briefing={"fact_pack": pack})
    assert of_escalations(POLICY, e).of("EMILY@x.example") == "en"
    assert of_escalations(POLICY, on_file()).of("emily@x.example") == "ru"


@pytest.mark.parametrize(
    ("given", "language"),
    [("en", "en"), ("en-GB", "en"), ("uk_UA", "uk"), (" RU ", "ru"), ("de", None), (None, None)],
)
def test_a_crm_locale_is_taken_by_its_language(given: str | None, language: str | None) -> None:
    manager = StaffRef(id="am-1", name="Emily Carter", email="e@x.example", language=given)
    assert manager.language == language


def test_the_policy_check_names_a_wrong_language_and_an_address_given_two() -> None:
    text = SHIPPED.replace(
        "  legal: legal@careline.example",
        "  legal: {address: legal@careline.example, language: fr}\n"
        "  billing: {address: billing@careline.example, language: en}",
    ).replace("  billing: billing@careline.example\n", "", 1)
    text += "staff_languages:\n  Billing@careline.example: uk\n"

    policy, problems = check_policy(text)

    assert policy is None
    assert [(p.field, p.message) for p in problems] == [
        ("roles.legal.language", "Input should be 'ru', 'uk' or 'en'")
    ]
    policy, problems = check_policy(text.replace("language: fr", "language: en"))
    assert policy is None
    (problem,) = problems
    assert problem.field == "staff_languages.Billing@careline.example"
    assert problem.message == (
        "Billing@careline.example reads en already (roles.billing.language), not uk too"
    )
    assert problem.line == text.splitlines().index("  Billing@careline.example: uk") + 1


def test_a_role_is_an_address_or_an_address_with_a_language() -> None:
    text = SHIPPED.replace("  legal: legal@careline.example", "  legal: [legal@careline.example]")
    (problem,) = check_policy(text)[1]
    assert problem.field == "roles.legal"
    assert problem.message == "a role is an address, or {address: ..., language: ru | uk | en}"
    text = SHIPPED.replace("  legal: legal@careline.example", "  legal: {language: en}")
    (problem,) = check_policy(text)[1]
    assert (problem.field, problem.message) == ("roles.legal.address", "Field required")


# --- what they read ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_account_manager_reads_the_notice_in_their_language(language: str) -> None:
    """The AM reads `language`, the team Russian: the AM's notice (playbook, marker names,
    labels) is in theirs, the head of support's in the team's."""
    policy = with_languages(staff_languages={MANAGER.email: language})

    notes = notices(FED_UP, policy)

    manager, head = to(notes, MANAGER.email), to(notes, HEAD)
    assert (manager.language, head.language) == (language, "ru")
    assert manager.data["playbook"].startswith(PLAYBOOK_START[language])
    assert head.data["playbook"].startswith(PLAYBOOK_START["ru"])
    # The client writes Russian: an AM reading another language has the client's too.
    assert manager.data["playbook_client"] == (None if language == "ru" else head.data["playbook"])
    (fact,) = [i for i in manager.data["condition_items"] if i["kind"] == "markers"]
    assert fact["values"]["said"] == [MARKER[language]]
    body = render(manager).body
    assert MARKER[language] in body and PLAYBOOK_START[language] in body
    assert MARKER["ru"] in render(head).body


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_hold_is_said_in_the_readers_language(language: str) -> None:
    policy = with_languages(
        roles={**POLICY.roles, "head_of_support": {"address": HEAD, "language": language}}
    )
    (decision,) = [
        d for d in evaluate(policy, detect(BLACKMAIL, language="ru"), identity()) if d.rule.hold
    ]
    verified = verified_message(message(BLACKMAIL), identity())
    hold = {"reason": dict(decision.rule.hold.reason)}  # type: ignore[union-attr]
    extra = {"hold": hold_view(hold, policy.team_language)}

    (note,) = staff_notifications(policy, decision, escalation(decision, verified), verified, extra)

    assert note.language == language
    assert note.data["hold"]["reason"] == HOLD_REASON[language]
    assert HOLD_REASON[language] in render(note).body


@pytest.mark.parametrize("language", ["uk", "en"])
def test_a_digest_to_one_person_is_in_that_persons_language(language: str) -> None:
    """A message of three kinds: the account manager's one digest is in theirs, each
    escalation's playbook too; the standing hold of another case as well."""
    policy = with_languages(staff_languages={MANAGER.email: language})
    text = (
        "Счёт за март мы уже оплатили, а нам пишут о задолженности. "
        "Вы обещали починить экспорт и опять не сделали. Верните деньги за месяц."
    )
    verified = verified_message(message(text), identity())
    standing = {
        "escalation_id": "5f0e3c59-3e4f-4c9a-9d35-0c1b7c2b8a10",
        "kind": "reputation",
        **hold_view({"reason": HOLD_REASON}, "ru"),  # type: ignore[dict-item]
    }

    told = message_notices(verified, notices(text, policy), [], holds=[standing])

    digest = to(told, MANAGER.email)
    assert (digest.kind, digest.language) == ("staff_digest", language)
    rules = {r.id: r for r in policy.rules}
    items = digest.data["escalations"]
    assert len(items) == 3
    assert all(i["playbook"] == rules[i["rule"]].playbook[language] for i in items)
    (hold,) = digest.data["subject_holds"]
    assert hold["reason"] == HOLD_REASON[language]
    body = render(digest).body
    assert HOLD_REASON[language] in body
    assert all(i["playbook"] in body for i in items)
    assert to(told, HEAD).language == "ru"


def test_a_copy_to_another_holder_is_in_theirs() -> None:
    policy = with_languages(staff_languages={"deputy.support@careline.example": "en"})
    notes = notices(FED_UP, policy)
    notified = [{"role": "deputy", "address": "Deputy.Support@careline.example", "level": 2}]

    (copy,) = to_other_holders(notes, notified, ("news",), staff_languages(policy))

    assert copy.language == "en"
    assert copy.data["playbook"].startswith(PLAYBOOK_START["en"])


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_holders_each_read_their_own_language_later_on(language: str) -> None:
    """A notice to an escalation's holders (a hold lifted; a climb and a reassignment are
    told the same way) is said from its stored briefing in each holder's language."""
    policy = with_languages(staff_languages={MANAGER.email: language})
    verified = verified_message(message(FED_UP), identity())
    (decision,) = evaluate(
        policy, detect(FED_UP, language="ru"), verified.identity, Situation(text=FED_UP)
    )
    briefing = staff_briefing(policy, decision, escalation(decision, verified), verified)
    e = replace(
        on_file(),
        briefing=briefing,
        hold={"reason": HOLD_REASON, "since": "2025-03-14T09:00:00+00:00"},
        notified=(
            Notified("account_manager", MANAGER.email, 1),
            Notified("head_of_support", HEAD, 1),
        ),
    )

    manager, head = hold_lifted_notices(
        e, verified, of_escalations(policy, e), verified.occurred_at
    )

    assert (manager.language, head.language) == (language, "ru")
    assert manager.data["playbook"].startswith(PLAYBOOK_START[language])
    assert manager.data["hold"]["reason"] == HOLD_REASON[language]
    assert head.data["hold"]["reason"] == HOLD_REASON["ru"]
    # The briefing later notices are told from has every language; each notice says its own.
    later = current_briefing(e, policy.team_language)
    assert later["playbooks"][language] == manager.data["playbook"]
    assert MARKER[language] in render(manager).body


def test_a_briefing_of_before_keeps_the_teams_words() -> None:
    old = {"playbook": "Наш провал.", "condition_items": [{"kind": "tier", "values": {}}]}
    assert in_language(old, "en") == old


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_an_identity_confirmed_earlier_is_said_in_the_readers_language(language: str) -> None:
    pack = {
        "previous_escalations": [
            {"id": "x", "outcome": CONFIRMED_NOTE["ru"]},
            {"id": "y", "outcome": "вернули деньги"},
        ]
    }

    said = in_language({"fact_pack": pack}, language)["fact_pack"]["previous_escalations"]

    assert [e["outcome"] for e in said] == [CONFIRMED_NOTE[language], "вернули деньги"]
    # Once staff took that confirmation back, its note says so (revocations.py), as well.
    taken_back = {"previous_escalations": [{"id": "x", "outcome": REVOKED_NOTE["en"]}]}
    said = in_language({"fact_pack": taken_back}, language)["fact_pack"]["previous_escalations"]
    assert said == [{"id": "x", "outcome": REVOKED_NOTE[language]}]


def test_staff_languages_of_a_plain_team() -> None:
    assert StaffLanguages("uk").of("anyone@x.example") == "uk"

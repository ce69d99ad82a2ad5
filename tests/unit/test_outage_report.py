"""Round 32: a plain outage report («интернет не работает», "the website won't open") opens a
service_failure case but is answered with the careful acknowledgement (received, checking,
by when), not the failure notice's "we let you down, it is our fault": the policy's
`outage_report` marker, read from the failure's evidence (ru/uk/en)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.escalator.detection import detect
from services.escalator.lifecycle import Escalation
from services.escalator.missed_promises import client_delay_notice, missed_promise
from services.escalator.notifications import (
    ADMITTING_FAULT,
    FOLLOWS_UP,
    PROMISING_KINDS,
    answer_of,
    promised_about,
)
from services.escalator.policy import POLICY_PATH, Situation, evaluate, load_policy, parse_policy
from services.escalator.policy_check import check_policy
from services.escalator.policy_rules import EvidenceOnly
from services.notifier.domain import render, render_kind
from services.notifier.samples import SAMPLES
from shared.cli import app
from shared.contracts import Signal, SignalEvidence
from tests.unit.test_default_policy import (
    GOLD,
    STANDARD,
    TUESDAY,
    History,
    decide,
    earlier,
    identity,
)
from tests.unit.test_policy_cli import _message

POLICY = load_policy()
OUTAGE = EvidenceOnly(
    signal="service_failure",
    only=["*.fail.service_not_working", "*.fail.not_working"],
    beside=["*.fail.repeated"],
)


def failure(*rules: str, name: str = "service_failure") -> Signal:
    pieces = [SignalEvidence(start=i, end=i + 1, text="x", rule=r) for i, r in enumerate(rules)]
    return Signal(name=name, score=0.7, evidence=pieces)


@pytest.mark.parametrize(
    ("rules", "holds"),
    [
        (["ru.fail.service_not_working"], True),
        (["uk.fail.service_not_working", "uk.fail.repeated"], True),  # «знову не працює»
        (["en.fail.not_working", "form.exclamation_run"], True),  # how it is said, not what
        (["ru.fail.service_not_working", "ru.fail.promised"], False),  # a promise missed
        (["en.fail.repeated", "en.fail.repeated"], False),  # "again" alone reports nothing
        ([], False),
        (["opinion.linear"], False),  # the second opinion's words: no report said
    ],
)
def test_an_outage_report_is_a_failure_said_only_by_its_entries(
    rules: list[str], holds: bool
) -> None:
    assert OUTAGE.holds([failure(*rules)]) is holds


def test_another_signals_evidence_is_not_the_failures() -> None:
    signals = [failure("ru.fail.service_not_working"), failure("ru.panic.x", name="panic")]
    assert OUTAGE.holds(signals)
    assert not OUTAGE.holds([failure("ru.fail.service_not_working", name="panic")])


REPORTS = {
    "ru": "С утра в офисе не работает интернет.",
    "uk": "Підключили, але не працює.",
    "en": "The website won't open.",
}
WITH_A_PROMISE = {
    "ru": "Интернет не работает, а вы обещали починить до пятницы.",
    "uk": "Інтернет не працює, а ви обіцяли полагодити до п'ятниці.",
    "en": "The website won't open, and you promised to fix it by Friday.",
}


def client_kinds(rule_id: str) -> list[str]:
    (rule,) = [r for r in POLICY.rules if r.id == rule_id]
    return [c.kind for c in rule.client_contacts]


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_plain_outage_report_is_acknowledged_not_admitted(language: str) -> None:
    d = decide(REPORTS[language])["service_failure"]

    assert (d.rule.id, d.rule.severity) == ("outage-report", "P3")
    assert [c.kind for c in d.rule.client_contacts] == ["outage_report_ack"]
    assert d.rule.roles == ["account_manager", "head_of_support"]
    # Staff are told to check whose side first, then the failure playbook's steps.
    assert "check whether the fault is on our side" in d.rule.playbook["en"]
    assert "tell the bad news first" in d.rule.playbook["en"]


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_an_outage_report_beside_a_missed_promise_is_our_failure(language: str) -> None:
    d = decide(WITH_A_PROMISE[language])["service_failure"]

    assert d.rule.id == "service-failure"
    assert [c.kind for c in d.rule.client_contacts] == ["service_failure_notice"]
    assert "outage-report" not in [r.id for r in d.superseded]


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_top_tier_outage_report_is_as_grave_as_its_failure(language: str) -> None:
    d = decide(REPORTS[language], identity("verified", customer=GOLD))["service_failure"]

    assert (d.rule.id, d.rule.severity) == ("outage-report-top-tier", "P2")
    assert client_kinds(d.rule.id) == ["outage_report_ack"]


def test_the_third_outage_report_in_a_month_goes_to_a_senior_without_an_admission() -> None:
    history = History(
        messages=[
            earlier(3, signals={"service_failure": 0.6}, markers=["outage_report"]),
            earlier(9, signals={"service_failure": 0.6}, markers=["outage_report"]),
        ]
    )
    d = decide(REPORTS["ru"], history=history)["service_failure"]

    assert (d.rule.id, d.rule.severity) == ("fed-up-repeated-outage-reports", "P1")
    assert client_kinds(d.rule.id) == ["outage_report_ack"]
    assert "head_of_support" in d.rule.roles


def test_the_outage_report_marker_is_remembered_with_the_message() -> None:
    """The escalator stores a message's markers in the subject's history (seen_message):
    evidence markers are among them, so a history condition can count outage reports."""
    signals = [failure("ru.fail.service_not_working")]
    assert POLICY.markers_in("", signals) == ["outage_report"]
    assert POLICY.markers_in("Третий раз пишу", []) == ["repeated_failure"]


def test_yet_again_is_fed_up_without_an_admission() -> None:
    d = decide("The internet is down yet again.")["service_failure"]

    assert (d.rule.id, d.rule.severity) == ("fed-up-says-repeated-outage", "P1")
    assert client_kinds(d.rule.id) == ["outage_report_ack"]


def test_a_rule_may_ask_for_every_marker_or_none_of_them() -> None:
    text = POLICY_PATH.read_text(encoding="utf-8")
    policy = parse_policy(text)
    signals = [failure("en.fail.downtime", "en.fail.repeated")]
    situation = Situation(TUESDAY, "email", "down yet again", History())
    who = identity("verified", customer=STANDARD)

    (d,) = evaluate(policy, signals, who, situation)
    assert d.rule.id == "fed-up-says-repeated-outage"
    assert "fed-up-says-repeated" not in [r.id for r in d.superseded]  # none_markers
    said = [f for f in d.facts if f.kind == "markers"]
    assert said[0].values["markers"] == ["repeated_failure", "outage_report"]
    assert said[0].values["said_in"]["en"] == ["a repeated failure", "an outage report"]


def test_policy_check_names_an_evidence_marker_entry_that_names_nothing() -> None:
    text = POLICY_PATH.read_text(encoding="utf-8").replace(
        "- '*.fail.done_but_not_working'", "- '*.fail.done_but_not_workin'"
    )
    policy, problems = check_policy(text)

    assert policy is None
    (problem,) = problems
    assert problem.field == "markers.outage_report.evidence.only[1]"
    assert "no service_failure entry is *.fail.done_but_not_workin" in problem.message


def test_a_marker_is_made_of_patterns_or_of_evidence_not_both() -> None:
    text = POLICY_PATH.read_text(encoding="utf-8").replace(
        "  outage_report:\n", "  outage_report:\n    patterns: ['x']\n"
    )
    _, problems = check_policy(text)

    assert any("either patterns or evidence" in p.message for p in problems)


def test_explain_says_the_outage_report_and_the_rule_it_chose(tmp_path: Path) -> None:
    path = tmp_path / "message.json"
    path.write_text(_message(REPORTS["uk"], "uk").model_dump_json(), encoding="utf-8")

    out = CliRunner().invoke(app, ["policy", "explain", str(path)]).output

    assert "markers: outage_report" in out
    assert "- outage-report: service_failure P3" in out
    assert "client contact: outage_report_ack to registered_channel" in out


# --- the acknowledgement, in the client's language ------------------------------------------

SAID = {
    "ru": ("Мы получили ваше сообщение о неполадке и проверяем", "Мы уже проверяем"),
    "uk": ("Ми отримали ваше повідомлення про несправність і перевіряємо", "Ми вже перевіряємо"),
    "en": ("We received your report that something is not working", "We are checking"),
}
# What the failure notice says and the acknowledgement must not: fault, apology, remedy.
ADMISSION = {
    "ru": ("подвели", "наша вина", "Приносим извинения", "компенсац"),
    "uk": ("підвели", "наша провина", "Перепрошуємо", "компенсац"),
    "en": ("let you down", "our fault", "apologise", "remedy"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_acknowledgement_says_received_checking_and_by_when(language: str) -> None:
    data = {**SAMPLES["outage_report_ack"], "reply_by": "2025-03-17T14:00:00+00:00"}

    mail = render_kind("outage_report_ack", language, data)

    subject, checking = SAID[language]
    assert mail.subject.startswith(subject)
    assert checking in mail.body
    assert "С утра в офисе не работает интернет." in mail.body  # the client's own words
    assert ("17" in mail.body) and ("14:00" in mail.body or "2:00 PM" in mail.body)
    assert mail.html is not None and checking in mail.html
    for words in ADMISSION[language]:
        assert words.lower() not in f"{mail.subject}\n{mail.body}".lower(), words


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_acknowledgement_without_the_clients_words_or_a_manager(language: str) -> None:
    data = {
        **SAMPLES["outage_report_ack"],
        "problems": [],
        "account_manager": None,
        "subject": "",
    }

    mail = render_kind("outage_report_ack", language, data)

    assert SAID[language][1] in mail.body
    assert "«" not in mail.body and "Ольга" not in mail.body


def test_the_acknowledgement_promises_an_answer_as_the_failure_notice_did() -> None:
    assert "outage_report_ack" in PROMISING_KINDS
    assert "outage_report_ack" not in ADMITTING_FAULT


# --- a promise missed -------------------------------------------------------------------------

CHECK_SAID = {
    "ru": "результат проверки",
    "uk": "результат перевірки",
    "en": "the result of our check",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_missed_answer_to_an_outage_report_owes_the_check_not_a_remedy(language: str) -> None:
    """The acknowledgement promised the result of a check: a missed date says so, and
    offers no compensation for a failure nobody has established (the failure notice's
    delay notice does)."""
    promised = TUESDAY + timedelta(hours=8)
    case = uuid.uuid4()
    e = Escalation(
        id=case,
        kind="service_failure",
        severity="P3",
        status="open",
        level=1,
        message_id=case,
        correlation_id="c-1",
        ack_deadline=TUESDAY + timedelta(hours=4),
        climb_due_at=None,
        notified=(),
        client_reply_by=promised,
        promise_to={"recipient": "it@client.example", "language": language, "about": "check"},
    )
    missed = missed_promise(POLICY, e, promised + timedelta(minutes=1))

    note = client_delay_notice(e, missed, level_told=False, now=promised)

    assert note is not None and note.data["about"] == "check"
    mail = render(note)
    assert CHECK_SAID[language] in mail.body
    assert "компенсац" not in mail.body and "remedy" not in mail.body
    # A case of before (no `about` kept) owes what its kind says, as it did.
    before = client_delay_notice(
        replace(e, promise_to={"recipient": "it@client.example", "language": language}),
        missed,
        level_told=False,
        now=promised,
    )
    assert before is not None and before.data["about"] == "failure"


def test_the_outage_rules_promise_the_check() -> None:
    rules = {r.id: r for r in POLICY.rules}
    assert promised_about(rules["outage-report"]) == "check"
    assert promised_about(rules["fed-up-repeated-outage-reports"]) == "check"
    assert promised_about(rules["service-failure"]) is None


ADDED = {
    "ru": "Мы добавили новое сообщение к вашему обращению",
    "uk": "Ми додали нове повідомлення до вашого звернення",
    "en": "We have added a new message to your case",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_another_outage_written_into_the_open_case_is_said_added(language: str) -> None:
    data = {**SAMPLES["outage_report_ack"], "follow_up": True, "channel": "chat"}

    mail = render_kind("outage_report_ack", language, data)

    assert mail.subject.startswith(ADDED[language])
    assert SAID[language][1] in mail.body
    assert "outage_report_ack" in FOLLOWS_UP


def test_the_acknowledgement_and_the_failure_notice_are_one_answer_to_a_case() -> None:
    # A case is answered once whichever rule its messages fire (the ids are made of this).
    assert answer_of("outage_report_ack") == answer_of("service_failure_notice")
    assert answer_of("billing_dispute_ack") == "billing_dispute_ack"
    assert answer_of("request_ack") != answer_of("service_failure_notice")


AFTER_OUR_UPDATE = {
    "ru": "После вашего обновления приложение не работает.",
    "uk": "Після вашого оновлення застосунок не працює.",
    "en": "Since your update the app is not working.",
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_service_broken_by_our_update_is_our_failure_not_an_outage_report(
    language: str,
) -> None:
    """Round 36: English said only «does not work» here and got the careful acknowledgement;
    our change breaking it is admitted in all three (`*.fail.after_update` is no outage
    entry of the marker)."""
    d = decide(AFTER_OUR_UPDATE[language])["service_failure"]

    assert d.rule.id == "service-failure"
    assert [c.kind for c in d.rule.client_contacts] == ["service_failure_notice"]
    text = AFTER_OUR_UPDATE[language]
    assert "outage_report" not in POLICY.markers_in(text, detect(text))
    assert "outage-report" not in [r.id for r in d.superseded]

"""`careline policy check` (problems with line and field) and `careline policy explain`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.escalator.policy import POLICY_PATH
from services.escalator.policy_check import check_policy
from shared.cli import app
from shared.contracts import CustomerRef, Identity, IdentityVerified, MessageNormalized, StaffRef
from shared.contracts import SenderIdentifiers as Sender

pytestmark = pytest.mark.unit
runner = CliRunner()
SHIPPED = POLICY_PATH.read_text(encoding="utf-8")


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the nth line containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def test_the_shipped_policy_is_valid() -> None:
    policy, problems = check_policy(SHIPPED)
    assert problems == [] and policy is not None
    result = runner.invoke(app, ["policy", "check", str(POLICY_PATH)])
    assert result.exit_code == 0 and f"valid, {len(policy.rules)} rules" in result.output


def test_field_errors_name_the_line_and_field_of_each_problem() -> None:
    text = (
        SHIPPED.replace("notify: [security, head_of_support]", "notify: [securty, head_of_support]")
        .replace("severity: P2", "severity: P7", 1)
        .replace("kind: reputation", "kind: reputation\n    colour: red", 1)
    )
    policy, problems = check_policy(text)
    assert policy is None
    found = {(p.line, p.field) for p in problems}
    assert found == {
        (line_of(text, "notify: [securty"), "rules[0].notify"),
        (line_of(text, "severity: P7"), "rules[1].severity"),
        (line_of(text, "colour: red"), "rules[2].colour"),
    }
    messages = " | ".join(p.message for p in problems)
    assert "unknown roles ['securty']" in messages and "'P1', 'P2', 'P3' or 'P4'" in messages
    assert "Extra inputs are not permitted" in messages


def test_a_missing_field_is_reported_at_the_mapping_that_lacks_it() -> None:
    text = SHIPPED.replace("    kind: violence\n", "", 1)
    (problem,) = check_policy(text)[1]
    assert problem.field == "rules[0].kind" and problem.message == "Field required"
    assert problem.line == line_of(text, "- id: violence-to-security")


def test_problems_across_fields_name_where_they_are() -> None:
    text = (
        SHIPPED.replace("  legal: legal@careline.example", '  legal: ""')
        .replace("id: billing-dispute\n", "id: legal-threat-to-legal\n")
        .replace("  head_of_support: [director]", "  head_of_support: [director, legal]")
    )
    problems = check_policy(text)[1]
    assert [(p.line, p.field) for p in problems] == [
        (line_of(text, "notify: [legal, head_of_support]"), "rules[1].notify"),
        (line_of(text, "notify: [head_of_support, legal]"), "rules[3].notify"),
        (line_of(text, "id: legal-threat-to-legal", 2), "rules[4].id"),
        (line_of(text, "  head_of_support: [director, legal]"), "chains.head_of_support"),
    ]
    assert "no address for roles ['legal']" in problems[0].message
    assert "unique" in problems[2].message
    assert problems[3].message == "chain of head_of_support: no address for roles ['legal']"


def test_broken_yaml_and_the_cli_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("team_language: ru\nrules: [a\n  b: c\n", encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3:4: (yaml):" in result.output
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", str(empty)])
    assert result.exit_code == 1 and f"{empty}:1:1: (policy):" in result.output


def _message(text: str, language: str = "ru") -> MessageNormalized:
    now = datetime.now(UTC)
    message_id = uuid.uuid4()
    return MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=now,
        channel="email",
        sender=Sender(email="client@example.com"),
        subject="",
        text=text,
        language=language,
        language_confidence=0.9,
        thread_id="t",
        external_id=str(message_id),
        received_at=now,
    )


def test_explain_a_bare_message_shows_signals_words_rule_and_unknown_identity(
    tmp_path: Path,
) -> None:
    path = tmp_path / "message.json"
    path.write_text(_message("Я подам на вас в суд.").model_dump_json(), encoding="utf-8")
    result = runner.invoke(app, ["policy", "explain", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "legal_threat" in out and "«подам на вас в суд»" in out
    assert "status unknown" in out
    assert "- legal-threat-to-legal: legal P2 -> legal, head_of_support" in out
    assert "reason: rule legal-threat-to-legal" in out


def test_explain_uses_the_identity_of_a_verified_message_or_the_one_given(
    tmp_path: Path,
) -> None:
    gold = Identity(
        status="verified",
        confidence=0.97,
        customer=CustomerRef(id="cust-gold", name="Gold Ltd", tier="gold"),
    )
    message = _message("Я подам на вас в суд.")
    verified = IdentityVerified(
        event_id=uuid.uuid4(),
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        occurred_at=message.occurred_at,
        message=message,
        identity=gold,
    )
    path = tmp_path / "verified.json"
    path.write_text(verified.model_dump_json(), encoding="utf-8")
    out = runner.invoke(app, ["policy", "explain", str(path)]).output
    assert "status verified, confidence 0.97" in out and "customer cust-gold" in out
    assert "as customer cust-gold (tier gold)" in out

    bare = tmp_path / "bare.json"
    bare.write_text(message.model_dump_json(), encoding="utf-8")
    given = tmp_path / "identity.json"
    given.write_text(gold.model_dump_json(), encoding="utf-8")
    out = runner.invoke(app, ["policy", "explain", str(bare), "--identity", str(given)]).output
    assert "customer cust-gold (Gold Ltd), tier gold" in out


def test_explain_a_calm_message_matches_nothing_and_bad_input_is_refused(
    tmp_path: Path,
) -> None:
    calm = tmp_path / "calm.json"
    calm.write_text(_message("Thanks, all good.", "en").model_dump_json(), encoding="utf-8")
    result = runner.invoke(app, ["policy", "explain", str(calm)])
    assert result.exit_code == 0 and "rules matched: none" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"text": "no envelope"}), encoding="utf-8")
    result = runner.invoke(app, ["policy", "explain", str(bad)])
    assert result.exit_code == 2 and "message_id" in result.output


def test_check_names_the_line_and_field_of_the_new_conditions_and_outputs() -> None:
    text = (
        SHIPPED.replace("team_timezone: Europe/Moscow", "team_timezone: Europe/Atlantis")
        .replace(
            "history: {warned: [reputation, abuse], within: 90d}",
            "history: {warned: [reputation, abuse], within: 3 months}",
        )
        .replace(
            "when: {any_signals: [billing_dispute], time: [weekend, holiday]}",
            "when: {any_signals: [billing_dispute], time: [weekends]}",
        )
        .replace("    ack_minutes: 10\n", "    ack_minutes: -5\n", 1)
    )
    policy, problems = check_policy(text)
    assert policy is None
    found = {(p.line, p.field) for p in problems}
    assert found == {
        (line_of(text, "team_timezone: Europe/Atlantis"), "team_timezone"),
        (line_of(text, "within: 3 months"), "rules[3].when.history[0].within"),
        (line_of(text, "time: [weekends]"), "rules[6].when.time[0]"),
        (line_of(text, "ack_minutes: -5"), "rules[14].ack_minutes"),
    }
    messages = " | ".join(p.message for p in problems)
    assert "unknown IANA time zone 'Europe/Atlantis'" in messages
    assert "write a duration as a number and m, h, d or w" in messages


def test_check_names_where_a_rule_refers_to_nothing() -> None:
    text = SHIPPED.replace(
        "history: {markers: [suspension], within: 7d}",
        "history: {markers: [suspended], within: 7d}",
    ).replace(
        "history: {signals: [abuse], at_least: 2, within: 30d}",
        "history: {signals: [abuse], at_least: 2, within: 120d}",
    )
    (unknown, too_far) = check_policy(text)[1]
    assert (unknown.line, unknown.field) == (
        line_of(text, "markers: [suspended]"),
        "rules[5].when.history[0].markers",
    )
    assert (
        unknown.message == "rule billing-dispute-suspension-pending: unknown markers ['suspended']"
    )
    assert (too_far.line, too_far.field) == (
        line_of(text, "within: 120d"),
        "rules[17].when.history[0].within",
    )
    assert "looks back further than history_lookback" in too_far.message


def _explain(tmp_path: Path, text: str, *args: str, language: str = "ru") -> str:
    path = tmp_path / "message.json"
    path.write_text(_message(text, language).model_dump_json(), encoding="utf-8")
    result = runner.invoke(app, ["policy", "explain", str(path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_explain_shows_the_time_that_made_a_rule_match_and_the_rules_it_outranked(
    tmp_path: Path,
) -> None:
    paid = "Мы уже оплатили, платёжка во вложении, а вы пишете про задолженность"
    out = _explain(tmp_path, paid, "--at", "2022-03-26T11:02:00+03:00")

    assert "time: Sat 2022-03-26 11:02 Europe/Moscow: off hours, weekend" in out
    assert "- billing-dispute-off-hours: billing P1 -> billing, account_manager" in out
    assert "    time Sat 2022-03-26 11:02 Europe/Moscow: off hours, weekend" in out
    assert "also matched, less grave: billing-dispute (P2)" in out
    assert "history (none given: an empty history):" in out

    weekday = _explain(tmp_path, paid, "--at", "2022-03-29T11:02:00+03:00")
    assert "- billing-dispute: billing P2" in weekday and "off-hours" not in weekday


def test_explain_takes_the_history_as_json_and_shows_the_facts_that_matched(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history.json"
    history.write_text(
        json.dumps(
            {
                "messages": [
                    {
                        "message_id": "m-1",
                        "at": "2025-03-10T09:00:00+00:00",
                        "channel": "chat",
                        "signals": {"abuse": 0.99},
                        "marks": [{"kind": "warning", "name": "abuse"}],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    args = ("--history", str(history), "--at", "2025-03-11T10:00:00+03:00")

    out = _explain(tmp_path, "Вы идиоты, сколько можно ждать!", *args)

    assert f"history (from {history}):" in out
    assert "  message 2025-03-10 09:00 chat: abuse 0.99; warning abuse" in out
    assert "- abuse-repeated-to-supervisor: abuse P3 -> agent, supervisor" in out
    assert "    history: abuse in 2 messages within 30d (this one included; at least 2)" in out
    assert "also matched, less grave: abuse-agent-guidance (P4)" in out
    assert "records a warning" in out


def test_explain_refuses_a_broken_history_and_two_sources(tmp_path: Path) -> None:
    broken = tmp_path / "history.json"
    broken.write_text(json.dumps({"messages": [{"at": "yesterday"}]}), encoding="utf-8")
    path = tmp_path / "message.json"
    path.write_text(_message("Вы идиоты!").model_dump_json(), encoding="utf-8")

    result = runner.invoke(app, ["policy", "explain", str(path), "--history", str(broken)])
    assert result.exit_code == 2 and "message_id" in result.output
    both = runner.invoke(app, ["policy", "explain", str(path), "--history", str(broken), "--db"])
    assert both.exit_code == 2 and "not both" in both.output


def test_explain_says_the_client_contacts_are_withheld_under_a_hold(tmp_path: Path) -> None:
    failure = "Вы обещали восстановить контент и опять не сделали."
    threat = " Иначе я стану вашим кошмаром: распишу про вас во всех SMM-сообществах."

    plain = _explain(tmp_path, failure)
    held = _explain(tmp_path, failure + threat)

    assert "client contact: service_failure_notice to registered_channel\n" in plain
    assert "hold: Разбирательство приостановлено до прекращения угроз." in held
    assert (
        "client contact: service_failure_notice to registered_channel (withheld: a hold stands)"
        in held
    )


def test_explain_says_no_admission_of_fault_goes_while_the_lawyers_weigh_a_claim(
    tmp_path: Path,
) -> None:
    claim = "Вы обещали восстановить контент и опять не сделали. Подам на вас в суд."

    said = _explain(tmp_path, claim)

    assert (
        "client contact: service_failure_notice to registered_channel (withheld: the lawyers "
        "weigh a claim; no admission of fault)" in said
    )


def test_explain_sees_a_hold_that_a_threat_keeps_and_one_a_calm_message_lifts(
    tmp_path: Path,
) -> None:
    """The hold stands while the client still threatens (here violence, not blackmail: no
    rule of the held kind fires), and a message without threats lifts it."""
    history = tmp_path / "history.json"
    since = "2025-03-10T09:00:00+00:00"
    hold = {
        "rule": "blackmail-to-head-of-support",
        "reason": {"ru": "Разбирательство приостановлено до прекращения угроз."},
        "while_signals": ["reputation_threat", "violence_threat"],
        "since": since,
        "message_id": "m-1",
    }
    escalation = {
        "id": "e-1",
        "kind": "reputation",
        "severity": "P2",
        "status": "open",
        "rule": "blackmail-to-head-of-support",
        "opened_at": since,
        "hold": hold,
    }
    history.write_text(json.dumps({"escalations": [escalation]}), encoding="utf-8")
    failure = "Вы обещали восстановить контент и опять не сделали."
    args = ("--history", str(history))

    threatening = _explain(tmp_path, failure + " Приеду к вам в офис и переломаю вам ноги.", *args)
    calm = _explain(tmp_path, failure, *args)

    withheld = "service_failure_notice to registered_channel (withheld: a hold stands)"
    assert "escalation reputation P2 open 2025-03-10; hold active" in threatening
    assert "lifts the hold" not in threatening and withheld in threatening
    assert "this message lifts the hold of reputation e-1" in calm
    assert "client contact: service_failure_notice to registered_channel\n" in calm


def test_explain_says_whom_of_the_staff_a_threat_names(tmp_path: Path) -> None:
    managed = Identity(
        status="verified",
        confidence=0.95,
        customer=CustomerRef(id="cust-smm", name="SMM Pro", tier="standard"),
        account_manager=StaffRef(id="am-petrova", name="Ольга Петрова", email="o@x.example"),
    )
    bare = tmp_path / "bare.json"
    bare.write_text(
        _message("Передайте Ольге: я знаю, где она живёт.").model_dump_json(), encoding="utf-8"
    )
    given = tmp_path / "identity.json"
    given.write_text(managed.model_dump_json(), encoding="utf-8")

    out = runner.invoke(app, ["policy", "explain", str(bare), "--identity", str(given)]).output

    assert "- violence-to-security: violence P1" in out
    assert "the threat names the account manager am-petrova by name" in out


def test_explain_says_when_a_threat_of_harms_hold_lifts_and_that_an_apology_lifts_it_sooner(
    tmp_path: Path,
) -> None:
    """A calm message an hour after a threat of harm keeps its hold (a day of calm, or one
    taking the threats back); the rule's line says how its hold ends."""
    history = tmp_path / "history.json"
    since = "2025-03-10T09:00:00+00:00"
    hold = {
        "rule": "violence-to-security",
        "reason": {"ru": "Разбирательство приостановлено до прекращения угроз."},
        "while_signals": ["reputation_threat", "violence_threat"],
        "since": since,
        "message_id": "m-1",
        "calm_for": "PT24H",
    }
    escalation = {
        "id": "e-1",
        "kind": "violence",
        "severity": "P1",
        "status": "open",
        "rule": "violence-to-security",
        "opened_at": since,
        "hold": hold,
    }
    history.write_text(json.dumps({"escalations": [escalation]}), encoding="utf-8")
    args = ("--history", str(history))
    soon = ("--at", "2025-03-10T10:00:00+00:00")

    calm = _explain(tmp_path, "Вы обещали восстановить контент и опять не сделали.", *args, *soon)
    sorry = _explain(tmp_path, "Извините, я погорячился. Когда вернёте деньги?", *args, *soon)
    later = _explain(tmp_path, "Когда вернёте деньги?", *args, "--at", "2025-03-11T09:00:00+00:00")
    threat = _explain(tmp_path, "Приеду к вам в офис и переломаю вам ноги.")

    assert "lifts the hold" not in calm
    assert (
        "the hold of violence e-1: a message without the threats lifts it from "
        "2025-03-11 09:00 UTC, or sooner one taking them back" in calm
    )
    assert "this message lifts the hold of violence e-1" in sorry
    assert "this message lifts the hold of violence e-1" in later
    assert (
        "hold: Разбирательство приостановлено до прекращения угроз. (lifted by the "
        "threatener's message without the threats 1d after the last, or sooner by one "
        "taking them back)" in threat
    )

"""How long working data is kept: the subject history from the policy, idempotency keys from
the retention setting and the streams, and what each service names as prunable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml

from services.escalator.app import build_app as build_escalator
from services.escalator.policy import Policy, load_policy, parse_policy
from services.escalator.retention import CONSUMED as escalator_consumed
from services.escalator.retention import history_horizon, longest_lookback
from services.escalator.retention import prunables as escalator_prunables
from services.escalator.settings import EscalatorSettings
from services.intake.app import build_app as build_intake
from services.intake.retention import CONSUMED as intake_consumed
from services.intake.retention import prunables as intake_prunables
from services.notifier.app import build_app as build_notifier
from services.notifier.retention import CONSUMED as notifier_consumed
from services.notifier.retention import prunables as notifier_prunables
from services.verifier.app import build_app as build_verifier
from services.verifier.retention import CONSUMED as verifier_consumed
from services.verifier.retention import prunables as verifier_prunables
from shared.retention import KEY_MARGIN, key_horizon
from shared.settings import CarelineSettings
from shared.subjects import STREAM_CRM, STREAM_DLQ, STREAM_INBOUND, STREAMS, StreamSpec

pytestmark = pytest.mark.unit

DAY = timedelta(days=1)
ABUSE = {"any_signals": ["abuse"]}
AUDIT_TABLES = {
    "intake.messages",
    "crm.identity_decisions",
    "crm.confirmation_log",
    "escalator.escalations",
    "escalator.escalation_timeline",
    "notifier.notifications",
}


def policy(*rules: dict[str, Any], **top: Any) -> Policy:
    data: dict[str, Any] = {
        "roles": {"head_of_support": "head@x.example"},
        "ack_deadlines_minutes": {"P1": 15, "P2": 60, "P3": 240, "P4": 1440},
        "rules": [
            {"id": f"r{i}", "kind": "k", "severity": "P3", "notify": ["head_of_support"], **rule}
            for i, rule in enumerate(rules)
        ],
        **top,
    }
    return parse_policy(yaml.safe_dump(data))


def test_the_history_horizon_is_the_policy_lookback_plus_the_margin() -> None:
    assert history_horizon(policy({"when": ABUSE}), 14 * DAY) == 90 * DAY + 14 * DAY
    assert history_horizon(policy({"when": ABUSE}, history_lookback="30d"), 0 * DAY) == 30 * DAY


def test_a_longer_reopening_window_lengthens_the_horizon() -> None:
    reopening = policy({"when": ABUSE, "reopen_within": "120d"}, history_lookback="60d")
    policy_reopening = policy({"when": ABUSE}, history_lookback="20d", reopen_within="45d")

    assert longest_lookback(reopening) == 120 * DAY
    assert longest_lookback(policy_reopening) == 45 * DAY


def test_the_shipped_policy_keeps_history_for_its_90_days_and_the_default_margin() -> None:
    margin = EscalatorSettings().history_margin
    plan = {p.table: p for p in escalator_prunables(load_policy(), 35 * DAY, margin)}

    assert margin == 14 * DAY
    assert plan["escalator.subject_messages"].horizon == 104 * DAY
    assert plan["escalator.subject_messages"].age == "at"


def test_idempotency_keys_outlive_every_stream_a_message_can_come_back_from() -> None:
    week = StreamSpec("S", ("s",), "", max_age_seconds=7 * 86400, duplicate_window_seconds=600)
    dlq_age = timedelta(seconds=STREAM_DLQ.max_age_seconds)

    assert key_horizon(90 * DAY, [week]) == 90 * DAY
    assert key_horizon(1 * DAY, [week]) == max(7 * DAY, dlq_age) + KEY_MARGIN
    assert key_horizon(1 * DAY, [STREAM_INBOUND, STREAM_CRM]) >= (
        timedelta(seconds=STREAM_CRM.max_age_seconds) + KEY_MARGIN
    )


def test_the_default_retention_is_kept_as_set_by_every_service() -> None:
    retention = CarelineSettings().retention
    plans = [
        *intake_prunables(retention),
        *verifier_prunables(retention),
        *escalator_prunables(load_policy(), retention, 14 * DAY),
        *notifier_prunables(retention),
    ]
    keys = [p for p in plans if p.table.endswith(".processed_messages")]

    assert retention == 35 * DAY
    assert [p.table.split(".")[0] for p in keys] == ["intake", "crm", "escalator", "notifier"]
    assert all(p.horizon == retention for p in keys)


def test_retention_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARELINE_RETENTION_DAYS", "60")
    monkeypatch.setenv("CARELINE_PRUNE_SECONDS", "0")
    monkeypatch.setenv("CARELINE_PRUNE_BATCH", "250")
    monkeypatch.setenv("ESCALATOR_HISTORY_MARGIN_DAYS", "30")
    settings = EscalatorSettings()

    assert (settings.retention, settings.prune_seconds, settings.prune_batch) == (60 * DAY, 0, 250)
    assert settings.history_margin == 30 * DAY


def test_no_service_names_an_audit_record_as_prunable() -> None:
    retention = 35 * DAY
    named = {
        p.table
        for p in (
            *intake_prunables(retention),
            *verifier_prunables(retention),
            *escalator_prunables(load_policy(), retention, 14 * DAY),
            *notifier_prunables(retention),
        )
    }

    assert not named & AUDIT_TABLES


def test_with_a_content_horizon_records_are_redacted_never_deleted() -> None:
    retention, content = 35 * DAY, 365 * DAY
    plans = [
        *intake_prunables(retention, content),
        *verifier_prunables(retention),
        *escalator_prunables(load_policy(), retention, 14 * DAY, content),
        *notifier_prunables(retention, content),
    ]
    records = {p.table: p for p in plans if p.table in AUDIT_TABLES}

    assert set(records) == AUDIT_TABLES - {"crm.identity_decisions", "crm.confirmation_log"}
    assert all(p.redact and "redacted" in p.only for p in records.values())
    assert all(p.horizon == content for p in records.values())
    assert "status = 'resolved'" in records["escalator.escalations"].only


def test_the_content_horizon_never_undercuts_keys_or_the_policy_windows() -> None:
    policy = load_policy()  # looks back 90 days: history kept 104 days with the margin
    intake = {p.table: p for p in intake_prunables(35 * DAY, 1 * DAY)}
    escalator = {p.table: p for p in escalator_prunables(policy, 35 * DAY, 14 * DAY, 1 * DAY)}

    assert intake["intake.messages"].horizon == intake["intake.processed_messages"].horizon
    assert escalator["escalator.escalations"].horizon == 104 * DAY
    assert "intake.messages" not in {p.table for p in intake_prunables(35 * DAY)}


def test_the_content_horizon_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CarelineSettings().content_retention is None
    monkeypatch.setenv("CARELINE_CONTENT_DAYS", "400")

    assert CarelineSettings().content_retention == 400 * DAY
    assert EscalatorSettings().content_retention == 400 * DAY


def consumed_streams(build: Any) -> list[StreamSpec]:
    """The JetStream streams the service's subscribers read, from its app as built (core
    NATS subscribers, request/reply, read none and are never redelivered)."""
    by_name = {spec.name: spec for spec in STREAMS}
    streams = [getattr(s, "stream", None) for s in build().broker.subscribers]
    names = {stream.name for stream in streams if stream is not None}
    return [by_name[name] for name in sorted(names)]


@pytest.mark.parametrize(
    ("build", "consumed"),
    [
        (build_intake, intake_consumed),
        (build_verifier, verifier_consumed),
        (build_escalator, escalator_consumed),
        (build_notifier, notifier_consumed),
    ],
)
def test_each_service_keeps_its_keys_for_exactly_the_streams_its_handlers_read(
    build: Any, consumed: tuple[StreamSpec, ...]
) -> None:
    # A stream missing from the list would have its redeliveries outlive their keys.
    assert set(consumed) == set(consumed_streams(build))

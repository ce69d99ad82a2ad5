"""The policy's conditions beyond signals, one at a time: channel, time in the team's zone,
markers, history facts, exclusions, several signals at once, the gravest rule of a kind;
and the outputs the lifecycle reads: levels, own deadlines, holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from services.escalator.condition_facts import Fact
from services.escalator.history import (
    History,
    HistoryCondition,
    Hold,
    Mark,
    PastEscalation,
    SeenMessage,
    holds_to_lift,
)
from services.escalator.lifecycle import Escalation, Notified, next_climb
from services.escalator.policy import Decision, Policy, Situation, evaluate, parse_policy
from services.escalator.team_calendar import TeamCalendar, describe_duration, parse_duration
from shared.contracts import CustomerRef, Identity, Signal

pytestmark = pytest.mark.unit

# Tuesday 11 March 2025, 10:00 in Moscow (07:00 UTC): business hours.
TUESDAY_MORNING = datetime(2025, 3, 11, 7, 0, tzinfo=UTC)
# Saturday 26 March 2022, 11:02 in Moscow: the seed-000 notice came on a Saturday.
SATURDAY = datetime(2022, 3, 26, 8, 2, tzinfo=UTC)
VERIFIED = Identity(
    status="verified",
    confidence=0.95,
    customer=CustomerRef(id="cust-1", name="Client Ltd", tier="standard"),
)


def policy(*rules: dict[str, Any], **top: Any) -> Policy:
    data: dict[str, Any] = {
        "team_timezone": "Europe/Moscow",
        "holidays": {"countries": ["RU"], "dates": ["2025-03-12"]},
        "markers": {"suspension": {"patterns": [r"приостан\w*", r"suspen\w*"]}},
        "roles": {"head_of_support": "head@x.example", "director": "dir@x.example"},
        "ack_deadlines_minutes": {"P1": 15, "P2": 60, "P3": 240, "P4": 1440},
        "chains": {"head_of_support": [], "account_manager": ["head_of_support"]},
        "rules": [
            {"kind": "k", "severity": "P3", "notify": ["head_of_support"], **rule} for rule in rules
        ],
        **top,
    }
    return parse_policy(yaml.safe_dump(data, allow_unicode=True, default_flow_style=False))


def sig(name: str, score: float = 0.9) -> Signal:
    return Signal(name=name, score=score)


def fired(
    p: Policy, signals: list[Signal], situation: Situation, who: Identity = VERIFIED
) -> list[str]:
    return [d.rule.id for d in evaluate(p, signals, who, situation)]


def seen(days_ago: float, at: datetime = TUESDAY_MORNING, **kw: Any) -> SeenMessage:
    return SeenMessage(
        message_id=f"m-{days_ago}", at=at - timedelta(days=days_ago), channel="email", **kw
    )


# --- channel, time, markers ------------------------------------------------------------


def test_a_channel_condition_matches_only_those_channels() -> None:
    p = policy({"id": "chat-abuse", "when": {"any_signals": ["abuse"], "channels": ["chat"]}})

    assert fired(p, [sig("abuse")], Situation(TUESDAY_MORNING, "chat")) == ["chat-abuse"]
    assert fired(p, [sig("abuse")], Situation(TUESDAY_MORNING, "email")) == []
    assert fired(p, [sig("abuse")], Situation()) == []  # no channel known: no match


@pytest.mark.parametrize(
    ("moment", "periods"),
    [
        (TUESDAY_MORNING, {"business_hours"}),
        (datetime(2025, 3, 11, 15, 30, tzinfo=UTC), {"off_hours"}),  # 18:30 in Moscow
        (datetime(2025, 3, 11, 5, 59, tzinfo=UTC), {"off_hours"}),  # 08:59 in Moscow
        (SATURDAY, {"weekend", "off_hours"}),
        (datetime(2025, 3, 12, 8, 0, tzinfo=UTC), {"holiday", "off_hours"}),  # company day
        (datetime(2026, 3, 9, 8, 0, tzinfo=UTC), {"holiday", "off_hours"}),  # RU, observed
        (datetime(2025, 1, 4, 8, 0, tzinfo=UTC), {"holiday", "weekend", "off_hours"}),
    ],
)
def test_the_team_calendar_names_the_periods_in_the_team_zone(
    moment: datetime, periods: set[str]
) -> None:
    calendar = policy({"id": "r", "when": {"any_signals": ["abuse"]}}).calendar

    assert calendar.periods(moment) == periods


def test_the_same_moment_is_business_hours_in_one_zone_and_night_in_another() -> None:
    late_in_moscow = datetime(2025, 3, 11, 16, 0, tzinfo=UTC)  # 19:00 Moscow, 12:00 New York

    assert TeamCalendar(timezone="Europe/Moscow").periods(late_in_moscow) == {"off_hours"}
    assert TeamCalendar(timezone="America/New_York").periods(late_in_moscow) == {"business_hours"}


def test_a_time_condition_matches_any_of_its_periods_and_says_when() -> None:
    p = policy(
        {
            "id": "weekend-billing",
            "when": {"any_signals": ["billing_dispute"], "time": ["weekend", "holiday"]},
        }
    )
    billing = [sig("billing_dispute")]

    (decision,) = evaluate(p, billing, VERIFIED, Situation(SATURDAY, "email"))
    assert "time Sat 2022-03-26 11:02 Europe/Moscow: off hours, weekend" in decision.reason
    holiday = datetime(2025, 3, 12, 8, 0, tzinfo=UTC)
    assert fired(p, billing, Situation(holiday, "email")) == ["weekend-billing"]
    assert fired(p, billing, Situation(TUESDAY_MORNING, "email")) == []
    assert fired(p, billing, Situation(None, "email")) == []  # no clock: no time match


def test_a_marker_condition_reads_subject_and_text_case_insensitively() -> None:
    p = policy(
        {"id": "susp", "when": {"any_signals": ["billing_dispute"], "markers": ["suspension"]}}
    )
    billing = [sig("billing_dispute")]

    assert fired(p, billing, Situation(TUESDAY_MORNING, "email", "Аккаунт ПРИОСТАНОВЛЕН")) == [
        "susp"
    ]
    assert fired(p, billing, Situation(TUESDAY_MORNING, "email", "Account suspended\n")) == ["susp"]
    assert fired(p, billing, Situation(TUESDAY_MORNING, "email", "Оплатили счёт")) == []


# --- history -----------------------------------------------------------------------------


def test_signal_counts_include_this_message_and_respect_the_window() -> None:
    p = policy(
        {
            "id": "repeated",
            "when": {
                "any_signals": ["abuse"],
                "history": {"signals": ["abuse"], "at_least": 2, "within": "30d"},
            },
        }
    )
    earlier = History(messages=[seen(3, signals={"abuse": 0.9})])
    long_ago = History(messages=[seen(45, signals={"abuse": 0.9})])
    weak = History(messages=[seen(3, signals={"abuse": 0.3})])

    (decision,) = evaluate(
        p, [sig("abuse")], VERIFIED, Situation(TUESDAY_MORNING, "chat", "", earlier)
    )
    assert "history: abuse in 2 messages within 30d (this one included; at least 2)" in (
        decision.reason
    )
    assert decision.facts[-1].kind == "history_signals"
    assert decision.facts[-1].values == {
        "names": ["abuse"],
        "count": 2,
        "within": "30d",
        "included": True,
        "at_least": 2,
    }
    assert fired(p, [sig("abuse")], Situation(TUESDAY_MORNING, "chat", "", long_ago)) == []
    assert fired(p, [sig("abuse")], Situation(TUESDAY_MORNING, "chat", "", weak)) == []
    assert fired(p, [sig("abuse")], Situation(TUESDAY_MORNING, "chat")) == []


def test_markers_of_earlier_messages_count_too() -> None:
    p = policy(
        {
            "id": "suspension-pending",
            "when": {
                "any_signals": ["billing_dispute"],
                "history": {"markers": ["suspension"], "within": "7d"},
            },
        }
    )
    notice = History(messages=[seen(1, markers=["suspension"])])

    assert fired(p, [sig("billing_dispute")], Situation(TUESDAY_MORNING, "email", "", notice)) == [
        "suspension-pending"
    ]
    old = History(messages=[seen(8, markers=["suspension"])])
    assert fired(p, [sig("billing_dispute")], Situation(TUESDAY_MORNING, "email", "", old)) == []


def _escalation(kind: str, status: str, days_ago: float, **kw: Any) -> PastEscalation:
    return PastEscalation(
        id=f"e-{kind}-{days_ago}",
        kind=kind,
        severity="P3",
        status=status,
        rule="r",
        opened_at=TUESDAY_MORNING - timedelta(days=days_ago),
        **kw,
    )


def test_escalation_counts_and_open_escalations() -> None:
    p = policy(
        {"id": "k-rule", "kind": "k", "when": {"any_signals": ["panic"]}},
        {
            "id": "after-two",
            "kind": "other",
            "when": {
                "any_signals": ["panic"],
                "history": {"escalations": ["k"], "at_least": 2, "within": "30d"},
            },
        },
        {
            "id": "while-open",
            "kind": "third",
            "when": {"any_signals": ["panic"], "history": {"open": []}},
        },
    )
    two = History(escalations=[_escalation("k", "resolved", 2), _escalation("k", "resolved", 20)])
    one_open = History(escalations=[_escalation("k", "open", 40)])
    at = TUESDAY_MORNING

    assert fired(p, [sig("panic")], Situation(at, "chat", "", two)) == ["k-rule", "after-two"]
    assert fired(p, [sig("panic")], Situation(at, "chat", "", one_open)) == ["k-rule", "while-open"]
    after_two = evaluate(p, [sig("panic")], VERIFIED, Situation(at, "chat", "", two))[1]
    assert after_two.facts[0].item() == {
        "kind": "history_escalations",
        "values": {"names": ["k"], "count": 2, "within": "30d", "at_least": 2},
        "text": "history: 2 k escalations within 30d (at least 2)",
    }
    while_open = evaluate(p, [sig("panic")], VERIFIED, Situation(at, "chat", "", one_open))[1]
    assert while_open.facts[0].values == {"open": [{"kind": "k", "severity": "P3"}]}


def test_warned_and_flagged_read_the_marks_earlier_messages_left() -> None:
    p = policy(
        {
            "id": "r1",
            "kind": "reputation",
            "when": {"any_signals": ["reputation_threat"]},
            "warn": True,
        },
        {
            "id": "r2",
            "kind": "reputation",
            "severity": "P1",
            "when": {
                "any_signals": ["reputation_threat"],
                "history": {"warned": ["reputation"], "within": "90d"},
            },
        },
        {
            "id": "h",
            "kind": "harassment",
            "when": {"any_signals": ["harassment"]},
            "flag": ["harassment"],
        },
        {
            "id": "h-again",
            "kind": "harassment",
            "severity": "P2",
            "when": {"any_signals": ["harassment"], "history": {"flagged": ["harassment"]}},
        },
    )
    warned = History(messages=[seen(5, marks=[Mark(kind="warning", name="reputation")])])
    flagged = History(messages=[seen(5, marks=[Mark(kind="flag", name="harassment")])])
    at = TUESDAY_MORNING

    (decision,) = evaluate(
        p, [sig("reputation_threat")], VERIFIED, Situation(at, "email", "", warned)
    )
    assert decision.rule.id == "r2" and [r.id for r in decision.superseded] == ["r1"]
    assert "history: warned about reputation on 2025-03-06" in decision.reason
    assert decision.facts[-1].item()["values"] == {
        "name": "reputation",
        "on": "2025-03-06",
        "count": 1,
        "within": "90d",
    }
    assert fired(p, [sig("reputation_threat")], Situation(at, "email")) == ["r1"]
    assert fired(p, [sig("harassment")], Situation(at, "social", "", flagged)) == ["h-again"]
    # A flag is not a warning, nor a warning of another kind.
    assert fired(p, [sig("reputation_threat")], Situation(at, "email", "", flagged)) == ["r1"]


def test_a_history_condition_asks_exactly_one_question() -> None:
    with pytest.raises(ValidationError, match="exactly one of"):
        HistoryCondition.model_validate({"signals": ["abuse"], "warned": []})
    with pytest.raises(ValidationError, match="exactly one of"):
        HistoryCondition.model_validate({"at_least": 2})
    with pytest.raises(ValidationError, match="name at least one"):
        HistoryCondition.model_validate({"signals": []})


# --- exclusions, several at once, the gravest of a kind --------------------------------


def test_none_signals_keeps_a_rule_for_the_signal_alone() -> None:
    p = policy(
        {
            "id": "abuse-alone",
            "when": {"any_signals": ["abuse"], "none_signals": ["reputation_threat"]},
        }
    )

    assert fired(p, [sig("abuse")], Situation()) == ["abuse-alone"]
    assert fired(p, [sig("abuse"), sig("reputation_threat")], Situation()) == []
    assert fired(p, [sig("abuse"), sig("reputation_threat", 0.4)], Situation()) == ["abuse-alone"]


def test_min_signals_counts_distinct_signals_at_the_rules_score() -> None:
    p = policy(
        {
            "id": "fed-up",
            "when": {"any_signals": ["service_failure"], "min_signals": 3, "min_score": 0.75},
        }
    )
    three = [sig("service_failure"), sig("churn_risk"), sig("compensation_demand", 0.8)]

    (decision,) = evaluate(p, three, VERIFIED, Situation())
    assert [s.name for s in decision.signals] == [
        "service_failure",
        "churn_risk",
        "compensation_demand",
    ]
    assert "3 signals at once (at least 3)" in decision.reason
    assert evaluate(p, [*three[:2], sig("compensation_demand", 0.6)], VERIFIED, Situation()) == []


def test_of_one_kind_the_gravest_rule_decides_and_the_first_among_equals() -> None:
    p = policy(
        {
            "id": "base",
            "kind": "billing",
            "severity": "P2",
            "when": {"any_signals": ["billing_dispute"]},
        },
        {
            "id": "urgent",
            "kind": "billing",
            "severity": "P1",
            "when": {"any_signals": ["billing_dispute"]},
        },
        {
            "id": "urgent-too",
            "kind": "billing",
            "severity": "P1",
            "when": {"any_signals": ["billing_dispute"]},
        },
        {"id": "other-kind", "kind": "retention", "when": {"any_signals": ["billing_dispute"]}},
    )

    decisions = evaluate(p, [sig("billing_dispute")], VERIFIED, Situation())
    assert [d.rule.id for d in decisions] == ["urgent", "other-kind"]
    assert [r.id for r in decisions[0].superseded] == ["base", "urgent-too"]


def test_a_history_only_channel_fires_nothing() -> None:
    p = policy(
        {"id": "any", "when": {"any_signals": ["billing_dispute"]}},
        history_only_channels=["system"],
    )

    assert fired(p, [sig("billing_dispute")], Situation(TUESDAY_MORNING, "system")) == []


def test_a_tier_condition_names_the_tier() -> None:
    p = policy({"id": "top", "when": {"any_signals": ["panic"], "tiers": ["gold"]}})
    gold = VERIFIED.model_copy(update={"customer": CustomerRef(id="c", name="C", tier="gold")})

    (decision,) = evaluate(p, [sig("panic")], gold, Situation())
    assert decision.facts == (Fact("tier", "tier gold", {"tier": "gold"}),)
    assert evaluate(p, [sig("panic")], VERIFIED, Situation()) == []


# --- outputs: levels, own deadline, holds ----------------------------------------------


def test_a_rule_names_roles_for_a_later_level_and_the_climb_tells_them() -> None:
    p = policy(
        {
            "id": "leveled",
            "when": {"any_signals": ["panic"]},
            "notify": ["head_of_support", {"role": "director", "level": 3}],
            "ack_minutes": 5,
        }
    )
    rule = p.rules[0]
    assert rule.roles == ["head_of_support"] and [(n.role, n.level) for n in rule.later] == [
        ("director", 3)
    ]
    assert p.ack_by(rule.severity, SATURDAY, rule.ack_minutes) == SATURDAY + timedelta(minutes=5)
    assert p.ack_by(rule.severity, SATURDAY) == SATURDAY + timedelta(minutes=240)
    escalation = Escalation(
        id=uuid.uuid4(),
        kind="k",
        severity="P3",
        status="open",
        level=1,
        message_id=uuid.uuid4(),
        correlation_id="c",
        ack_deadline=TUESDAY_MORNING,
        climb_due_at=TUESDAY_MORNING,
        notified=(Notified("head_of_support", "head@x.example", 1),),
        planned=(Notified("director", "dir@x.example", 3),),
    )

    climb = next_climb(p, escalation)  # level 2 has nobody (head_of_support's chain is empty)
    assert climb is not None and (climb.level, climb.roles) == (3, ("director",))
    assert climb.addresses == {"director": "dir@x.example"}


def test_holds_end_with_the_first_message_without_their_threats() -> None:
    hold = Hold(
        rule="r",
        reason={"en": "Investigation paused until the threats stop."},
        while_signals=["reputation_threat", "violence_threat"],
        since=TUESDAY_MORNING,
        message_id="m-1",
    )
    held = _escalation("reputation", "open", 1, hold=hold)
    history = History(escalations=[held, _escalation("legal", "open", 1)])

    assert holds_to_lift(history, {"reputation_threat": 0.9}) == []
    assert holds_to_lift(history, {"violence_threat": 0.7, "abuse": 0.9}) == []
    assert holds_to_lift(history, {"abuse": 0.9}) == [held]
    assert holds_to_lift(history, {}) == [held]
    lifted = held.model_copy(
        update={"hold": hold.model_copy(update={"lifted_at": TUESDAY_MORNING})}
    )
    assert holds_to_lift(History(escalations=[lifted]), {}) == []


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("45m", timedelta(minutes=45)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_durations_read_as_the_policy_writes_them(text: str, span: timedelta) -> None:
    assert parse_duration(text) == span
    assert parse_duration(describe_duration(span)) == span


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"team_timezone": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"holidays": {"countries": ["XX"]}}, "no public holiday calendar"),
        ({"business_hours": {"start": 540}}, "write times quoted"),
        ({"business_hours": {"start": "18:00", "end": "09:00"}}, "must be after start"),
        ({"history_lookback": "a month"}, "write a duration"),
        ({"markers": {"broken": {"patterns": ["(unclosed"]}}}, "not a regular expression"),
    ],
)
def test_bad_calendar_durations_and_markers_are_refused(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        policy({"id": "r", "when": {"any_signals": ["abuse"]}}, **change)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"when": {"any_signals": ["abuse"], "markers": ["nope"]}}, "unknown markers \\['nope'\\]"),
        (
            {"when": {"any_signals": ["abuse"], "history": {"warned": ["legall"]}}},
            "unknown kinds \\['legall'\\]",
        ),
        (
            {"when": {"any_signals": ["abuse"], "history": {"flagged": ["x"]}}},
            "unknown flags \\['x'\\]",
        ),
        (
            {
                "when": {
                    "any_signals": ["abuse"],
                    "history": {"signals": ["abuse"], "within": "400d"},
                }
            },
            "looks back further than history_lookback",
        ),
        (
            {"when": {"any_signals": ["abuse"]}, "notify": [{"role": "director", "level": 2}]},
            "nobody is told at level 1",
        ),
        (
            {
                "when": {"any_signals": ["abuse"]},
                "hold": {"reason": {"en": "x"}, "while_signals": ["threats"]},
            },
            "unknown signals",
        ),
    ],
)
def test_rules_that_refer_to_nothing_are_refused(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        policy({"id": "r", **rule})


def test_decisions_carry_their_facts_for_explain() -> None:
    p = policy(
        {
            "id": "weekend",
            "when": {"any_signals": ["panic"], "time": ["weekend"], "channels": ["phone"]},
        }
    )

    (decision,) = evaluate(p, [sig("panic")], VERIFIED, Situation(SATURDAY, "phone"))
    assert isinstance(decision, Decision)
    assert [f.text for f in decision.facts] == [
        "channel phone",
        "time Sat 2022-03-26 11:02 Europe/Moscow: off hours, weekend",
    ]
    # In parts too, for notices in the team's language.
    assert [f.item() for f in decision.facts] == [
        {"kind": "channel", "values": {"channel": "phone"}, "text": "channel phone"},
        {
            "kind": "time",
            "values": {
                "weekday": "sat",
                "local": "2022-03-26 11:02",
                "timezone": "Europe/Moscow",
                "periods": ["off_hours", "weekend"],
                "holiday": None,
            },
            "text": "time Sat 2022-03-26 11:02 Europe/Moscow: off hours, weekend",
        },
    ]
    assert decision.reason.startswith("rule weekend: panic 0.90 (); channel phone; time Sat")


def test_only_whoever_threatened_ends_the_hold_by_writing_calmly() -> None:
    # A colleague's calm question, or a stranger writing in the client's name, says nothing
    # of whether the threats stopped.
    hold = Hold(
        rule="r",
        reason={"en": "Investigation paused until the threats stop."},
        while_signals=["violence_threat"],
        since=TUESDAY_MORNING,
        message_id="m-1",
    )
    held = _escalation("violence", "open", 1, hold=hold)
    threat = SeenMessage(
        message_id="m-1", at=TUESDAY_MORNING, channel="email", sender="J.Miller@NW.example"
    )
    history = History(escalations=[held], messages=[threat])

    assert holds_to_lift(history, {}, sender="r.white@nw.example") == []
    assert holds_to_lift(history, {}, sender="j.miller@nw.example") == [held]
    # The threat's message out of the history: whoever writes calmly ends it, as before.
    assert holds_to_lift(History(escalations=[held]), {}, sender="r.white@nw.example") == [held]

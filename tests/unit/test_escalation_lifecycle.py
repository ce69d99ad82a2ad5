"""Who may act on an escalation, and who is told next when nobody acknowledges."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from services.escalator.lifecycle import Climb, Escalation, Notified, authorize, next_climb
from services.escalator.policy import POLICY_PATH, load_policy, parse_policy

pytestmark = pytest.mark.unit

POLICY = load_policy()
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def escalation(*notified: Notified, level: int = 1) -> Escalation:
    return Escalation(
        id=uuid.uuid4(),
        kind="legal",
        severity="P2",
        status="open",
        level=level,
        message_id=uuid.uuid4(),
        correlation_id="c",
        ack_deadline=NOW,
        climb_due_at=NOW,
        notified=notified,
    )


AM = Notified("account_manager", "o.petrova@careline.example", 1)
LEGAL = Notified("legal", "legal@careline.example", 1)
HEAD = Notified("head_of_support", "head.support@careline.example", 1)


def test_only_a_notified_address_may_act_in_the_role_it_was_notified_as() -> None:
    e = escalation(LEGAL, HEAD)
    assert authorize(e, " LEGAL@careline.example ", None) == LEGAL
    assert authorize(e, "legal@careline.example", "legal") == LEGAL
    assert authorize(e, "legal@careline.example", "head_of_support") is None
    assert authorize(e, "stranger@example.com", None) is None


def test_the_account_managers_chain_climbs_deputy_head_of_support_director() -> None:
    e = escalation(AM)
    assert next_climb(POLICY, e) == Climb(2, ("deputy",))
    deputy = Notified("deputy", "deputy.support@careline.example", 2, "climb")
    e2 = escalation(AM, deputy, level=2)
    assert next_climb(POLICY, e2) == Climb(3, ("head_of_support",))
    head = Notified("head_of_support", "head.support@careline.example", 3, "climb")
    assert next_climb(POLICY, escalation(AM, deputy, head, level=3)) == Climb(4, ("director",))
    director = Notified("director", "director@careline.example", 4, "climb")
    assert next_climb(POLICY, escalation(AM, deputy, head, director, level=4)) is None


def test_a_role_already_told_is_not_told_again_and_its_level_is_skipped() -> None:
    # legal -> head_of_support (already told at level 1); head_of_support -> director.
    assert next_climb(POLICY, escalation(LEGAL, HEAD)) == Climb(2, ("director",))
    director = Notified("director", "director@careline.example", 2, "climb")
    assert next_climb(POLICY, escalation(LEGAL, HEAD, director, level=2)) is None


def test_a_reassigned_role_climbs_its_own_chain() -> None:
    billing = Notified("billing", "billing@careline.example", 1, "reassigned")
    assert next_climb(POLICY, escalation(HEAD, billing)) == Climb(2, ("director",))


def _data() -> dict[str, Any]:
    return yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["chains"].update(legal=["ceo"]), "chain of legal: unknown roles.*ceo"),
        (lambda d: d["roles"].pop("director"), "chain of .*: no address for roles.*director"),
        (lambda d: d["ack_deadlines_minutes"].update(P1=0), "greater than 0"),
    ],
)
def test_chains_and_deadlines_are_validated(change: Any, message: str) -> None:
    data = _data()
    change(data)
    with pytest.raises(ValidationError, match=message):
        parse_policy(yaml.safe_dump(data, allow_unicode=True))

"""The escalation lifecycle on real NATS and PostgreSQL: staff commands over request-reply,
deadlines that climb exactly once with several replicas, and across a restart."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.escalator.policy import POLICY_PATH
from shared.contracts import (
    ReassignEscalation,
    ResolveEscalation,
)
from tests.integration.conftest import Env, count, rows
from tests.integration.escalator_harness import (
    BILLING,
    DIRECTOR,
    HEAD,
    LEGAL,
    Bus,
    ack,
    ask,
    escalator_settings,
    legal_threat,
    publish_verified,
    start,
    until,
)

pytestmark = pytest.mark.integration


async def test_notified_staff_acknowledge_reassign_and_resolve_with_who_did_it(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with AsyncExitStack() as stack:
        await start(stack, escalator_settings(env))
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = uuid.UUID(opened["escalation_id"])

        stranger = await ask(env, ack(escalation_id, "someone@else.example"))
        assert stranger.outcome == "forbidden"
        as_wrong_role = await ask(env, ack(escalation_id, LEGAL, actor_role="billing"))
        assert as_wrong_role.outcome == "forbidden"
        missing = await ask(env, ack(uuid.uuid4(), LEGAL))
        assert missing.outcome == "not_found"

        first = ack(escalation_id, "Legal@Careline.example")
        assert (await ask(env, first)).outcome == "acknowledged"
        assert (await ask(env, first)).outcome == "acknowledged"  # a retry: the same answer
        assert (await ask(env, ack(escalation_id, HEAD))).outcome == "already_acknowledged"
        (acknowledged,) = await bus.wait("escalation.acknowledged")
        assert (acknowledged["actor"], acknowledged["actor_role"]) == (LEGAL, "legal")

        handover = ReassignEscalation(
            command_id=uuid.uuid4(),
            escalation_id=escalation_id,
            actor=HEAD,
            to_role="billing",
            note="это про оплату",
        )
        assert (await ask(env, handover)).outcome == "reassigned"
        await bus.wait("escalation.reassigned")
        told = [
            n
            for n in await bus.wait("notify.request", 3)
            if n["recipient"] == BILLING and n["kind"] == "manager_escalation"
        ]
        assert len(told) == 1 and told[0]["data"]["escalation_id"] == str(escalation_id)

        close = ResolveEscalation(
            command_id=uuid.uuid4(),
            escalation_id=escalation_id,
            actor=BILLING,
            note="оплата нашлась",
        )
        assert (await ask(env, close)).outcome == "resolved"
        assert (await ask(env, ack(escalation_id, BILLING))).outcome == "already_resolved"
        (resolved,) = await bus.wait("escalation.resolved")
        assert resolved["note"] == "оплата нашлась" and resolved["status"] == "resolved"

        timeline = await rows(
            env,
            "SELECT entry, actor FROM escalator.escalation_timeline "
            "WHERE escalation_id = :id ORDER BY id",
            id=escalation_id,
        )
        assert [(t["entry"], (t["actor"] or {}).get("role")) for t in timeline] == [
            ("opened", None),
            ("refused", None),
            ("refused", "billing"),
            ("acknowledged", "legal"),
            ("reassigned", "head_of_support"),
            ("resolved", "billing"),
        ]
        # After resolution, the next threat (within the policy's window) reopens it.
        await publish_verified(nc, legal_threat("Иск уже готов, подаю в суд."))
        (reopened,) = await bus.wait("escalation.reopened")
        assert reopened["escalation_id"] == str(escalation_id)
        assert len(bus.of("escalation.opened")) == 1
        assert len(bus.of("escalation.acknowledged")) == 1


def _policy_file(tmp_path: Path, minutes: float) -> Path:
    data = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    data["ack_deadlines_minutes"] = {k: minutes for k in data["ack_deadlines_minutes"]}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def _insert_due(env: Env, n: int) -> list[uuid.UUID]:
    """`n` open, unacknowledged legal escalations whose deadline passed a minute ago."""
    now = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in range(n)]
    notified = [
        {"role": "legal", "address": LEGAL, "level": 1, "origin": "rule"},
        {"role": "head_of_support", "address": HEAD, "level": 1, "origin": "rule"},
    ]
    engine = create_async_engine(env.servers.database_url)
    try:
        async with engine.begin() as conn:
            for i, escalation_id in enumerate(ids):
                await conn.execute(
                    text(
                        "INSERT INTO escalator.escalations (id, subject_key, kind, severity, "
                        "status, rule, reason, level, identity_status, roles, signals, "
                        "message_count, ack_deadline, opened_at, updated_at, message_id, "
                        "correlation_id, notified, briefing, climb_due_at) VALUES (:id, :key, "
                        "'legal', 'P2', 'open', 'legal-threat-to-legal', 'test', 1, 'verified', "
                        "'[\"legal\", \"head_of_support\"]', '[]', 1, :due, :opened, :opened, "
                        ":id, :cid, CAST(:notified AS jsonb), '{}', :due)"
                    ),
                    {
                        "id": escalation_id,
                        "key": f"customer:due-{i}",
                        "due": now - timedelta(minutes=1),
                        "opened": now - timedelta(hours=1),
                        "cid": str(escalation_id),
                        "notified": json.dumps(notified),
                    },
                )
    finally:
        await engine.dispose()
    return ids


async def test_two_escalators_fire_every_due_deadline_exactly_once(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    ids = await _insert_due(env, 60)
    async with AsyncExitStack() as stack:
        settings = escalator_settings(env, ESCALATOR_SWEEP_BATCH=4)
        await asyncio.gather(start(stack, settings), start(stack, settings))

        async def all_climbed_and_published() -> bool:
            climbed = await count(
                env.servers, "SELECT count(*) FROM escalator.escalations WHERE level = 2"
            )
            waiting = await count(
                env.servers, "SELECT count(*) FROM escalator.outbox WHERE published_at IS NULL"
            )
            return climbed == len(ids) and waiting == 0

        await until(all_climbed_and_published, timeout=60)
        await nc.flush()  # everything published before the marks has reached us

    escalated = bus.of("escalation.escalated")
    assert sorted(e["escalation_id"] for e in escalated) == sorted(str(i) for i in ids)
    assert {tuple(e["roles"]) for e in escalated} == {("director",)}
    notes = [n for n in bus.of("notify.request") if n["kind"] == "re_escalation"]
    assert sorted(n["escalation_id"] for n in notes) == sorted(str(i) for i in ids)
    assert {n["recipient"] for n in notes} == {DIRECTOR}
    assert await count(
        env.servers,
        "SELECT count(*) FROM escalator.escalation_timeline WHERE entry = 'escalated'",
    ) == len(ids)


async def test_a_deadline_that_passes_while_the_escalator_is_down_fires_after_restart(
    env: Env, watch: tuple[nats.NATS, Bus], tmp_path: Path
) -> None:
    nc, bus = watch
    settings = escalator_settings(env, ESCALATOR_POLICY=str(_policy_file(tmp_path, 0.05)))
    async with AsyncExitStack() as stack:
        await start(stack, settings)
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
    assert bus.of("escalation.escalated") == []  # stopped before its 3-second deadline

    async def deadline_passed() -> bool:
        due = await count(
            env.servers,
            "SELECT count(*) FROM escalator.escalations WHERE climb_due_at < now()",
        )
        return due == 1

    await until(deadline_passed)
    assert bus.of("escalation.escalated") == []
    async with AsyncExitStack() as stack:
        await start(stack, settings)
        (escalated,) = await bus.wait("escalation.escalated")
        assert escalated["escalation_id"] == opened["escalation_id"]
        assert escalated["level"] == 2 and escalated["roles"] == ["director"]
        (note,) = [n for n in await bus.wait("notify.request", 3) if n["kind"] == "re_escalation"]
        assert note["recipient"] == DIRECTOR
        assert note["data"]["previous_roles"] == ["legal", "head_of_support"]

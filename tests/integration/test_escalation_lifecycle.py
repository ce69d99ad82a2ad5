"""The escalation lifecycle on real NATS and PostgreSQL: staff commands over request-reply,
deadlines that climb exactly once with several replicas, and across a restart."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml
from faststream._internal.testing.app import TestApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.escalator.app import build_app as build_escalator
from services.escalator.policy import POLICY_PATH
from services.escalator.request import request_command
from services.escalator.settings import EscalatorSettings
from shared.contracts import (
    AcknowledgeEscalation,
    ChannelRef,
    CustomerRef,
    EscalationCommand,
    EscalationCommandResult,
    Identity,
    IdentityVerified,
    MessageNormalized,
    ReassignEscalation,
    ResolveEscalation,
    SenderIdentifiers,
    StaffRef,
    derived_id,
)
from shared.settings import CarelineSettings
from tests.integration.conftest import Env, count, rows

pytestmark = pytest.mark.integration

LEGAL = "legal@careline.example"
HEAD = "head.support@careline.example"
BILLING = "billing@careline.example"
DIRECTOR = "director@careline.example"


class Bus:
    """Every message on the escalation event subjects and notify.request, decoded."""

    def __init__(self) -> None:
        self.seen: dict[str, list[dict[str, Any]]] = {}

    def of(self, subject: str) -> list[dict[str, Any]]:
        return self.seen.get(subject, [])

    async def wait(self, subject: str, n: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.of(subject)) < n:
            assert time.monotonic() < deadline, f"waited for {n} on {subject}: {list(self.seen)}"
            await asyncio.sleep(0.05)
        return self.of(subject)


@pytest.fixture
async def watch(env: Env) -> AsyncIterator[tuple[nats.NATS, Bus]]:
    nc = await nats.connect(env.servers.nats_url)
    bus = Bus()

    async def record(msg: Any) -> None:
        bus.seen.setdefault(msg.subject, []).append(json.loads(msg.data))

    for subject in ("escalation.*", "notify.request"):  # not escalation.cmd.* (two tokens)
        await nc.subscribe(subject, cb=record)
    try:
        yield nc, bus
    finally:
        await nc.close()


def escalator_settings(env: Env, **extra: Any) -> EscalatorSettings:
    return EscalatorSettings(**env.base(), ESCALATOR_SWEEP_SECONDS=0.1, **extra)


async def start(stack: AsyncExitStack, settings: EscalatorSettings) -> None:
    await stack.enter_async_context(TestApp(build_escalator(settings)))


def legal_threat(text_: str = "Я подам на вас в суд, это последнее предупреждение.") -> bytes:
    external_id = f"{uuid.uuid4()}@mail.stroymontazh.ru"
    message_id = derived_id("message", "email", external_id)
    now = datetime.now(UTC)
    message = MessageNormalized(
        event_id=derived_id("normalized", message_id),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=now,
        channel="email",
        sender=SenderIdentifiers(email="buh@stroymontazh.ru"),
        subject="Претензия",
        text=text_,
        language="ru",
        language_confidence=0.9,
        thread_id=external_id,
        external_id=external_id,
        received_at=now,
    )
    identity = Identity(
        status="verified",
        confidence=0.95,
        customer=CustomerRef(id="cust-stroymontazh", name="ООО «СтройМонтаж»", tier="gold"),
        account_manager=StaffRef(
            id="am-petrova", name="Ольга Петрова", email="o.petrova@careline.example"
        ),
        authorized_channels=[
            ChannelRef(kind="email", address="buh@stroymontazh.ru", verified=True)
        ],
        disclosure="account",
    )
    verified = IdentityVerified(
        event_id=derived_id("verified", message_id),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=now,
        message=message,
        identity=identity,
    )
    return verified.model_dump_json().encode()


async def publish_verified(nc: nats.NATS, payload: bytes) -> None:
    await nc.jetstream().publish("message.verified", payload)


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def ask(env: Env, command: EscalationCommand) -> EscalationCommandResult:
    return await request_command(CarelineSettings(**env.base()), command, timeout=5.0)


def ack(escalation_id: uuid.UUID, actor: str, **kw: Any) -> AcknowledgeEscalation:
    return AcknowledgeEscalation(
        command_id=uuid.uuid4(), escalation_id=escalation_id, actor=actor, **kw
    )


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

"""The escalator's batches on real PostgreSQL (services/escalator/batch.py): messages of one
client decided in one transaction see each other in order, exactly as one by one; a batch
seen again doubles nothing; batches that share clients in opposite orders both finish."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from services.escalator.policy import load_policy
from services.escalator.service import EscalatorService
from services.escalator.tables import processed
from shared.contracts import CustomerRef, IdentityVerified
from shared.db import Database
from shared.group_commit import GroupCommit
from shared.outbox import Outgoing
from tests.conftest import Servers
from tests.integration.conftest import count
from tests.integration.test_escalation_history import CALM, SEED_003, said

pytestmark = pytest.mark.integration

# Abuse twice (the second brings in the supervisor), threats that put a hold, a calm message
# that lifts it, and a legal threat: each decision depends on the messages before it.
SCRIPT: list[tuple[str, str, str]] = [
    ("Вы идиоты, сколько можно ждать!", "ru", "chat"),
    ("Ви там зовсім бовдури? Скільки можна чекати!", "uk", "chat"),
    (SEED_003, "ru", "email"),
    (CALM, "ru", "email"),
    ("I will sue you, this is the last warning.", "en", "email"),
    ("Подам на вас до суду.", "uk", "email"),
]


def escalator(db: Database, concurrency: int = 1) -> EscalatorService:
    commits = GroupCommit(
        db, processed, "escalator", lambda: datetime.now(UTC), concurrency=concurrency
    )
    return EscalatorService(db, load_policy(), lambda: datetime.now(UTC), commits=commits)


def client(customer_id: str) -> list[IdentityVerified]:
    customer = CustomerRef(id=customer_id, name="ТОВ «Квітка»", tier="silver")
    return [
        IdentityVerified.model_validate_json(said(t, language, channel, customer))  # type: ignore[arg-type]
        for t, language, channel in SCRIPT
    ]


def what_happened(outputs: list[list[Outgoing]]) -> list[list[tuple[Any, ...]]]:
    """Per message: what changed and who was told, without ids and times."""
    return [
        [
            (
                o.subject,
                o.payload.get("change"),
                o.payload.get("kind"),
                o.payload.get("severity"),
                o.payload.get("rule"),
                o.payload.get("recipient"),
                o.payload.get("hold"),
            )
            for o in outs
        ]
        for outs in outputs
    ]


async def stored(db: Database, customer_id: str) -> list[tuple[Any, ...]]:
    async with db.transaction() as session:
        escalations = await session.execute(
            text(
                "SELECT kind, severity, status, rule, message_count, hold IS NOT NULL, "
                "hold ->> 'lifted_at' IS NOT NULL, jsonb_array_length(notified) "
                "FROM escalator.escalations WHERE customer_id = :c ORDER BY kind"
            ),
            {"c": customer_id},
        )
        seen = await session.execute(
            text(
                "SELECT channel, marks, jsonb_array_length(escalations) "
                "FROM escalator.subject_messages WHERE customer_id = :c ORDER BY at"
            ),
            {"c": customer_id},
        )
        timeline = await session.execute(
            text(
                "SELECT t.entry, count(*) FROM escalator.escalation_timeline t "
                "JOIN escalator.escalations e ON e.id = t.escalation_id "
                "WHERE e.customer_id = :c GROUP BY t.entry ORDER BY t.entry"
            ),
            {"c": customer_id},
        )
        return [*map(tuple, escalations), *map(tuple, seen), *map(tuple, timeline)]


async def test_one_clients_messages_in_one_batch_see_each_other_in_order(db: Database) -> None:
    alone, together = client("cust-one-by-one"), client("cust-one-batch")

    one_by_one = [await escalator(db).handle(m) for m in alone]
    service = escalator(db)
    batched = await asyncio.gather(*(service.handle(m) for m in together))

    assert what_happened(batched) == what_happened(one_by_one)
    assert await stored(db, "cust-one-batch") == await stored(db, "cust-one-by-one")
    assert any(what_happened(batched))  # the script did escalate, warn, hold and lift


async def test_a_batch_seen_again_doubles_nothing(servers: Servers, db: Database) -> None:
    messages = client("cust-again")
    service = escalator(db)
    first = await asyncio.gather(*(service.handle(m) for m in messages))
    before = await stored(db, "cust-again")

    again = await asyncio.gather(*(escalator(db).handle(m) for m in messages))

    assert again == first
    assert await stored(db, "cust-again") == before
    assert await count(servers, "SELECT count(*) FROM escalator.subject_messages") == len(messages)


async def test_batches_that_share_clients_in_opposite_orders_both_commit(
    servers: Servers, db: Database
) -> None:
    a, b = client("cust-a"), client("cust-b")
    service = escalator(db, concurrency=2)
    # Two transactions at once, each with both clients, taking them in opposite orders.
    first = [m for pair in zip(a[:3], b[:3], strict=True) for m in pair]
    second = [m for pair in zip(b[3:], a[3:], strict=True) for m in pair]
    service.commits.max_batch = len(first)

    results = await asyncio.gather(*(service.handle(m) for m in [*first, *second]))

    assert len(results) == len(first) + len(second)
    assert await count(servers, "SELECT count(*) FROM escalator.processed_messages") == 12
    assert await count(servers, "SELECT count(*) FROM escalator.subject_messages") == 12

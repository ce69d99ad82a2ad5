"""Retention on the real PostgreSQL: what is past its horizon goes, records and recent rows stay."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from services.escalator.policy import POLICY_PATH, load_policy, parse_policy
from services.escalator.retention import prunables as escalator_prunables
from services.escalator.tables import processed as escalator_processed
from services.notifier.retention import prunables as notifier_prunables
from services.verifier.retention import prunables as verifier_prunables
from shared.db import Database, create_engine
from shared.group_commit import GroupCommit
from shared.outbox import Outgoing
from shared.retention import Prunable, Pruner
from tests.conftest import Servers

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RETENTION = timedelta(days=35)
MARGIN = timedelta(days=14)
DAY = timedelta(days=1)


def clock() -> datetime:
    return NOW


async def sql(db: Database, statement: str, rows: list[dict[str, Any]] | dict[str, Any]) -> None:
    async with db.transaction() as session:
        await session.execute(text(statement), rows)


async def scalar(db: Database, statement: str) -> Any:
    async with db.transaction() as session:
        return await session.scalar(text(statement))


async def add_seen(db: Database, subject: str, *ages: timedelta) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in ages]
    await sql(
        db,
        "INSERT INTO escalator.subject_messages (subject_key, message_id, at, channel, "
        "language, excerpt, signals, markers, marks, escalations, recorded_at) VALUES "
        "(:subject, :id, :at, 'chat', 'ru', '', '{}', '[]', '[]', '[]', :at)",
        [{"subject": subject, "id": i, "at": NOW - age} for i, age in zip(ids, ages, strict=True)],
    )
    return ids


async def add_escalation(db: Database, subject: str, opened_ago: timedelta) -> uuid.UUID:
    escalation_id = uuid.uuid4()
    at = NOW - opened_ago
    await sql(
        db,
        "INSERT INTO escalator.escalations (id, subject_key, kind, severity, status, rule, "
        "reason, identity_status, roles, signals, ack_deadline, opened_at, updated_at, "
        "resolved_at) VALUES (:id, :subject, 'abuse', 'P3', 'resolved', 'abuse', 'why', "
        "'unknown', '[]', '[]', :at, :at, :at, :at)",
        {"id": escalation_id, "subject": subject, "at": at},
    )
    await sql(
        db,
        "INSERT INTO escalator.escalation_timeline (escalation_id, message_id, entry, detail, at) "
        "VALUES (:id, :mid, 'opened', '{}', :at)",
        {"id": escalation_id, "mid": uuid.uuid4(), "at": at},
    )
    return escalation_id


async def seen_ids(db: Database) -> set[uuid.UUID]:
    async with db.transaction() as session:
        rows = await session.execute(text("SELECT message_id FROM escalator.subject_messages"))
        return {r[0] for r in rows}


async def test_subject_history_past_the_policy_horizon_goes_and_records_stay(
    db: Database,
) -> None:
    policy = load_policy()  # history_lookback 90 days: kept 104 days with the margin
    old, inside = await add_seen(db, "customer:c1", 200 * DAY, 100 * DAY)
    escalation = await add_escalation(db, "customer:c1", 200 * DAY)
    pruner = Pruner(db, clock, escalator_prunables(policy, RETENTION, MARGIN), batch=1)

    done = await pruner.prune()

    assert await seen_ids(db) == {inside}
    assert {p.prunable.table: p.rows for p in done}["escalator.subject_messages"] == 1
    assert await scalar(db, "SELECT count(*) FROM escalator.escalations") == 1
    assert await scalar(db, "SELECT count(*) FROM escalator.escalation_timeline") == 1
    assert str(escalation) == str(await scalar(db, "SELECT id FROM escalator.escalations"))
    assert old not in await seen_ids(db)


async def test_a_policy_that_looks_further_back_keeps_more_history(db: Database) -> None:
    default = load_policy()
    longer = parse_policy(
        POLICY_PATH.read_text(encoding="utf-8").replace(
            "history_lookback: 90d", "history_lookback: 365d"
        )
    )
    ids = await add_seen(db, "customer:c2", 200 * DAY, 300 * DAY, 400 * DAY)

    await Pruner(db, clock, escalator_prunables(longer, RETENTION, MARGIN)).prune()
    kept_long = await seen_ids(db)
    await Pruner(db, clock, escalator_prunables(default, RETENTION, MARGIN)).prune()

    assert kept_long == set(ids[:2])  # 365 + 14 days
    assert await seen_ids(db) == set()


async def test_dry_run_counts_and_removes_nothing(db: Database) -> None:
    await add_seen(db, "customer:c3", 200 * DAY, 150 * DAY, 1 * DAY)
    pruner = Pruner(db, clock, escalator_prunables(load_policy(), RETENTION, MARGIN))

    done = await pruner.prune(dry_run=True)

    assert {p.prunable.table: p.rows for p in done}["escalator.subject_messages"] == 2
    assert len(await seen_ids(db)) == 3


async def test_a_redelivery_inside_the_retention_is_still_deduplicated(db: Database) -> None:
    stored = [{"subject": "escalation.opened", "event_id": "e-1", "payload": {"event_id": "e-1"}}]
    await sql(
        db,
        "INSERT INTO escalator.processed_messages (key, outputs, processed_at) "
        "VALUES (:key, CAST(:outputs AS jsonb), :at)",
        [
            {"key": "recent", "outputs": json.dumps(stored), "at": NOW - 30 * DAY},
            {"key": "ancient", "outputs": "[]", "at": NOW - 60 * DAY},
        ],
    )
    await Pruner(db, clock, escalator_prunables(load_policy(), RETENTION, MARGIN)).prune()
    ran: list[str] = []

    async def work(session: Any) -> list[Outgoing]:
        ran.append("again")
        return []

    commits = GroupCommit(db, escalator_processed, "escalator", clock)
    outputs = await commits.once("recent", work)

    assert ran == []
    assert [o.event_id for o in outputs] == ["e-1"]
    assert await scalar(db, "SELECT count(*) FROM escalator.processed_messages") == 1


async def test_working_data_goes_and_what_is_still_needed_stays(db: Database) -> None:
    escalation = await add_escalation(db, "customer:c4", 100 * DAY)
    old, recent = NOW - 60 * DAY, NOW - 5 * DAY
    await sql(
        db,
        "INSERT INTO escalator.outbox (event_id, escalation_id, subject, payload, created_at, "
        "published_at) VALUES (:e, :id, 'escalation.escalated', '{}', :at, :published)",
        [
            {"e": "published-old", "id": escalation, "at": old, "published": old},
            {"e": "published-recent", "id": escalation, "at": recent, "published": recent},
            {"e": "never-published", "id": escalation, "at": old, "published": None},
        ],
    )
    await sql(
        db,
        "INSERT INTO escalator.commands (command_id, escalation_id, action, reply, at) "
        "VALUES (:c, :id, 'acknowledge', '{}', :at)",
        [{"c": uuid.uuid4(), "id": escalation, "at": at} for at in (old, recent)],
    )
    await sql(
        db,
        "INSERT INTO escalator.ack_links (link_id, escalation_id, role, address, expires_at) "
        "VALUES (:l, :id, 'head_of_support', 'head@example.com', :at)",
        [{"l": uuid.uuid4(), "id": escalation, "at": at} for at in (old, recent)],
    )
    await sql(db, "INSERT INTO crm.customers (id, name) VALUES ('c4', 'Клиент')", {})
    await sql(
        db,
        "INSERT INTO crm.confirmations (confirmation_id, message_id, correlation_id, "
        "customer_id, channel_kind, channel_address, match_key, code, status, requested_at, "
        "expires_at, resolved_at) VALUES (:id, :mid, 'c', 'c4', 'email', 'a@x.example', "
        "'a@x.example', :code, :status, :at, :at, :at)",
        [
            {"id": uuid.uuid4(), "mid": uuid.uuid4(), "code": code, "status": status, "at": at}
            for code, status, at in (
                ("111111", "expired", old),
                ("222222", "expired", recent),
                ("333333", "confirmed", old),
                ("444444", "denied", old),
            )
        ],
    )
    await sql(
        db,
        "INSERT INTO notifier.confirmation_outcomes (confirmation_id, outcome, event_id, "
        "decided_at, recorded_at) VALUES (:id, 'expired', :e, :at, :at)",
        [{"id": uuid.uuid4(), "e": uuid.uuid4(), "at": at} for at in (old, recent)],
    )
    everything = [
        *escalator_prunables(load_policy(), RETENTION, MARGIN),
        *verifier_prunables(RETENTION),
        *notifier_prunables(RETENTION),
    ]

    done = {p.prunable.table: p.rows for p in await Pruner(db, clock, everything).prune()}

    assert await scalar(
        db, "SELECT string_agg(event_id, ',' ORDER BY event_id) FROM escalator.outbox"
    ) == ("never-published,published-recent")
    assert await scalar(db, "SELECT count(*) FROM escalator.commands") == 1
    assert await scalar(db, "SELECT count(*) FROM escalator.ack_links") == 1
    assert (
        await scalar(db, "SELECT string_agg(status, ',' ORDER BY status) FROM crm.confirmations")
        == "confirmed,denied,expired"
    )
    assert await scalar(db, "SELECT count(*) FROM notifier.confirmation_outcomes") == 1
    assert await scalar(db, "SELECT count(*) FROM escalator.escalations") == 1
    assert done["crm.confirmations"] == 1
    assert done["escalator.outbox"] == 1


async def test_replicas_pruning_at_once_remove_each_row_once(db: Database) -> None:
    await add_seen(db, "customer:c5", *[200 * DAY + i * timedelta(minutes=1) for i in range(120)])
    await add_seen(db, "customer:c5", 1 * DAY)
    plan = [
        p for p in escalator_prunables(load_policy(), RETENTION, MARGIN) if "subject" in p.table
    ]
    replicas = [Pruner(db, clock, plan, batch=7) for _ in range(3)]

    results = await asyncio.gather(*(r.prune() for r in replicas))

    assert sum(done[0].rows for done in results) == 120
    assert len(await seen_ids(db)) == 1


async def test_the_service_loop_prunes_until_stopped(db: Database) -> None:
    await add_seen(db, "customer:c6", 200 * DAY)
    plan = [Prunable("escalator.subject_messages", "at", 104 * DAY, "test")]
    stop = asyncio.Event()
    loop = asyncio.create_task(Pruner(db, clock, plan).run(stop, every_seconds=0.05, first_after=0))
    try:
        for _ in range(200):
            if not await seen_ids(db):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(loop, 5)
    assert await seen_ids(db) == set()


def test_careline_prune_reports_per_table_and_dry_run_keeps_rows(
    servers: Servers, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed() -> None:
        database = Database(create_engine(servers.database_url))
        try:
            await add_seen(database, "customer:c7", 3650 * DAY)
        finally:
            await database.dispose()

    async def remaining() -> int:
        database = Database(create_engine(servers.database_url))
        try:
            return int(await scalar(database, "SELECT count(*) FROM escalator.subject_messages"))
        finally:
            await database.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", servers.database_url)
    from shared.cli import app

    dry = CliRunner().invoke(app, ["prune", "--dry-run"])
    left_after_dry = asyncio.run(remaining())
    real = CliRunner().invoke(app, ["prune", "--service", "escalator"])

    assert dry.exit_code == 0, dry.output
    assert "escalator.subject_messages" in dry.output
    assert "would remove        1" in dry.output
    assert "intake.processed_messages" in dry.output
    assert left_after_dry == 1
    assert real.exit_code == 0, real.output
    assert "removed        1" in real.output
    assert "intake.processed_messages" not in real.output
    assert asyncio.run(remaining()) == 0


# --- the content horizon: records stay, what the client wrote is cut out of them --------

CONTENT = 365 * DAY


async def add_message(db: Database, age: timedelta) -> uuid.UUID:
    message_id = uuid.uuid4()
    normalized = {
        "message_id": str(message_id),
        "channel": "email",
        "language": "ru",
        "received_at": (NOW - age).isoformat(),
        "sender": {"email": "ivan.petrov@example.com", "display_name": "Иван Петров"},
        "subject": "Договор 15/2021",
        "text": "Подам на вас в суд, мой телефон +7 912 000-11-22",
        "entities": {"phones": ["+79120001122"]},
    }
    await sql(
        db,
        "INSERT INTO intake.messages (message_id, channel, external_id, thread_id, language, "
        "received_at, normalized, created_at) VALUES (:id, 'email', :ref, :ref, 'ru', :at, "
        "CAST(:normalized AS jsonb), :at)",
        {
            "id": message_id,
            "ref": str(message_id),
            "at": NOW - age,
            "normalized": json.dumps(normalized),
        },
    )
    return message_id


async def add_notification(db: Database, age: timedelta, status: str) -> uuid.UUID:
    notification_id = uuid.uuid4()
    request = {
        "notification_id": str(notification_id),
        "kind": "manager_escalation",
        "channel": "email",
        "language": "ru",
        "recipient": "am@careline.example",
        "data": {"message_text": "Подам на вас в суд", "customer": "ООО «Ромашка»"},
    }
    await sql(
        db,
        "INSERT INTO notifier.notifications (notification_id, message_id, kind, recipient_role, "
        "recipient, status, created_at, channel, request) VALUES (:id, :mid, "
        "'manager_escalation', 'account_manager', 'am@careline.example', :status, :at, "
        "'email', CAST(:request AS jsonb))",
        {
            "id": notification_id,
            "mid": uuid.uuid4(),
            "status": status,
            "at": NOW - age,
            "request": json.dumps(request),
        },
    )
    return notification_id


async def add_worded_escalation(db: Database, age: timedelta, status: str) -> uuid.UUID:
    escalation_id = await add_escalation(db, "customer:c9", age)
    signals = [
        {
            "name": "legal_threat",
            "score": 0.9,
            "evidence": [{"start": 0, "end": 15, "text": "Подам на вас в суд", "rule": "r"}],
        }
    ]
    await sql(
        db,
        "UPDATE escalator.escalations SET status = :status, signals = CAST(:signals AS jsonb), "
        "reason = 'rule abuse: legal_threat 0.90 («Подам на вас в суд»)', "
        "briefing = CAST(:briefing AS jsonb), facts = CAST(:facts AS jsonb) WHERE id = :id",
        {
            "id": escalation_id,
            "status": status,
            "signals": json.dumps(signals),
            "briefing": json.dumps({"kind": "abuse", "message_text": "Подам на вас в суд"}),
            "facts": json.dumps({"customer": "ООО «Ромашка»", "contracts": ["15/2021"]}),
        },
    )
    told = {
        "rule": "abuse",
        "reason": "legal_threat 0.90 («Подам на вас в суд»)",
        "signals": signals,
    }
    await sql(
        db,
        "UPDATE escalator.escalation_timeline SET detail = CAST(:detail AS jsonb) "
        "WHERE escalation_id = :id",
        {"id": escalation_id, "detail": json.dumps(told)},
    )
    later = [
        ("acknowledged", {"by": "head@careline.example"}),
        ("hold_placed", {"rule": "abuse", "reason": {"ru": "Ответ клиенту ждёт юриста"}}),
        ("reopened", {**told, "after": {"resolved_by": "head@careline.example"}}),
    ]
    await sql(
        db,
        "INSERT INTO escalator.escalation_timeline (escalation_id, message_id, entry, detail, "
        "at) VALUES (:id, :mid, :entry, CAST(:detail AS jsonb), :at)",
        [
            {
                "id": escalation_id,
                "mid": uuid.uuid4(),
                "entry": entry,
                "detail": json.dumps(detail),
                "at": NOW - age,
            }
            for entry, detail in later
        ],
    )
    return escalation_id


async def json_of(db: Database, statement: str, **params: Any) -> Any:
    async with db.transaction() as session:
        return await session.scalar(text(statement), params)


async def test_past_the_content_horizon_records_stay_without_what_the_client_wrote(
    db: Database,
) -> None:
    from services.intake.retention import prunables as intake_prunables

    old_message, new_message = await add_message(db, 400 * DAY), await add_message(db, 10 * DAY)
    sent = await add_notification(db, 400 * DAY, "sent")
    pending = await add_notification(db, 400 * DAY, "pending")
    resolved = await add_worded_escalation(db, 400 * DAY, "resolved")
    still_open = await add_worded_escalation(db, 400 * DAY, "open")
    plan = [
        *intake_prunables(RETENTION, CONTENT),
        *escalator_prunables(load_policy(), RETENTION, MARGIN, CONTENT),
        *notifier_prunables(RETENTION, CONTENT),
    ]

    first = {p.prunable.table: p.rows for p in await Pruner(db, clock, plan, batch=1).prune()}
    again = {p.prunable.table: p.rows for p in await Pruner(db, clock, plan).prune()}

    cut = await json_of(
        db, "SELECT normalized FROM intake.messages WHERE message_id = :id", id=old_message
    )
    assert cut == {
        "message_id": str(old_message),
        "channel": "email",
        "language": "ru",
        "received_at": (NOW - 400 * DAY).isoformat(),
        "schema_version": None,
        "event_id": None,
        "correlation_id": None,
        "occurred_at": None,
        "language_confidence": None,
        "redacted": True,
    }
    kept = await json_of(
        db, "SELECT normalized FROM intake.messages WHERE message_id = :id", id=new_message
    )
    assert kept["text"].startswith("Подам")
    request = await json_of(
        db, "SELECT request FROM notifier.notifications WHERE notification_id = :id", id=sent
    )
    assert request["redacted"] is True and "data" not in request and "recipient" not in request
    assert request["kind"] == "manager_escalation"
    waiting = await json_of(
        db, "SELECT request FROM notifier.notifications WHERE notification_id = :id", id=pending
    )
    assert waiting["data"]["message_text"] == "Подам на вас в суд"  # still to be sent
    row = await json_of(
        db,
        "SELECT jsonb_build_object('briefing', briefing, 'facts', facts, 'signals', signals, "
        "'reason', reason, 'rule', rule) FROM escalator.escalations WHERE id = :id",
        id=resolved,
    )
    assert row["briefing"] == {"kind": "abuse", "severity": None, "rule": None, "redacted": True}
    assert row["facts"] == {"redacted": True}
    assert row["signals"] == [{"name": "legal_threat", "score": 0.9}]
    assert "Подам" not in row["reason"] and row["reason"].startswith("rule abuse")
    told = await json_of(
        db,
        "SELECT jsonb_agg(detail ORDER BY id) FROM escalator.escalation_timeline "
        "WHERE escalation_id = :id",
        id=resolved,
    )
    without_words = {"name": "legal_threat", "score": 0.9}
    assert told == [
        {"rule": "abuse", "signals": [without_words], "redacted": True},
        {"by": "head@careline.example"},
        {"rule": "abuse", "reason": {"ru": "Ответ клиенту ждёт юриста"}},  # the policy's words
        {
            "rule": "abuse",
            "signals": [without_words],
            "after": {"resolved_by": "head@careline.example"},
            "redacted": True,
        },
    ]
    untouched = await json_of(
        db, "SELECT briefing FROM escalator.escalations WHERE id = :id", id=still_open
    )
    assert untouched["message_text"] == "Подам на вас в суд"
    assert first["intake.messages"] == 1
    assert first["notifier.notifications"] == 1
    assert first["escalator.escalations"] == 1
    assert first["escalator.escalation_timeline"] == 2
    assert again["intake.messages"] == again["escalator.escalations"] == 0
    assert again["escalator.escalation_timeline"] == 0
    still_told = await json_of(
        db,
        "SELECT detail FROM escalator.escalation_timeline WHERE escalation_id = :id "
        "AND entry = 'opened'",
        id=still_open,
    )
    assert "Подам" in still_told["reason"]
    assert await scalar(db, "SELECT count(*) FROM intake.messages") == 2


def test_careline_prune_says_what_it_would_redact(
    servers: Servers, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed() -> None:
        database = Database(create_engine(servers.database_url))
        try:
            await add_message(database, 3650 * DAY)
        finally:
            await database.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", servers.database_url)
    monkeypatch.setenv("CARELINE_CONTENT_DAYS", "365")
    from shared.cli import app

    dry = CliRunner().invoke(app, ["prune", "--dry-run", "--service", "intake"])
    real = CliRunner().invoke(app, ["prune", "--service", "intake"])

    assert dry.exit_code == 0, dry.output
    assert "intake.messages                    would redact        1" in dry.output
    assert real.exit_code == 0, real.output
    assert "intake.messages                    redacted        1" in real.output

"""What the policy's history costs per message: lock the subject, read its history, record
the message, on a table that already holds many subjects.

`python -m bench.history [--subjects 20000] [--per-subject 10] [--decisions 1000]` starts an
embedded PostgreSQL in a temporary directory (or uses DATABASE_URL), fills
`escalator.subject_messages` and `escalator.escalations`, then times one transaction per
decision (the escalator's reads and write for a message, nothing else) for random subjects,
one at a time. It prints the percentiles and the plans of the two reads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from services.escalator.history import SeenMessage
from services.escalator.history_store import load_history, lock_subject, record_seen, seen_row
from shared.db import Database, create_engine
from shared.embedded import create_database, free_port, start_postgres
from shared.migrate import upgrade

FILL = """
INSERT INTO escalator.subject_messages (subject_key, message_id, customer_id, at, channel,
    language, excerpt, signals, markers, marks, escalations, recorded_at)
SELECT 'customer:bench-' || s, gen_random_uuid(), 'bench-' || s,
       now() - (m * interval '3 days'), 'email', 'ru', repeat('слово ', 40),
       '{"abuse": 0.9}'::jsonb, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, now()
FROM generate_series(1, :subjects) s, generate_series(1, :per_subject) m
"""
FILL_ESCALATIONS = """
INSERT INTO escalator.escalations (id, subject_key, kind, severity, status, rule, reason,
    level, identity_status, roles, signals, message_count, ack_deadline, opened_at,
    updated_at, notified, briefing, facts, planned, reopen_count)
SELECT gen_random_uuid(), 'customer:bench-' || s, 'abuse', 'P4', 'resolved', 'r', 'bench',
       1, 'verified', '[]', '[]', 1, now(), now() - interval '10 days', now(), '[]', '{}',
       '{}', '[]', 0
FROM generate_series(1, :subjects) s
"""


async def measure(database_url: str, subjects: int, per_subject: int, decisions: int) -> None:
    db = Database(create_engine(database_url))
    try:
        async with db.transaction() as session:
            await session.execute(text("TRUNCATE escalator.subject_messages"))
            await session.execute(text("DELETE FROM escalator.escalations"))
            params = {"subjects": subjects, "per_subject": per_subject}
            await session.execute(text(FILL), params)
            await session.execute(text(FILL_ESCALATIONS), {"subjects": subjects})
            await session.execute(text("ANALYZE escalator.subject_messages"))
            await session.execute(text("ANALYZE escalator.escalations"))
        baseline = []  # a transaction that writes one row: the escalator commits one anyway
        for _ in range(decisions):
            key = f"customer:bench-{random.randint(1, subjects)}"
            now = datetime.now(UTC)
            started = time.perf_counter()
            async with db.transaction() as session:
                seen = SeenMessage(message_id=str(uuid.uuid4()), at=now, channel="chat")
                await record_seen(session, [seen_row(key, None, seen, "ru", [], now)])
            baseline.append((time.perf_counter() - started) * 1000)
        timings: list[float] = []
        locks: list[float] = []
        reads: list[float] = []
        for _ in range(decisions):
            key = f"customer:bench-{random.randint(1, subjects)}"
            now = datetime.now(UTC)
            started = time.perf_counter()
            async with db.transaction() as session:
                await lock_subject(session, key)
                locked = time.perf_counter()
                history = await load_history(session, key, now - timedelta(days=90))
                locks.append((locked - started) * 1000)
                reads.append((time.perf_counter() - locked) * 1000)
                seen = SeenMessage(
                    message_id=str(uuid.uuid4()), at=now, channel="chat", signals={"abuse": 0.9}
                )
                await record_seen(session, [seen_row(key, None, seen, "ru", [], now)])
            timings.append((time.perf_counter() - started) * 1000)
            assert history.messages
        rows = subjects * per_subject
        print(f"{rows:,} history rows, {subjects:,} subjects; {decisions} decisions one by one")
        print(f"a transaction that records the message only: {_percentiles(baseline)}")
        print(f"lock + read history + record it, one transaction: {_percentiles(timings)}")
        print(f"  of which the subject's lock: {_percentiles(locks)}")
        print(f"  of which the two reads into a History: {_percentiles(reads)}")
        async with db.transaction() as session:
            for sql in (
                "EXPLAIN SELECT * FROM escalator.subject_messages WHERE subject_key = "
                "'customer:bench-7' AND at >= now() - interval '90 days' "
                "ORDER BY at DESC LIMIT 200",
                "EXPLAIN SELECT * FROM escalator.escalations WHERE subject_key = "
                "'customer:bench-7' AND (status = 'open' OR opened_at >= now() - interval "
                "'90 days' OR resolved_at >= now() - interval '90 days') "
                "ORDER BY opened_at DESC LIMIT 50",
            ):
                plan = (await session.execute(text(sql))).scalars().all()
                print("\n".join(plan))
    finally:
        await db.dispose()


def _percentiles(ms: list[float]) -> str:
    ms = sorted(ms)
    p99 = ms[max(0, int(len(ms) * 0.99) - 1)]
    return f"p50 {statistics.median(ms):.2f} / p99 {p99:.2f} / max {ms[-1]:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--per-subject", type=int, default=10)
    parser.add_argument("--decisions", type=int, default=1_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if not url:
            port = free_port()
            server = start_postgres(Path(tmp) / "pg", port, Path(tmp) / "logs")
            url = create_database(port, "careline_bench_history")
        try:
            upgrade(url)
            asyncio.run(measure(url, args.subjects, args.per_subject, args.decisions))
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()

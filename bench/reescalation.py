"""Re-escalation timing: how late after its deadline the next level is told.

1,000 legal threats from distinct unknown senders go to the escalator (on
`message.verified`, as the verifier would hand them on: the front of the pipeline is
measured by the other phases and would spread the openings over minutes on a small
machine). The escalator runs with a copy of the shipped policy whose legal deadline is
short, so the 1,000 deadlines fall within one minute and the real sweeper
(ESCALATOR_SWEEP_SECONDS / _BATCH as configured, default 5 s / 50) climbs them all.

Per escalation, the deadline is the `overdue_since` of its `escalated` timeline entry (the
`climb_due_at` the sweeper found); the climb is that entry's `at` (the `occurred_at` of the
`escalation.escalated` event); the notice goes out when the relay published the climb's
outbox rows (`escalation.escalated` and the `re_escalation` notify commands).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.run import pct, publish_many, scalar_rows
from services.escalator.policy import POLICY_PATH, parse_policy
from services.escalator.settings import EscalatorSettings
from shared.contracts import (
    Identity,
    IdentityVerified,
    MessageNormalized,
    SenderIdentifiers,
    derived_id,
    message_id_of,
)
from shared.runtime import Stack, spawn_service
from shared.subjects import ESCALATION_ESCALATED, MESSAGE_VERIFIED

_SWEEP_DEFAULTS = EscalatorSettings.model_fields

RULE = "legal-threat-to-legal"
# Legal threats that raise legal_threat alone (no second rule opens a second escalation).
THREATS = [
    ("ru", "Я подам на вас в суд за нарушение договора."),
    ("ru", "Наш юрист уже готовит иск в арбитражный суд."),
    ("uk", "Ми звернемося до суду, якщо ви не виконаєте договір."),
    ("en", "We will take you to court over this contract."),
    ("en", "Our lawyer is preparing a lawsuit against your company."),
]


def short_policy(directory: Path, deadline_minutes: float) -> Path:
    """The shipped policy with the legal rule's severity given `deadline_minutes`."""
    data = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    severity = next(r["severity"] for r in data["rules"] if r["id"] == RULE)
    data["ack_deadlines_minutes"][severity] = deadline_minutes
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    parse_policy(text)  # the escalator refuses a broken file; fail here, not in its log
    path = directory / "policy-reescalation.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def verified(run: str, i: int) -> tuple[str, bytes, str]:
    """An unknown sender's legal threat as the verifier hands it on."""
    external_id = f"bench-reesc-{run}-{i}@bench.example"
    message_id = message_id_of("email", external_id)
    now = datetime.now(UTC)
    language, threat = THREATS[i % len(THREATS)]
    message = MessageNormalized(
        event_id=derived_id("normalized", message_id),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=now,
        channel="email",
        sender=SenderIdentifiers(email=f"reesc-{run}-{i}@stranger.example"),
        subject="Претензия",
        text=threat,
        language=language,  # type: ignore[arg-type]
        language_confidence=0.9,
        thread_id=external_id,
        external_id=external_id,
        received_at=now,
    )
    event = IdentityVerified(
        event_id=derived_id("verified", message_id),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=now,
        message=message,
        identity=Identity(status="unknown", confidence=0.0),
    )
    return MESSAGE_VERIFIED, event.model_dump_json().encode(), str(event.event_id)


async def restart_escalator(stack: Stack, environ: dict[str, str], policy: Path) -> None:
    """Swap the running escalator for one on `policy`; the supervisor still stops it."""
    procs = stack.supervisor.processes
    old = next(p for p in procs if p.name == "escalator")
    old.stop()
    procs.remove(old)
    env = {**environ, "ESCALATOR_POLICY": str(policy)}
    proc = stack.supervisor.add(spawn_service(stack, "escalator", env, demo_crm=True))
    url = f"http://127.0.0.1:{stack.http_ports['escalator']}/health/ready"
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=3) as client:
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"the escalator exited; see {proc.log_path}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the escalator did not get ready; see {proc.log_path}")


async def _count(engine: AsyncEngine, sql: str, **params: Any) -> int:
    return int((await scalar_rows(engine, sql, **params))[0][0])


async def _until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.25)


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(pct(values, 50), 2),
        "p99": round(pct(values, 99), 2),
        "max": round(max(values), 2) if values else float("nan"),
    }


async def measure_reescalation(
    stack: Stack,
    environ: dict[str, str],
    workdir: Path,
    escalations: int = 1_000,
    deadline_minutes: float = 0.5,
) -> dict[str, Any]:
    await restart_escalator(stack, environ, short_policy(workdir, deadline_minutes))
    run = uuid.uuid4().hex[:8]
    prefix = f"sender:reesc-{run}-%"
    engine = create_async_engine(stack.env["DATABASE_URL"])
    nc = await nats.connect(stack.env["NATS_URL"])
    try:
        start = time.monotonic()
        sent = await publish_many(nc.jetstream(), (verified(run, i) for i in range(escalations)))
        ours = "FROM escalator.escalations WHERE subject_key LIKE :p AND kind = 'legal'"

        async def opened() -> bool:
            return await _count(engine, f"SELECT count(*) {ours}", p=prefix) >= sent

        await _until(opened, 120, "the escalations were not all opened in time")
        opened_in = time.monotonic() - start
        climbs = (
            "FROM escalator.escalation_timeline t JOIN escalator.escalations e "
            "ON e.id = t.escalation_id WHERE e.subject_key LIKE :p AND t.entry = 'escalated'"
        )
        pending = (
            "FROM escalator.outbox o JOIN escalator.escalations e ON e.id = o.escalation_id "
            "WHERE e.subject_key LIKE :p AND o.published_at IS NULL"
        )

        async def climbed() -> bool:
            distinct = await _count(
                engine, f"SELECT count(DISTINCT t.escalation_id) {climbs}", p=prefix
            )
            return (
                distinct >= sent
                and await _count(engine, f"SELECT count(*) {pending}", p=prefix) == 0
            )

        await _until(climbed, deadline_minutes * 60 + 90, "not every deadline climbed in time")
        took = time.monotonic() - start
        rows = await scalar_rows(
            engine,
            "SELECT t.escalation_id, (t.detail->>'level')::int, "
            f"(t.detail->>'overdue_since')::timestamptz, t.at {climbs}",
            p=prefix,
        )
        published = dict(
            await scalar_rows(
                engine,
                "SELECT o.escalation_id, max(o.published_at) FROM escalator.outbox o "
                "JOIN escalator.escalations e ON e.id = o.escalation_id "
                "WHERE e.subject_key LIKE :p "
                "AND (o.subject = :s OR o.payload->>'kind' = 're_escalation') "
                "GROUP BY o.escalation_id",
                p=prefix,
                s=ESCALATION_ESCALATED,
            )
        )
        events = await _count(
            engine,
            "SELECT count(*) FROM escalator.outbox o JOIN escalator.escalations e "
            "ON e.id = o.escalation_id WHERE e.subject_key LIKE :p AND o.subject = :s",
            p=prefix,
            s=ESCALATION_ESCALATED,
        )
    finally:
        await nc.close()
        await engine.dispose()
    if not rows:
        raise RuntimeError("no escalation climbed")
    per = Counter(r[0] for r in rows)
    deadlines = [r[2] for r in rows]
    to_climb = [(r[3] - r[2]).total_seconds() for r in rows]
    to_notice = [(published[r[0]] - r[2]).total_seconds() for r in rows if r[0] in published]
    return {
        "escalations": sent,
        "deadline_minutes": deadline_minutes,
        "sweep_seconds": float(
            environ.get("ESCALATOR_SWEEP_SECONDS", _SWEEP_DEFAULTS["sweep_seconds"].default)
        ),
        "sweep_batch": int(
            environ.get("ESCALATOR_SWEEP_BATCH", _SWEEP_DEFAULTS["sweep_batch"].default)
        ),
        "opened_in_s": round(opened_in, 1),
        "deadline_spread_s": round((max(deadlines) - min(deadlines)).total_seconds(), 1),
        "fired": len(per),
        "fired_once": sum(1 for n in per.values() if n == 1),
        "fired_more_than_once": sum(1 for n in per.values() if n > 1),
        "levels": dict(Counter(r[1] for r in rows)),
        "escalated_events": events,
        "late_climb_s": _stats(to_climb),
        "late_notice_out_s": _stats(to_notice),
        "phase_seconds": round(took, 1),
    }


def summary(r: dict[str, Any]) -> str:
    """The table cell."""
    notice, climb = r["late_notice_out_s"], r["late_climb_s"]
    return (
        f"notice out p50 {notice['p50']} / p99 {notice['p99']} / max {notice['max']} s "
        f"(climb p50 {climb['p50']} / p99 {climb['p99']} / max {climb['max']} s); "
        f"{r['fired']}/{r['escalations']} fired, {r['fired_once']} exactly once; "
        f"deadlines within {r['deadline_spread_s']} s, sweep every {r['sweep_seconds']:g} s "
        f"× {r['sweep_batch']}"
    )

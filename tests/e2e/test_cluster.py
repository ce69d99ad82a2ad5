"""The production shape on this machine, and proof that a node failure loses nothing.

A 3-node NATS cluster from the nats-server wheel running deploy/nats/nats.conf (the same
files as compose; only the loopback ports differ), streams with 3 replicas applied by
`careline streams apply --profile cluster` as the operators' user, PostgreSQL, and the
four services with two replicas each as processes (`faststream run ... --factory`, as the
image runs them), each with its own NATS user. A publisher sends a steady stream of legal
threats from distinct senders; mid-stream one NATS node (the leader of the inbound
stream) and one replica of every service are SIGKILLed and later restarted, and then
PostgreSQL is killed and restarted. Every message must end as exactly one escalation
whose notifications are each sent once, with no dead letter.

Run alone: `.venv/bin/pytest -m cluster`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.broker import nats_connect_options
from shared.embedded import (
    ManagedProcess,
    NatsNode,
    create_database,
    free_port,
    nats_cluster_nodes,
    start_nats_cluster,
    start_nats_node,
    start_postgres,
    start_smtp_sink,
    wait_nats_healthy,
)
from shared.migrate import upgrade
from shared.nats_auth import USERS, password_variable
from shared.settings import CarelineSettings
from shared.smtp_sink import read_mail_index

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.timeout(360)]

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "verifier", "escalator", "notifier")
REPLICAS = 2
MESSAGES = 90
INTERVAL = 0.1  # seconds between two publishes: a steady stream of about 10 a second
KILL_AT, RESTART_AT, PG_RESTART_AT = 20, 45, 65
THREATS = (
    "Я подам на вас в суд из-за заказа № {i}.",
    "Я подам на вас до суду через замовлення № {i}.",
    "I will sue you over order #{i}.",
)
READY_LINE = "FastStream app started successfully"
SERVICE_COMMAND = (sys.executable, "-m", "faststream", "run")
MAX_RESTARTS = 5


@dataclass
class Deployment:
    """Everything the test runs, started and restarted the way an orchestrator would."""

    base: Path
    nodes: list[NatsNode]
    passwords: dict[str, str]
    nats: dict[str, ManagedProcess] = field(default_factory=dict)
    replicas: dict[tuple[str, int], ManagedProcess] = field(default_factory=dict)
    others: list[ManagedProcess] = field(default_factory=list)
    pg: ManagedProcess | None = None
    pg_port: int = 0
    database_url: str = ""
    smtp_port: int = 0
    # Replicas the test took down on purpose; the others are restarted when they exit.
    down: set[tuple[str, int]] = field(default_factory=set)
    restarts: Counter[str] = field(default_factory=Counter)
    # Where each replica's log stood when it was last started: readiness is read after it.
    log_offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    @property
    def mail_dir(self) -> Path:
        return self.base / "mail"

    @property
    def nats_url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def secrets(self) -> dict[str, str]:
        return {password_variable(user): pw for user, pw in self.passwords.items()}

    def user_env(self, user: str) -> dict[str, str]:
        return {
            "NATS_URL": self.nats_url,
            "NATS_USER": user,
            "NATS_PASSWORD": self.passwords[user],
            "CARELINE_STREAM_PROFILE": "cluster",
        }

    def settings(self, user: str) -> CarelineSettings:
        return CarelineSettings(**self.user_env(user))  # type: ignore[arg-type]

    def start_nats(self) -> None:
        procs = start_nats_cluster(self.nodes, self.base / "nats", self.logs, self.secrets())
        self.nats = {node.name: proc for node, proc in zip(self.nodes, procs, strict=True)}

    def restart_node(self, name: str) -> NatsNode:
        """Spawn from the main thread: a child asks for SIGTERM when the thread that
        started it ends (PR_SET_PDEATHSIG), so never from a worker thread."""
        node = next(n for n in self.nodes if n.name == name)
        self.nats[name] = start_nats_node(
            node, self.nodes, self.base / "nats", self.logs, self.secrets()
        )
        return node

    def start_postgres(self) -> None:
        self.pg = start_postgres(self.base / "pg", self.pg_port, self.logs)

    def spawn(self, service: str, replica: int) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/root"),
            "PYTHONUNBUFFERED": "1",
            **self.user_env(service),
            "DATABASE_URL": self.database_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "CARELINE_VAR_DIR": str(self.base / "var"),
            "CARELINE_HTTP_PORT": str(free_port()),
            # In-flight messages of a killed replica come back within seconds, and retries
            # span a PostgreSQL restart before anything would be dead-lettered.
            "CARELINE_ACK_WAIT": "5",
            "CARELINE_MAX_DELIVER": "20",
            "CARELINE_RETRY_BACKOFF": "0.5",
            # One mail in flight per notifier replica, so the re-sends a kill can cause are
            # bounded below (the sender otherwise hands up to a batch to SMTP at once).
            "NOTIFIER_BATCH": "1",
        }
        if service == "verifier":
            env["CARELINE_DEMO_CRM"] = "1"
        log = self.logs / f"{service}-{replica}.log"
        self.log_offsets[(service, replica)] = log.stat().st_size if log.exists() else 0
        self.replicas[(service, replica)] = ManagedProcess.spawn(
            f"{service}-{replica}",
            [*SERVICE_COMMAND, f"services.{service}.app:build_app", "--factory"],
            log,
            env=env,
            stop_signal=signal.SIGINT,
            cwd=REPO,
        )

    def supervise(self) -> None:
        """The orchestrator's restart policy: a replica that exited is started again.

        A replica starting while PostgreSQL restarts fails its start-up and exits; like a
        container it is restarted, a few times at most (a crash loop fails the test).
        """
        for key, proc in list(self.replicas.items()):
            if key in self.down or proc.alive():
                continue
            name = f"{key[0]}-{key[1]}"
            if self.restarts[name] >= MAX_RESTARTS:
                raise RuntimeError(f"{name} keeps exiting; see {proc.log_path}")
            self.restarts[name] += 1
            self.spawn(*key)

    def wait_replicas_ready(self, timeout: float = 150) -> None:
        """Until every replica has logged its start since it was last (re)started."""
        deadline = time.monotonic() + timeout
        while True:
            self.supervise()
            pending = [
                key for key in self.replicas if key not in self.down and not self._started(key)
            ]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"replicas {pending} not started; see {self.logs}")
            time.sleep(0.2)

    def _started(self, key: tuple[str, int]) -> bool:
        log = self.logs / f"{key[0]}-{key[1]}.log"
        if not log.exists():
            return False
        with log.open("rb") as f:
            f.seek(self.log_offsets[key])
            return READY_LINE.encode() in f.read()

    def stop_all(self) -> None:
        for proc in self.replicas.values():
            proc.stop()
        for proc in reversed(self.others):
            proc.stop()
        if self.pg is not None:
            self.pg.stop()
        for proc in self.nats.values():
            proc.stop()


def sigkill(proc: ManagedProcess) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.popen.pid, signal.SIGKILL)
    proc.popen.wait(10)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    dep = Deployment(
        tmp_path,
        nats_cluster_nodes(3),
        {user: "pw" + secrets.token_hex(16) for user in USERS},
        pg_port=free_port(),
        smtp_port=free_port(),
    )
    try:
        dep.start_nats()
        dep.start_postgres()
        dep.database_url = create_database(dep.pg_port, "careline")
        upgrade(dep.database_url)
        dep.others.append(start_smtp_sink(dep.mail_dir, dep.smtp_port, dep.logs))
        # The deployment's one-shot step: streams as data, 3 replicas, the operators' user.
        subprocess.run(
            [sys.executable, "-m", "shared.cli", "streams", "apply", "--profile", "cluster"],
            env={**os.environ, **dep.user_env("admin")},
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=120,
        )
        for service in SERVICES:
            for replica in range(1, REPLICAS + 1):
                dep.spawn(service, replica)
        dep.wait_replicas_ready()
        yield dep
    finally:
        dep.stop_all()


@dataclass
class Publisher:
    """A publisher system: every message is retried with its Nats-Msg-Id until acked."""

    nc: NatsClient
    published: int = 0
    retries: int = 0

    async def publish(self, i: int) -> None:
        payload = {
            "channel": "chat",
            "external_id": f"cluster-{i}",
            "sender": {"handle": f"@cluster_client_{i}"},
            "text": THREATS[i % len(THREATS)].format(i=i),
        }
        data = json.dumps(payload, ensure_ascii=False).encode()
        js = self.nc.jetstream()
        deadline = time.monotonic() + 60
        while True:
            try:
                await js.publish(
                    "inbound.chat", data, timeout=2.0, headers={"Nats-Msg-Id": f"cluster-{i}"}
                )
                self.published += 1
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                self.retries += 1
                await asyncio.sleep(0.2)


async def inbound_leader(dep: Deployment) -> str:
    nc = await nats.connect(dep.nats_url.split(","), **nats_connect_options(dep.settings("admin")))
    try:
        info = await nc.jetstream().stream_info("CARELINE_INBOUND")
        assert info.config.num_replicas == 3
        assert info.cluster is not None and info.cluster.leader
        return str(info.cluster.leader)
    finally:
        await nc.close()


async def run_traffic_with_failures(dep: Deployment) -> dict[str, Any]:
    events: dict[str, Any] = {}
    nc = await nats.connect(
        dep.nats_url.split(","),
        reconnect_time_wait=0.5,
        max_reconnect_attempts=-1,
        **nats_connect_options(dep.settings("publisher")),
    )
    publisher = Publisher(nc)
    try:
        for i in range(MESSAGES):
            if i == KILL_AT:
                victim = await inbound_leader(dep)
                events["killed_node"] = victim
                sigkill(dep.nats[victim])
                for service in SERVICES:
                    dep.down.add((service, 1))
                    sigkill(dep.replicas[(service, 1)])
            if i == RESTART_AT:
                node = dep.restart_node(events["killed_node"])
                await asyncio.to_thread(wait_nats_healthy, node, dep.nats[node.name], 60)
                for service in SERVICES:
                    dep.down.discard((service, 1))
                    dep.spawn(service, 1)
            if i == PG_RESTART_AT:
                assert dep.pg is not None
                sigkill(dep.pg)
                dep.start_postgres()  # blocks the publisher for the few seconds it takes
            dep.supervise()
            await publisher.publish(i)
            await asyncio.sleep(INTERVAL)
    finally:
        await nc.close()
    events["published"] = publisher.published
    events["publish_retries"] = publisher.retries
    return events


async def rows(database_url: str, sql: str) -> list[Any]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())
    finally:
        await engine.dispose()


async def pipeline_idle(dep: Deployment) -> bool:
    nc = await nats.connect(dep.nats_url.split(","), **nats_connect_options(dep.settings("admin")))
    try:
        js = nc.jetstream()
        for stream in ("CARELINE_INBOUND", "CARELINE_MESSAGES", "CARELINE_NOTIFY"):
            for consumer in await js.consumers_info(stream):
                if consumer.num_pending or consumer.num_ack_pending:
                    return False
        return True
    finally:
        await nc.close()


async def events_on(dep: Deployment, stream: str, subjects: str) -> dict[str, int]:
    """How many events each subject holds: what downstream consumers will ever see."""
    nc = await nats.connect(dep.nats_url.split(","), **nats_connect_options(dep.settings("admin")))
    try:
        info = await nc.jetstream().stream_info(stream, subjects_filter=subjects)
        return {str(k): int(v) for k, v in (info.state.subjects or {}).items()}
    finally:
        await nc.close()


async def wait_for_outcomes(dep: Deployment, timeout: float = 150) -> None:
    done_sql = """
        SELECT (SELECT count(*) FROM escalator.escalations),
               (SELECT count(*) FROM notifier.notifications WHERE status <> 'sent')
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dep.supervise()
        with contextlib.suppress(Exception):  # PostgreSQL may still be recovering
            ((escalations, unsent),) = await rows(dep.database_url, done_sql)
            if escalations >= MESSAGES and unsent == 0 and await pipeline_idle(dep):
                return
        await asyncio.sleep(0.5)
    raise AssertionError(f"outcomes incomplete after {timeout}s; logs in {dep.logs}")


def test_node_and_replica_failures_lose_and_double_nothing(deployment: Deployment) -> None:
    dep = deployment
    started = time.monotonic()
    events = asyncio.run(run_traffic_with_failures(dep))
    assert events["published"] == MESSAGES
    dep.wait_replicas_ready()  # the restarted replicas are consuming again
    asyncio.run(wait_for_outcomes(dep))

    url = dep.database_url
    # Every message normalized, verified and escalated exactly once.
    external = [r[0] for r in asyncio.run(rows(url, "SELECT external_id FROM intake.messages"))]
    assert sorted(external) == sorted(f"cluster-{i}" for i in range(MESSAGES))
    decisions = asyncio.run(rows(url, "SELECT count(*) FROM crm.identity_decisions"))
    assert decisions[0][0] == MESSAGES
    per_message = asyncio.run(
        rows(
            url,
            """
            SELECT m.external_id, count(DISTINCT t.escalation_id)
            FROM intake.messages m
            LEFT JOIN escalator.escalation_timeline t ON t.message_id = m.message_id
            GROUP BY m.external_id
            """,
        )
    )
    assert {count for _, count in per_message} == {1}
    escalations = asyncio.run(rows(url, "SELECT kind, message_count FROM escalator.escalations"))
    assert len(escalations) == MESSAGES
    assert all(count == 1 for _, count in escalations)

    # Each escalation's notifications: one per recipient, each sent, none twice.
    notifications = asyncio.run(
        rows(
            url,
            "SELECT notification_id, escalation_id, recipient_role, kind, status "
            "FROM notifier.notifications",
        )
    )
    assert {n.escalation_id for n in notifications} == {
        r[0] for r in asyncio.run(rows(url, "SELECT id FROM escalator.escalations"))
    }
    recipients = Counter((n.escalation_id, n.recipient_role, n.kind) for n in notifications)
    assert max(recipients.values()) == 1
    assert {n.status for n in notifications} == {"sent"}

    # Mail: every sent notification arrived. A notifier killed between the SMTP hand-off
    # and its commit sends again with the same Message-ID, which receivers de-duplicate;
    # a second, different message for one notification would be a real duplicate.
    mails = read_mail_index(dep.mail_dir)
    ids_of: dict[str, set[str]] = {}
    for mail in mails:
        ids_of.setdefault(mail["notification_id"], set()).add(mail["message_id"])
    assert set(ids_of) == {str(n.notification_id) for n in notifications}
    assert all(len(message_ids) == 1 for message_ids in ids_of.values())
    # Each replica hands one mail at a time to SMTP: re-sent are at most the killed
    # notifier's one in flight plus one per replica when PostgreSQL died under them.
    assert len(mails) - len(ids_of) <= 1 + REPLICAS

    # Events: one escalation.opened per message, one notify.sent per notification.
    opened = asyncio.run(events_on(dep, "CARELINE_ESCALATIONS", "escalation.>"))
    assert opened.get("escalation.opened") == MESSAGES
    assert opened.get("escalation.updated", 0) == 0
    results = asyncio.run(events_on(dep, "CARELINE_NOTIFY", "notify.>"))
    assert results.get("notify.sent") == len(notifications)
    assert results.get("notify.request") == len(notifications)
    assert asyncio.run(events_on(dep, "CARELINE_DLQ", "dlq.>")) == {}
    elapsed = time.monotonic() - started
    print(
        f"cluster proof: {MESSAGES} messages, killed node {events['killed_node']}, "
        f"{events['publish_retries']} publish retries, {len(notifications)} notifications, "
        f"{len(mails) - len(ids_of)} re-sent mails, replicas restarted after exiting: "
        f"{dict(dep.restarts) or 'none'}, {elapsed:.1f}s of traffic and recovery"
    )

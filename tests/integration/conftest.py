"""Integration fixtures: clean state per test, the four services in-process on real servers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest
from aiosmtpd.controller import Controller
from faststream import FastStream
from faststream._internal.testing.app import TestApp
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.escalator.app import build_app as build_escalator
from services.escalator.settings import EscalatorSettings
from services.intake.app import build_app as build_intake
from services.intake.settings import IntakeSettings
from services.notifier.app import build_app as build_notifier
from services.notifier.settings import NotifierSettings
from services.verifier.app import build_app as build_verifier
from services.verifier.settings import VerifierSettings
from shared.broker import ensure_streams
from shared.db import Database, create_engine
from shared.embedded import free_port
from shared.settings import DEMO_AUTHSERV_ID
from shared.smtp_sink import MailDirHandler, read_mail_index
from shared.subjects import STREAMS
from tests.conftest import Servers

pytestmark = pytest.mark.integration

CONSUMERS = (
    ("CARELINE_INBOUND", "intake"),
    ("CARELINE_MESSAGES", "verifier"),
    ("CARELINE_MESSAGES", "escalator"),
    ("CARELINE_NOTIFY", "notifier"),
    ("CARELINE_CRM", "notifier-crm-channel-confirmed"),
    ("CARELINE_CRM", "notifier-crm-confirmation-denied"),
    ("CARELINE_CRM", "notifier-crm-confirmation-expired"),
    ("CARELINE_CRM", "escalator-channel-confirmed"),
    ("CARELINE_CRM", "escalator-confirmation-denied"),
    ("CARELINE_CRM", "escalator-confirmation-expired"),
)
TABLES = (
    "intake.messages",
    "intake.processed_messages",
    "crm.identity_decisions",
    "crm.processed_messages",
    "crm.contact_channels",
    "crm.contacts",
    "crm.domains",
    "crm.customers",
    "crm.account_managers",
    "escalator.escalation_timeline",
    "escalator.escalations",
    "escalator.processed_messages",
    "escalator.subject_messages",
    "escalator.revoked_addresses",
    "notifier.notifications",
    "notifier.processed_messages",
    "notifier.confirmation_outcomes",
    "notifier.revoked_addresses",
    "notifier.client_mail_told",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
async def clean(servers: Servers) -> None:
    """Fresh streams (and so fresh durable consumers) and empty tables."""
    nc = await nats.connect(servers.nats_url)
    js = nc.jetstream()
    for spec in STREAMS:
        with suppress(NotFoundError):
            await js.delete_stream(spec.name)
    await nc.close()
    await ensure_streams(servers.nats_url)
    engine = create_async_engine(servers.database_url)
    async with engine.begin() as conn:
        # A lock leaked by an earlier failed test must fail this one clearly, not hang it.
        await conn.execute(text("SET LOCAL lock_timeout = '15s'"))
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    await engine.dispose()


@pytest.fixture
async def db(servers: Servers, clean: None) -> AsyncIterator[Database]:
    """A Database on the clean test database, as a service builds one."""
    database = Database(create_engine(servers.database_url))
    try:
        yield database
    finally:
        await database.dispose()


@dataclass
class Mailbox:
    directory: Path
    port: int

    def messages(self) -> list[dict[str, Any]]:
        return read_mail_index(self.directory)


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) that keeps what it receives."""
    port = free_port()
    directory = tmp_path / "mail"
    controller = Controller(MailDirHandler(directory), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Mailbox(directory, port)
    finally:
        controller.stop()


@dataclass
class Env:
    """URLs and settings every in-process service of a test shares."""

    servers: Servers
    var_dir: Path
    smtp_port: int

    def base(self) -> dict[str, Any]:
        return {
            "NATS_URL": self.servers.nats_url,
            "DATABASE_URL": self.servers.database_url,
            "CARELINE_VAR_DIR": str(self.var_dir),
            "CARELINE_MAX_DELIVER": 3,
            "CARELINE_ACK_WAIT": 5,
            "CARELINE_RETRY_BACKOFF": 0.05,
        }

    def app(self, name: str) -> FastStream:
        base = self.base()
        if name == "intake":
            # As `careline up` runs it: the tests' mail says it passed as our MX wrote it.
            return build_intake(
                IntakeSettings(**base, CARELINE_INTAKE_AUTHSERV_IDS=DEMO_AUTHSERV_ID)
            )
        if name == "verifier":
            return build_verifier(VerifierSettings(**base, CARELINE_DEMO_CRM=True))
        if name == "escalator":
            return build_escalator(EscalatorSettings(**base))
        return build_notifier(
            NotifierSettings(**base, SMTP_HOST="127.0.0.1", SMTP_PORT=self.smtp_port)
        )


@pytest.fixture
def env(servers: Servers, clean: None, var_dir: Path, mailbox: Mailbox) -> Env:
    return Env(servers, var_dir, mailbox.port)


class Running:
    """Services started in this test; each can be stopped and started again."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.stacks: dict[str, AsyncExitStack] = {}

    async def start(self, *names: str) -> None:
        for name in names:
            stack = AsyncExitStack()
            await stack.enter_async_context(TestApp(self.env.app(name)))
            self.stacks[name] = stack

    async def stop(self, *names: str) -> None:
        for name in names or tuple(self.stacks):
            stack = self.stacks.pop(name, None)
            if stack is not None:
                await stack.aclose()


@pytest.fixture
async def running(env: Env) -> AsyncIterator[Running]:
    services = Running(env)
    try:
        yield services
    finally:
        await services.stop()


@pytest.fixture
async def pipeline(running: Running) -> Running:
    await running.start("intake", "verifier", "escalator", "notifier")
    return running


@dataclass
class Recorder:
    """Every message published on the watched subjects, decoded."""

    by_subject: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def of(self, subject_prefix: str) -> list[dict[str, Any]]:
        return [m for s, ms in self.by_subject.items() if s.startswith(subject_prefix) for m in ms]

    async def wait_for(
        self, subject_prefix: str, count: int = 1, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.of(subject_prefix)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"waited {timeout}s for {count} on {subject_prefix}; got "
                    f"{len(self.of(subject_prefix))}: {list(self.by_subject)}"
                )
            await asyncio.sleep(0.05)
        return self.of(subject_prefix)


@pytest.fixture
async def bus(servers: Servers) -> AsyncIterator[tuple[nats.NATS, Recorder]]:
    nc = await nats.connect(servers.nats_url)
    recorder = Recorder()

    async def record(msg: Any) -> None:
        try:
            data = json.loads(msg.data)
        except ValueError:
            data = {"raw": msg.data.decode(errors="replace")}
        recorder.by_subject.setdefault(msg.subject, []).append(data)

    for subject in ("message.>", "escalation.>", "notify.>", "dlq.>"):
        await nc.subscribe(subject, cb=record)
    try:
        yield nc, recorder
    finally:
        await nc.close()


async def drained(nc: nats.NATS, timeout: float = 30.0) -> None:
    """Until every durable consumer has delivered and had acked everything in its stream.

    A handler publishes its outputs before it acks its input, so one pass in which all
    consumers show nothing pending means the whole pipeline is idle.
    """
    js = nc.jetstream()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        idle = True
        for stream, durable in CONSUMERS:
            try:
                info = await js.consumer_info(stream, durable)
            except NotFoundError:
                continue
            if info.num_pending or info.num_ack_pending:
                idle = False
                break
        if idle:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the pipeline did not drain in time")


async def count(servers: Servers, sql: str) -> int:
    engine = create_async_engine(servers.database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def rows(env: Env, sql: str, **params: Any) -> list[dict[str, Any]]:
    """The rows a query returns, as dicts (named parameters bound)."""
    engine = create_async_engine(env.servers.database_url)
    try:
        async with engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(text(sql), params)).mappings()]
    finally:
        await engine.dispose()


# The escalator tests' recorder of what it publishes, for every module here (it lives with
# the rest of their harness; imported last, as the harness imports Env from this module).
from tests.integration.escalator_harness import watch  # noqa: E402, F401

"""Per-service NATS credentials on a real 3-node cluster running deploy/nats/nats.conf.

Each service's user may publish only what its code declares, use only its own durable
consumers and read only its own replies; publishers may only feed inbound messages and CRM
changes; the pipeline runs end to end with nothing but those permissions.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
from faststream._internal.testing.app import TestApp
from nats.aio.client import Client as NatsClient
from nats.errors import TimeoutError as NatsTimeoutError

from services.escalator.app import build_app as build_escalator
from services.escalator.settings import EscalatorSettings
from services.intake.app import build_app as build_intake
from services.notifier.app import build_app as build_notifier
from services.notifier.settings import NotifierSettings
from services.verifier.app import build_app as build_verifier
from services.verifier.settings import VerifierSettings
from shared.broker import ensure_streams, nats_connect_options
from shared.embedded import NatsNode, nats_cluster_nodes, start_nats_cluster
from shared.nats_auth import USERS, password_variable
from shared.settings import CarelineSettings
from tests.conftest import Servers
from tests.integration.conftest import Mailbox, count

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Cluster:
    nodes: list[NatsNode]
    passwords: dict[str, str]

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def settings(self, user: str, **extra: Any) -> dict[str, Any]:
        return {
            "NATS_URL": self.url,
            "NATS_USER": user,
            "NATS_PASSWORD": self.passwords[user],
            "CARELINE_STREAM_PROFILE": "cluster",
            **extra,
        }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("nats-cluster")
    # Letters and digits: nats-server parses a variable's value as a configuration token.
    passwords = {user: "pw" + secrets.token_hex(16) for user in USERS}
    nodes = nats_cluster_nodes(3)
    env = {password_variable(user): pw for user, pw in passwords.items()}
    procs = start_nats_cluster(nodes, base / "data", base / "logs", env)
    try:
        running = Cluster(nodes, passwords)
        admin = CarelineSettings(**running.settings("admin"))
        asyncio.run(ensure_streams(running.url, settings=admin))
        yield running
    finally:
        for proc in procs:
            proc.stop()
        shutil.rmtree(base, ignore_errors=True)


class Client:
    """A nats.py connection as one user, remembering the server's permission errors."""

    def __init__(self, nc: NatsClient, errors: list[str]) -> None:
        self.nc = nc
        self.errors = errors

    async def violation(self, needle: str, timeout: float = 5.0) -> str:
        for _ in range(int(timeout / 0.05)):
            found = [
                e
                for e in self.errors
                if "permissions violation" in e.lower() and needle.lower() in e.lower()
            ]
            if found:
                return found[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no permissions violation for {needle!r}; errors: {self.errors}")


@pytest.fixture
async def connect(cluster: Cluster) -> AsyncIterator[Any]:
    clients: list[NatsClient] = []

    async def as_user(user: str) -> Client:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        settings = CarelineSettings(**cluster.settings(user))
        nc = await nats.connect(
            cluster.url.split(","), error_cb=on_error, **nats_connect_options(settings)
        )
        clients.append(nc)
        return Client(nc, errors)

    try:
        yield as_user
    finally:
        for nc in clients:
            await nc.close()


async def stream_messages(admin: Client, stream: str) -> int:
    return int((await admin.nc.jetstream().stream_info(stream)).state.messages)


# (service, a subject it owns, a subject another service owns, the stream of the latter)
OWNERSHIP = [
    ("intake", "message.normalized", "escalation.opened", "CARELINE_ESCALATIONS"),
    ("verifier", "message.verified", "notify.request", "CARELINE_NOTIFY"),
    ("escalator", "notify.request", "message.verified", "CARELINE_MESSAGES"),
    ("notifier", "notify.sent", "message.normalized", "CARELINE_MESSAGES"),
]


@pytest.mark.parametrize(("service", "own", "foreign", "stream"), OWNERSHIP)
async def test_service_cannot_publish_to_a_subject_it_does_not_own(
    connect: Any, service: str, own: str, foreign: str, stream: str
) -> None:
    client, admin = await connect(service), await connect("admin")
    js = client.nc.jetstream()
    before = await stream_messages(admin, stream)

    ack = await js.publish(own, b"{}", headers={"Nats-Msg-Id": secrets.token_hex(8)})
    assert ack.seq > 0  # what it owns goes through, acknowledged by the cluster

    with pytest.raises(NatsTimeoutError):
        await js.publish(foreign, b"{}", timeout=1.0)
    assert f'"{foreign}"' in await client.violation(foreign)
    assert await stream_messages(admin, stream) == before


async def test_service_cannot_read_another_services_deliveries(connect: Any) -> None:
    verifier = await connect("verifier")
    # Pulled JetStream messages arrive in the puller's inbox: another service's is closed.
    await verifier.nc.subscribe("_INBOX.intake.>")
    await verifier.violation('Subscription to "_INBOX.intake.>"')
    await verifier.nc.subscribe("inbound.>")
    await verifier.violation('Subscription to "inbound.>"')
    # Nor can it pull from another service's durable consumer.
    next_msg = "$JS.API.CONSUMER.MSG.NEXT.CARELINE_INBOUND.intake"
    await verifier.nc.publish(next_msg, b"1", reply="_INBOX.verifier.x")
    await verifier.violation(next_msg)


async def test_service_cannot_change_or_delete_streams(connect: Any) -> None:
    escalator, admin = await connect("escalator"), await connect("admin")
    with pytest.raises(NatsTimeoutError):
        await escalator.nc.jetstream().delete_stream("CARELINE_INBOUND")
    await escalator.violation("$JS.API.STREAM.DELETE.CARELINE_INBOUND")
    info = await admin.nc.jetstream().stream_info("CARELINE_INBOUND")
    assert info.config.num_replicas == 3


async def test_publisher_feeds_inbound_and_crm_only(connect: Any) -> None:
    publisher = await connect("publisher")
    js = publisher.nc.jetstream()
    assert (await js.publish("inbound.chat", b"{}")).stream == "CARELINE_INBOUND"
    assert (await js.publish("crm.customer.upserted", b"{}")).stream == "CARELINE_CRM"
    for subject in ("message.verified", "notify.request", "dlq.intake"):
        with pytest.raises(NatsTimeoutError):
            await js.publish(subject, b"{}", timeout=1.0)
        await publisher.violation(subject)


async def test_unknown_users_and_wrong_passwords_are_refused(cluster: Cluster) -> None:
    for user, password in (("intake", "wrong"), ("stranger", "pw")):
        with pytest.raises(Exception, match=r"(?i)authorization"):
            await nats.connect(
                cluster.nodes[0].url,
                user=user,
                password=password,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                connect_timeout=2,
            )


async def test_pipeline_runs_on_its_own_credentials(
    cluster: Cluster,
    connect: Any,
    servers: Servers,
    clean: None,
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    """Each service with only its own user: a legal threat from the publisher is escalated
    and its notifications sent, so the generated permissions are enough to run."""
    admin = await connect("admin")
    js = admin.nc.jetstream()
    for stream in await js.streams_info():  # what the tests above left behind
        await js.purge_stream(stream.config.name)
        for consumer in await js.consumers_info(stream.config.name):
            await js.delete_consumer(stream.config.name, consumer.name)
    common = {
        "DATABASE_URL": servers.database_url,
        "CARELINE_VAR_DIR": str(tmp_path),
        "CARELINE_ACK_WAIT": 5,
        "CARELINE_RETRY_BACKOFF": 0.05,
    }
    apps = [
        build_intake(CarelineSettings(**cluster.settings("intake", **common))),
        build_verifier(
            VerifierSettings(**cluster.settings("verifier", **common), CARELINE_DEMO_CRM=True)
        ),
        build_escalator(EscalatorSettings(**cluster.settings("escalator", **common))),
        build_notifier(
            NotifierSettings(
                **cluster.settings("notifier", **common),
                SMTP_HOST="127.0.0.1",
                SMTP_PORT=mailbox.port,
            )
        ),
    ]
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(TestApp(app))
        publisher = await connect("publisher")
        message = {
            "channel": "chat",
            "external_id": "perm-1",
            "sender": {"handle": "@perm_client"},
            "text": "Я подам на вас в суд из-за заказа № 17.",
        }
        await publisher.nc.jetstream().publish(
            "inbound.chat", json.dumps(message).encode(), headers={"Nats-Msg-Id": "perm-1"}
        )
        sent = "SELECT count(*) FROM notifier.notifications WHERE status = 'sent'"
        for _ in range(600):
            if await count(servers, sent) >= 1 and await idle(js):
                break
            await asyncio.sleep(0.05)
        assert await count(servers, "SELECT count(*) FROM escalator.escalations") == 1
        notifications = await count(servers, "SELECT count(*) FROM notifier.notifications")
        assert notifications >= 1
        assert await count(servers, sent) == notifications
        assert len(mailbox.messages()) == notifications
    assert await stream_messages(admin, "CARELINE_DLQ") == 0


async def idle(js: Any) -> bool:
    """Every consumer has delivered and had acked everything (outputs precede acks)."""
    for stream in await js.streams_info():
        for consumer in await js.consumers_info(stream.config.name):
            if consumer.num_pending or consumer.num_ack_pending:
                return False
    return True

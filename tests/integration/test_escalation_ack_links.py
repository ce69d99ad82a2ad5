"""Signed single-use acknowledge links over a real HTTP socket, NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import nats
import pytest
from faststream._internal.testing.app import TestApp
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.escalator.ack_links import AckClaims, sign_ack_token
from services.escalator.app import build_app as build_escalator
from services.escalator.links import ACK_PATH, AckLinkIssuer
from services.escalator.settings import EscalatorSettings
from shared.app import ServiceApp
from shared.case_ref import case_ref
from shared.contracts import (
    ChannelRef,
    CustomerRef,
    Identity,
    ReassignEscalation,
    SenderIdentifiers,
    StaffRef,
)
from shared.embedded import free_port
from tests.integration.conftest import Env, rows
from tests.integration.escalator_harness import (
    BILLING,
    HEAD,
    LEGAL,
    Bus,
    ask,
    legal_threat,
    publish_verified,
    until,
    verified_payload,
)

pytestmark = pytest.mark.integration

SECRET = "integration-escalator-link-secret"


@asynccontextmanager
async def escalator(env: Env) -> AsyncIterator[tuple[ServiceApp, str]]:
    """The escalator with links on, its HTTP side on a free port as `faststream run` has it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = EscalatorSettings(
        **env.base(),
        ESCALATOR_SWEEP_SECONDS=0.1,
        CARELINE_HTTP_PORT=port,
        ESCALATOR_LINK_SECRET=SECRET,
        ESCALATOR_LINK_BASE_URL=base,
    )
    app = build_escalator(settings)
    async with TestApp(app):
        task = asyncio.create_task(app.serve_http())
        try:
            async with asyncio.timeout(10):
                # uvicorn offers no startup event to wait on; its bound socket is the condition.
                while app.bound_http_port is None:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            yield app, base
        finally:
            app.exit()
            await asyncio.wait_for(task, 10)


def link_to(bus: Bus, recipient: str, kind: str = "manager_escalation") -> str:
    (note,) = bus.to(recipient)
    assert note["kind"] == kind
    url = note["data"]["ack_url"]
    assert isinstance(url, str)
    return url


async def timeline(env: Env, escalation_id: uuid.UUID) -> list[dict[str, Any]]:
    return await rows(
        env,
        "SELECT entry, actor, detail FROM escalator.escalation_timeline "
        "WHERE escalation_id = :id ORDER BY id",
        id=escalation_id,
    )


async def issue_for(env: Env, escalation_id: uuid.UUID, role: str, address: str) -> str:
    """A link issued by the escalator's own issuer for someone the escalation never told."""
    issuer = AckLinkIssuer(SECRET.encode(), "http://unused", timedelta(hours=1))
    engine = create_async_engine(env.servers.database_url)
    try:
        async with AsyncSession(engine) as session, session.begin():
            url = await issuer.issue(session, escalation_id, role, address, datetime.now(UTC))
    finally:
        await engine.dispose()
    return url.removeprefix("http://unused")


async def test_a_link_acknowledges_once_as_the_person_it_was_sent_to(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with escalator(env) as (_app, base), httpx.AsyncClient() as http:
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = uuid.UUID(opened["escalation_id"])
        await bus.wait("notify.request", 2)
        url = link_to(bus, HEAD)
        assert url.startswith(f"{base}{ACK_PATH}/")
        assert link_to(bus, LEGAL, kind="legal_notice") != url

        # Looking (a mail scanner prefetching the link) changes nothing.
        for _ in range(2):
            view = await http.get(url)
            assert view.status_code == 200 and view.headers["cache-control"] == "no-store"
            assert '<form method="post">' in view.text and str(escalation_id) in view.text
        assert [t["entry"] for t in await timeline(env, escalation_id)] == ["opened"]

        done = await http.post(url)
        assert done.status_code == 200, done.text
        assert 'data-outcome="acknowledged"' in done.text
        (acked,) = await bus.wait("escalation.acknowledged")
        assert (acked["actor"], acked["actor_role"]) == (HEAD, "head_of_support")

        again = await http.post(url)
        assert again.status_code == 409 and 'data-outcome="used"' in again.text
        assert (await http.get(url)).status_code == 409
        # Someone else's link, after it was acknowledged: nothing changes, and it says so.
        late = await http.post(link_to(bus, LEGAL, kind="legal_notice"))
        assert late.status_code == 200 and 'data-outcome="already_acknowledged"' in late.text

        entries = await timeline(env, escalation_id)
        assert [(t["entry"], (t["actor"] or {}).get("role")) for t in entries] == [
            ("opened", None),
            ("acknowledged", "head_of_support"),
        ]
        assert entries[1]["actor"]["address"] == HEAD and entries[1]["detail"]["via"] == "link"
        await nc.flush()
        assert len(bus.of("escalation.acknowledged")) == 1


async def test_forged_expired_unknown_and_wrong_person_links_are_refused(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with escalator(env) as (_app, base), httpx.AsyncClient(base_url=base) as http:
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = uuid.UUID(opened["escalation_id"])
        await bus.wait("notify.request", 2)
        token = link_to(bus, HEAD).rsplit("/", 1)[1]
        body, signature = token.split(".")

        def signed(**change: Any) -> str:
            claims = AckClaims(
                **{
                    "link_id": uuid.uuid4(),
                    "escalation_id": escalation_id,
                    "role": "head_of_support",
                    "address": HEAD,
                    "expires_at": datetime.now(UTC) + timedelta(hours=1),
                    **change,
                }
            )
            return f"{ACK_PATH}/{sign_ack_token(SECRET.encode(), claims)}"

        forged = f"{ACK_PATH}/{body}.{signature[::-1]}"
        other_key = f"{ACK_PATH}/{sign_ack_token(b'guessed', _claims_of(escalation_id))}"
        expired = signed(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        never_issued = signed()  # a valid signature, but no such link was ever given out
        stranger = await issue_for(env, escalation_id, "head_of_support", "intruder@example.com")

        for path, status, outcome in (
            (forged, 403, "forged"),
            (other_key, 403, "forged"),
            (f"{ACK_PATH}/garbage", 403, "forged"),
            (expired, 410, "expired"),
            (never_issued, 404, "forged"),
        ):
            for method in ("GET", "POST"):
                answer = await http.request(method, path)
                assert answer.status_code == status, (path, method, answer.text)
                assert f'data-outcome="{outcome}"' in answer.text
                assert answer.headers["content-type"].startswith("text/html")
        assert "careline ack " + case_ref(escalation_id) in (await http.get(expired)).text

        refused = await http.post(stranger)
        assert refused.status_code == 403 and 'data-outcome="forbidden"' in refused.text
        entries = await timeline(env, escalation_id)
        assert [(t["entry"], t["actor"]["address"] if t["actor"] else None) for t in entries] == [
            ("opened", None),
            ("refused", "intruder@example.com"),
        ]
        # None of it acknowledged anything: the real link still works.
        assert (await http.post(f"{ACK_PATH}/{token}")).status_code == 200
        await bus.wait("escalation.acknowledged")


async def test_a_reassignment_sends_the_new_owner_a_link_that_acknowledges(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with escalator(env) as (_app, _base), httpx.AsyncClient() as http:
        await publish_verified(nc, legal_threat())
        (opened,) = await bus.wait("escalation.opened")
        escalation_id = uuid.UUID(opened["escalation_id"])
        handover = ReassignEscalation(
            command_id=uuid.uuid4(), escalation_id=escalation_id, actor=HEAD, to_role="billing"
        )
        assert (await ask(env, handover)).outcome == "reassigned"
        await bus.wait("notify.request", 3)
        done = await http.post(link_to(bus, BILLING))
        assert done.status_code == 200 and 'data-outcome="acknowledged"' in done.text
        (acked,) = await bus.wait("escalation.acknowledged")
        assert (acked["actor"], acked["actor_role"]) == (BILLING, "billing")


LONDON_MANAGER = "emily.carter@careline.example"


def failure_of_a_london_client() -> bytes:
    """A verified failure report whose account manager reads English, as the CRM says (the
    policy says nothing of her); the team reads Russian."""
    identity = Identity(
        status="verified",
        confidence=0.95,
        customer=CustomerRef(id="cust-northwind", name="Northwind Logistics Ltd", tier="gold"),
        account_manager=StaffRef(
            id="am-carter", name="Emily Carter", email=LONDON_MANAGER, language="en"
        ),
        authorized_channels=[
            ChannelRef(kind="email", address="ops@northwind-logistics.com", verified=True)
        ],
        disclosure="account",
    )
    sender = SenderIdentifiers(email="ops@northwind-logistics.com")
    text = "Экспорт отчётов не работает со вчерашнего дня."
    return verified_payload(text, identity, sender, domain="northwind-logistics.com")


async def test_a_link_speaks_the_language_of_the_notice_that_carried_it(
    env: Env, watch: tuple[nats.NATS, Bus]
) -> None:
    nc, bus = watch
    async with escalator(env) as (_app, _base), httpx.AsyncClient() as http:
        await publish_verified(nc, failure_of_a_london_client())
        opened = await bus.wait("escalation.opened")
        await until(lambda: bus.to(LONDON_MANAGER) and bus.to(HEAD))
        (to_manager,) = bus.to(LONDON_MANAGER)
        (to_head,) = bus.to(HEAD)
        assert (to_manager["language"], to_head["language"]) == ("en", "ru")
        english = await http.get(to_manager["data"]["ack_url"])
        assert '<html lang="en">' in english.text and "Acknowledge an escalation" in english.text
        russian = await http.get(to_head["data"]["ack_url"])
        assert '<html lang="ru">' in russian.text and "Взять эскалацию в работу" in russian.text

        # A reassignment's link (the lifecycle's) speaks hers too, and so does its outcome.
        escalation_id = uuid.UUID(opened[0]["escalation_id"])
        handover = ReassignEscalation(
            command_id=uuid.uuid4(),
            escalation_id=escalation_id,
            actor=HEAD,
            to_role="account_manager",
            to_address=LONDON_MANAGER,
        )
        assert (await ask(env, handover)).outcome == "reassigned"
        await until(lambda: len(bus.to(LONDON_MANAGER)) == 2)
        url = bus.to(LONDON_MANAGER)[-1]["data"]["ack_url"]
        done = await http.post(url)
        assert done.status_code == 200 and '<html lang="en">' in done.text
        assert 'data-outcome="acknowledged"' in done.text


def _claims_of(escalation_id: uuid.UUID) -> AckClaims:
    return AckClaims(
        link_id=uuid.uuid4(),
        escalation_id=escalation_id,
        role="head_of_support",
        address=HEAD,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )

"""Intake's HTTP side on a real socket, a real nats-server and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import nats
import pytest
from faststream._internal.testing.app import TestApp

from services.intake.app import build_app as build_intake
from services.intake.settings import IntakeSettings
from shared.app import ServiceApp
from shared.contracts import derived_id
from shared.embedded import free_port
from tests.integration.conftest import Env, Recorder, count

pytestmark = pytest.mark.integration
NOTHING = {"spf_domain": None}  # no domain said: an SPF pass of it would align with nothing

TOKEN = "integration-publisher-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def intake_app(env: Env, **overrides: object) -> ServiceApp:
    settings = IntakeSettings(
        **{
            **env.base(),
            "CARELINE_INTAKE_TOKENS": {"crm-webhook": TOKEN},
            "CARELINE_HTTP_PORT": 0,
            **overrides,
        }
    )
    return build_intake(settings)


@asynccontextmanager
async def serving(app: ServiceApp) -> AsyncIterator[str]:
    """The app's HTTP server on a free port, as `faststream run` serves it."""
    task = asyncio.create_task(app.serve_http())
    try:
        async with asyncio.timeout(10):
            # uvicorn offers no startup event to wait on; its bound socket is the condition.
            while app.bound_http_port is None:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{app.bound_http_port}"
    finally:
        app.exit()
        await asyncio.wait_for(task, 10)


async def test_http_message_is_normalized_once_and_served_ready(
    env: Env, bus: tuple[nats.NATS, Recorder]
) -> None:
    _nc, recorder = bus
    app = intake_app(env)
    async with TestApp(app), serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        ready = await http.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert (await http.get("/health/live")).json() == {"status": "live", "service": "intake"}

        form = {
            "external_id": "form-77",
            "form": {
                "name": "Алексей Соколов",
                "email": "A.Sokolov@StroyMontazh.ru",
                "company": "ООО «СтройМонтаж»",
                "message": "Оплатили счёт № 4512 вчера, а доступ закрыт. Договор 17/2024.",
            },
        }
        first = await http.post("/v1/inbound/web_form", json=form, headers=AUTH)
        again = await http.post("/v1/inbound/web_form", json=form, headers=AUTH)

        assert first.status_code == again.status_code == 202
        message_id = first.json()["message_id"]
        assert message_id == str(derived_id("message", "web_form", "form-77"))
        (normalized,) = await recorder.wait_for("message.normalized")
        assert normalized["message_id"] == message_id
        assert normalized["sender"]["email"] == "a.sokolov@stroymontazh.ru"
        assert normalized["signature"] == "Алексей Соколов\nООО «СтройМонтаж»"
        kinds = {(e["kind"], e["value"]) for e in normalized["entities"]}
        assert {("invoice", "4512"), ("contract", "17/2024"), ("date", "day:-1")} <= kinds
        assert await count(env.servers, "SELECT count(*) FROM intake.messages") == 1


def mail_with(*auth_headers: str, message_id: str) -> bytes:
    headers = "".join(f"Authentication-Results: {h}\r\n" for h in auth_headers)
    return (
        f"{headers}Received: from relay.evil.test by mx.careline.example\r\n"
        f"From: Андрей Соколов <director@stroymontazh.ru>\r\nMessage-ID: <{message_id}>\r\n"
        "Subject: Срочно\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Смените контакт для счетов на новый адрес.\r\n"
    ).encode()


async def test_only_our_mx_authentication_results_reach_the_normalized_message(
    env: Env, bus: tuple[nats.NATS, Recorder]
) -> None:
    """The forger's "passed" header inside the mail is not read, whether ours is there
    (its failures stand) or not (none); nothing is believed without the setting."""
    _nc, recorder = bus
    forged = "mx.stroymontazh.ru; spf=pass; dkim=pass; dmarc=pass"
    ours = "mx.careline.example; spf=fail smtp.mailfrom=stroymontazh.ru; dmarc=fail"
    mail = {"Content-Type": "message/rfc822", **AUTH}
    app = intake_app(env, CARELINE_INTAKE_AUTHSERV_IDS="MX.Careline.Example, mx2.careline.example")
    async with TestApp(app), serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        for content in (
            mail_with(ours, forged, message_id="forged-below@evil.test"),
            mail_with(forged, message_id="forged-alone@evil.test"),
        ):
            accepted = await http.post("/v1/inbound/email", content=content, headers=mail)
            assert accepted.status_code == 202, accepted.text
        below, alone = await recorder.wait_for("message.normalized", 2)
    untrusting = intake_app(env)
    async with (
        TestApp(untrusting),
        serving(untrusting) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        content = mail_with(ours, message_id="ours-untrusted@evil.test")
        accepted = await http.post("/v1/inbound/email", content=content, headers=mail)
        assert accepted.status_code == 202, accepted.text
        *_, unset = await recorder.wait_for("message.normalized", 3)

    by_id = {m["external_id"]: m["auth"] for m in (below, alone, unset)}
    assert by_id == {
        "forged-below@evil.test": {
            **{"spf": "fail", "dkim": "none", "dmarc": "fail"},
            "spf_domain": "stroymontazh.ru",
        },
        "forged-alone@evil.test": {"spf": "none", "dkim": "none", "dmarc": "none", **NOTHING},
        "ours-untrusted@evil.test": {"spf": "none", "dkim": "none", "dmarc": "none", **NOTHING},
    }


async def test_rejected_http_input_never_reaches_the_bus(
    env: Env, bus: tuple[nats.NATS, Recorder]
) -> None:
    _nc, recorder = bus
    app = intake_app(env, CARELINE_INTAKE_MAX_BODY=10_000)
    async with TestApp(app), serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        garbage = await http.post(
            "/v1/inbound/chat",
            content=bytes(range(256)) * 4,
            headers={**AUTH, "Content-Type": "application/json"},
        )
        huge = await http.post(
            "/v1/inbound/chat",
            content=b"x" * 20_000,
            headers={**AUTH, "Content-Type": "application/json"},
        )
        injected = await http.post(
            "/v1/inbound/email",
            content=b"Subject: hi\r\nBcc: victim@example.com\r\n\r\nno sender here",
            headers={**AUTH, "Content-Type": "message/rfc822"},
        )
        assert (garbage.status_code, huge.status_code, injected.status_code) == (400, 413, 422)
        # The service still works after all of it.
        ok = await http.post(
            "/v1/inbound/chat",
            json={"sender": {"phone": "067 123 45 67"}, "text": "Перезвоніть мені, будь ласка"},
            headers=AUTH,
        )
        assert ok.status_code == 202
        (normalized,) = await recorder.wait_for("message.normalized")
        assert normalized["sender"]["phone"] == "+380671234567"
        assert normalized["language"] == "uk"
    assert recorder.of("dlq.") == []


async def test_ready_names_the_database_when_it_is_unreachable(env: Env) -> None:
    closed = f"postgresql+asyncpg://careline@127.0.0.1:{free_port()}/careline"
    app = intake_app(env, DATABASE_URL=closed)
    async with TestApp(app), serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        ready = await http.get("/health/ready")
        live = await http.get("/health/live")

    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["failed"] == ["database"]
    assert ready.json()["checks"]["broker"] == "ok"
    assert "127.0.0.1" not in ready.text  # no connection details in a public probe


async def test_ready_names_the_broker_before_it_is_connected(env: Env) -> None:
    app = intake_app(env)  # not started: no NATS connection yet
    transport = httpx.ASGITransport(app=app.http)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        ready = await http.get("/health/ready")

    assert ready.status_code == 503
    assert ready.json()["failed"] == ["broker"]


async def test_garbage_on_nats_is_dead_lettered_with_the_original_bytes(
    env: Env, bus: tuple[nats.NATS, Recorder]
) -> None:
    nc, recorder = bus
    app = intake_app(env)
    async with TestApp(app):
        js = nc.jetstream()
        garbage = b"\x00\xff\xfe binary \x80 garbage"
        await js.publish("inbound.chat", garbage)
        bad_charset = json.dumps(
            {"raw_email": "From: a@b.c\nContent-Type: text/plain; charset=x-no-such\n\nhi"}
            | {"channel": "email"}
        ).encode()
        await js.publish("inbound.email", bad_charset)
        letters = await recorder.wait_for("dlq.intake", 2)
        await js.publish(
            "inbound.chat",
            json.dumps(
                {"channel": "chat", "sender": {"handle": "@x"}, "text": "still alive"}
            ).encode(),
        )
        await recorder.wait_for("message.normalized")

    by_encoding = {letter["payload_encoding"]: letter for letter in letters}
    assert set(by_encoding) == {"base64", "utf-8"}
    assert base64.b64decode(by_encoding["base64"]["payload"]) == garbage
    assert all(letter["reason"] for letter in letters)

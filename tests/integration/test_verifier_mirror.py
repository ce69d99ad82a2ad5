"""The CRM mirror on real PostgreSQL and NATS: import, crm.* events, bounded lookups, HTTP CRM."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faststream._internal.testing.app import TestApp
from sqlalchemy import event, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.verifier.app import build_app as build_verifier
from services.verifier.domain import NameKeys
from services.verifier.http_crm import http_directory
from services.verifier.memory import InMemoryCrm
from services.verifier.mirror import apply_batch, demo_batch, refresh_keys
from services.verifier.service import VerifierService
from services.verifier.settings import VerifierSettings
from shared.contracts import (
    AuthResults,
    ContactRemoved,
    ContactUpserted,
    ContractTerms,
    CrmAccountManager,
    CrmChannel,
    CrmContact,
    CrmCustomer,
    CrmDocument,
    CustomerUpserted,
    Entity,
    MessageNormalized,
    QuotedDocument,
    SenderIdentifiers,
)
from shared.db import Database
from shared.embedded import free_port
from shared.errors import RetryableError
from shared.http import http_server
from tests.conftest import Servers
from tests.integration.conftest import Env, count, rows

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2022, 3, 26, 11, 2, tzinfo=UTC)


def settings(servers: Servers, **extra: object) -> VerifierSettings:
    return VerifierSettings(NATS_URL=servers.nats_url, DATABASE_URL=servers.database_url, **extra)


def seed_000(invoices: int = 1) -> MessageNormalized:
    text_ = "Но счёт № 4512 мы уже оплатили вчера. " + " ".join(
        f"счёт № {4600 + i}" for i in range(invoices - 1)
    )
    entities = [Entity(kind="invoice", value="4512", start=10, end=14)]
    entities += [
        Entity(kind="invoice", value=str(4600 + i), start=0, end=1) for i in range(invoices - 1)
    ]
    return MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        correlation_id="seed-000",
        occurred_at=NOW,
        channel="email",
        sender=SenderIdentifiers(email="a.sokolov@stroymontazh.ru", display_name="Андрей Соколов"),
        text=text_,
        signature="С уважением,\nАндрей Соколов\nгенеральный директор ООО «СтройМонтаж»\n"
        "+7 495 123-45-67",
        thread_id="t",
        external_id=f"seed-{uuid.uuid4()}",
        auth=AuthResults(spf="pass", dkim="pass", dmarc="pass"),
        entities=entities,
        received_at=NOW,
    )


async def test_lookups_per_message_are_bounded_and_independent_of_its_size(
    servers: Servers, db: Database
) -> None:
    async with db.transaction() as session:
        await apply_batch(session, demo_batch(), NOW)
    service = VerifierService(db, settings(servers), lambda: NOW)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        counts = []
        for size in (1, 40):
            statements.clear()
            async with db.transaction() as session:
                identity = await service.decide(session, seed_000(size))
            counts.append(len(statements))
            assert identity.status == "probable"
            assert identity.contact is not None and identity.contact.id == "ct-sokolov"
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    # channels, domain, documents, people (both words, then any), companies (by company
    # key, then any), customers, channels of customers
    assert counts[0] == counts[1] <= 9


def _write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def _careline(servers: Servers, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": servers.database_url, "NATS_URL": servers.nats_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


RECORDS = [
    {"record": "account_manager", "id": "am-1", "name": "Ольга Петрова",
     "email": "O.Petrova@careline.example"},
    {"record": "customer", "id": "c-1", "name": "ООО «Ромашка»", "tier": "gold",
     "value": "120000.00", "account_manager_id": "am-1", "domains": ["romashka.ru"]},
    {"record": "contact", "id": "ct-1", "customer_id": "c-1", "name": "Пётр Иванов",
     "role": "CEO", "channels": [{"kind": "email", "address": "Ivanov@Romashka.ru",
                                  "verified": True},
                                 {"kind": "phone", "address": "8 (495) 111-22-33"}]},
    {"record": "document", "customer_id": "c-1", "kind": "contract", "number": "77/2020",
     "amount": "5000.00", "currency": "RUB"},
]  # fmt: skip
JSONL = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS)
CSV = "\n".join(
    [
        "record,id,customer_id,name,tier,account_manager_id,domains,role,channels,email,kind,"
        "number",
        "account_manager,am-2,,Тарас Коваленко,,,,,,t.kovalenko@careline.example,,",
        "customer,c-2,,ТОВ «Квітка»,silver,am-2,kvitka.ua;kvitka.com.ua,,,,,",
        "contact,ct-2,c-2,Олена Шевчук,,,,директорка,"
        "email:o.shevchuk@kvitka.ua:verified;handle:@olena_kvitka,,,",
        "document,,c-2,,,,,,,,invoice,2207",
    ]
)


async def test_keys_missing_after_a_migration_are_computed_at_start(
    servers: Servers, db: Database
) -> None:
    async with db.transaction() as session:
        await apply_batch(session, demo_batch(), NOW)
    computed = await _keys(db)
    async with db.transaction() as session:  # as migrations 0002 and 0011 leave them
        await session.execute(text("UPDATE crm.customers SET company_key = NULL, name_keys = NULL"))
        await session.execute(text("UPDATE crm.contacts SET name_keys = NULL"))
        await session.execute(text("UPDATE crm.contact_channels SET match_key = NULL"))

    async with db.transaction() as session:
        refreshed = await refresh_keys(session)
    async with db.transaction() as session:
        again = await refresh_keys(session)

    assert await _keys(db) == computed
    assert refreshed > 0 and again == 0
    assert ("cust-stroymontazh", "stroimon") in {(row[0], row[1]) for row in computed}


async def _keys(db: Database) -> list[tuple[object, ...]]:
    """Every row's search keys: (id, company or match key, name keys)."""
    async with db.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT id, company_key, name_keys FROM crm.customers UNION ALL "
                "SELECT id, NULL, name_keys FROM crm.contacts UNION ALL "
                "SELECT id::text, match_key, NULL FROM crm.contact_channels ORDER BY 1, 2"
            )
        )
        return [tuple(r) for r in rows]


async def test_import_jsonl_and_csv_is_idempotent(servers: Servers, db: Database, tmp_path: Path):
    jsonl = _write(tmp_path / "crm.jsonl", JSONL)
    csv_file = _write(tmp_path / "crm.csv", CSV)
    for _ in range(2):
        for path in (jsonl, csv_file):
            result = await asyncio.to_thread(_careline, servers, "crm", "import", str(path))
            assert result.returncode == 0, result.stderr
            assert "imported 4 records, 0 invalid rows" in result.stdout

    assert await count(servers, "SELECT count(*) FROM crm.customers") == 2
    assert await count(servers, "SELECT count(*) FROM crm.contact_channels") == 4
    assert await count(servers, "SELECT count(*) FROM crm.domains") == 3
    assert await count(servers, "SELECT count(*) FROM crm.documents") == 2
    assert (
        await count(
            servers,
            "SELECT count(*) FROM crm.contact_channels WHERE kind = 'phone' "
            "AND address = '+74951112233' AND match_key = '+74951112233' AND NOT verified",
        )
        == 1
    )
    assert (
        await count(
            servers,
            "SELECT count(*) FROM crm.contact_channels WHERE kind = 'handle' "
            "AND address = '@olena_kvitka'",
        )
        == 1
    )


async def test_import_reports_every_invalid_row_and_writes_nothing(
    servers: Servers, db: Database, tmp_path: Path
):
    bad = _write(
        tmp_path / "bad.jsonl",
        JSONL
        + '{"record": "contact", "id": "ct-9", "customer_id": "nobody", "name": "X"}\n'
        + '{"record": "customer", "id": "c-9"}\n'
        + "{not json\n"
        + '{"record": "contact", "id": "ct-8", "customer_id": "c-1", "name": "Y", '
        '"channels": [{"kind": "fax", "address": "1"}]}\n',
    )
    result = await asyncio.to_thread(_careline, servers, "crm", "import", str(bad))

    assert result.returncode == 1
    for expected in (
        "line 5: contact ct-9: unknown customer nobody",
        "line 6: customer c-9: name: Field required",
        "line 7: not JSON",
        "line 8: contact ct-8: channels.0.kind:",
        "nothing was imported",
    ):
        assert expected in result.stderr
    assert await count(servers, "SELECT count(*) FROM crm.customers") == 0

    skipped = await asyncio.to_thread(
        _careline, servers, "crm", "import", "--skip-invalid", str(bad)
    )
    assert "imported 4 records, 4 invalid rows" in skipped.stdout
    assert await count(servers, "SELECT count(*) FROM crm.contacts") == 1


async def _until(servers: Servers, sql: str, expected: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while (got := await count(servers, sql)) != expected:
        assert time.monotonic() < deadline, f"{sql}: {got} != {expected}"
        await asyncio.sleep(0.05)


async def test_crm_events_keep_the_mirror_current_newest_wins(env: Env, bus) -> None:
    nc, _ = bus
    js = nc.jetstream()
    servers = env.servers
    app = build_verifier(VerifierSettings(**env.base()))
    t0 = datetime.now(UTC)
    customer = CrmCustomer(
        id="c-ev",
        name="ООО «Событие»",
        domains=["sobytie.ru"],
        documents=[CrmDocument(kind="invoice", number="INV-1")],
    )
    contact = CrmContact(
        id="ct-ev",
        customer_id="c-ev",
        name="Ирина Событова",
        channels=[CrmChannel(kind="email", address="irina@sobytie.ru", verified=True)],
    )

    async def publish(subject: str, model) -> None:  # type: ignore[no-untyped-def]
        await js.publish(
            subject, model.model_dump_json().encode(), headers={"Nats-Msg-Id": str(model.event_id)}
        )

    async with TestApp(app):
        # The contact first: its customer is not on file yet, so it is retried until it is.
        await publish(
            "crm.contact.upserted",
            ContactUpserted(event_id=uuid.uuid4(), occurred_at=t0, contact=contact),
        )
        await publish(
            "crm.customer.upserted",
            CustomerUpserted(event_id=uuid.uuid4(), occurred_at=t0, customer=customer),
        )
        await _until(
            servers,
            "SELECT count(*) FROM crm.contact_channels c JOIN crm.contacts "
            "t ON t.id = c.contact_id WHERE t.customer_id = 'c-ev'",
            1,
        )
        await _until(servers, "SELECT count(*) FROM crm.documents WHERE customer_id = 'c-ev'", 1)

        # A late, older change is ignored; a removal makes the contact count for nothing.
        renamed = customer.model_copy(update={"name": "ООО «Старое»"})
        await publish(
            "crm.customer.upserted",
            CustomerUpserted(
                event_id=uuid.uuid4(), occurred_at=t0 - timedelta(hours=1), customer=renamed
            ),
        )
        await publish(
            "crm.contact.removed",
            ContactRemoved(
                event_id=uuid.uuid4(), occurred_at=t0 + timedelta(minutes=1), contact_id="ct-ev"
            ),
        )
        await _until(servers, "SELECT count(*) FROM crm.contacts WHERE removed_at IS NOT NULL", 1)
    assert (
        await count(servers, "SELECT count(*) FROM crm.customers WHERE name = 'ООО «Событие»'") == 1
    )
    assert (
        await count(
            servers, "SELECT count(*) FROM crm.processed_messages WHERE key LIKE 'crm-event:%'"
        )
        == 4
    )


async def test_a_managers_language_from_crm_events_comes_back_on_the_identity(
    env: Env, bus, db: Database
) -> None:
    # The escalator writes the account manager's notices in the CRM's language for them
    # (docs/escalations.md): the mirror must keep it, as the HTTP CRM says it.
    nc, _ = bus
    js = nc.jetstream()
    app = build_verifier(VerifierSettings(**env.base()))
    t0 = datetime.now(UTC)
    manager = CrmAccountManager(
        id="am-lang",
        name="Emily Carter",
        email="E.Carter@careline.example",
        language="en-GB",
        timezone="Europe/London",  # her notices' times on her clock (migration 0027)
    )
    customer = CrmCustomer(id="c-lang", name="Northwind Logistics", account_manager_id="am-lang")
    contact = CrmContact(
        id="ct-lang",
        customer_id="c-lang",
        name="James Whitfield",
        channels=[CrmChannel(kind="email", address="j.whitfield@northwind.example", verified=True)],
    )
    events = [
        ("crm.customer.upserted", CustomerUpserted(
            event_id=uuid.uuid4(), occurred_at=t0, customer=customer, account_manager=manager)),
        ("crm.contact.upserted", ContactUpserted(
            event_id=uuid.uuid4(), occurred_at=t0, contact=contact)),
    ]  # fmt: skip
    async with TestApp(app):
        for subject, model in events:
            await js.publish(
                subject,
                model.model_dump_json().encode(),
                headers={"Nats-Msg-Id": str(model.event_id)},
            )
        await _until(env.servers, "SELECT count(*) FROM crm.contacts WHERE id = 'ct-lang'", 1)
    assert (
        await count(env.servers, "SELECT count(*) FROM crm.account_managers WHERE language = 'en'")
        == 1
    )
    message = seed_000().model_copy(
        update={
            "sender": SenderIdentifiers(email="j.whitfield@northwind.example"),
            "text": "Where is our shipment?",
            "signature": "",
            "entities": [],
        }
    )
    service = VerifierService(db, settings(env.servers), lambda: NOW)
    for _ in range(2):  # the second answer comes from the mirror cache: it carries it too
        async with db.transaction() as session:
            identity = await service.decide(session, message)
        assert identity.customer is not None and identity.customer.id == "c-lang"
        assert identity.account_manager is not None
        assert (
            identity.account_manager.email,
            identity.account_manager.language,
            identity.account_manager.timezone,
        ) == ("e.carter@careline.example", "en", "Europe/London")


async def test_a_manager_upsert_that_leaves_out_the_language_keeps_it_and_null_clears_it(
    env: Env, bus
) -> None:
    # An exporter that does not know `language` must not wipe it on every change: the
    # manager's notices would fall back to the team's language (docs/crm.md).
    nc, _ = bus
    js = nc.jetstream()
    app = build_verifier(VerifierSettings(**env.base()))
    t0 = datetime.now(UTC)
    customer = CrmCustomer(id="c-keep", name="ТОВ «Квітка»", account_manager_id="am-keep")
    said = {"id": "am-keep", "name": "Тарас Коваленко", "email": "t.kovalenko@careline.example"}
    # The CRM's JSON as it is sent: the first names the language and the phone, the second
    # names neither (an older exporter), the third says the language is null.
    managers = [
        {**said, "language": "uk", "phone": "+380441234567"},
        {**said, "name": "Тарас Коваленко-Шевчук"},
        {**said, "language": None},
    ]
    manager_row = (
        "SELECT count(*) FROM crm.account_managers WHERE id = 'am-keep' AND name = '{name}' "
        "AND language {language} AND phone = '+380441234567'"
    )
    expected = [
        {"name": said["name"], "language": "= 'uk'"},
        {"name": "Тарас Коваленко-Шевчук", "language": "= 'uk'"},
        {"name": said["name"], "language": "IS NULL"},
    ]
    async with TestApp(app):
        for i, (manager, wanted) in enumerate(zip(managers, expected, strict=True)):
            event_id = uuid.uuid4()
            payload = {
                "event_id": str(event_id),
                "occurred_at": (t0 + timedelta(minutes=i)).isoformat(),
                "customer": customer.model_dump(mode="json"),
                "account_manager": manager,
            }
            await js.publish(
                "crm.customer.upserted",
                json.dumps(payload).encode(),
                headers={"Nats-Msg-Id": str(event_id)},
            )
            await _until(
                env.servers,
                f"SELECT count(*) FROM crm.processed_messages WHERE key = 'crm-event:{event_id}'",
                1,
            )
            assert await count(env.servers, manager_row.format(**wanted)) == 1, wanted


async def test_customer_and_contact_upserts_that_leave_out_a_field_keep_it(env: Env, bus) -> None:
    """An exporter older than `timezone` (or one that sends a customer without its value or
    manager, a contact without its role) must not wipe them on every change; an explicit
    null (an empty role) clears them."""
    nc, _ = bus
    js = nc.jetstream()
    app = build_verifier(VerifierSettings(**env.base()))
    t0 = datetime.now(UTC)
    customer = {"id": "c-tz", "name": "ТОВ «Квітка»"}
    contact = {"id": "ct-tz", "customer_id": "c-tz", "name": "Олена Коваль"}
    full = {"value": "1200.00", "account_manager_id": "am-tz", "timezone": "Europe/Kyiv"}
    manager = {"id": "am-tz", "name": "Тарас Коваленко", "email": "t.k@careline.example"}
    events = [
        ("crm.customer.upserted", {"customer": {**customer, **full}, "account_manager": manager}),
        (
            "crm.contact.upserted",
            {"contact": {**contact, "role": "CFO", "timezone": "Asia/Tbilisi"}},
        ),
        # The older exporter: names and nothing else.
        ("crm.customer.upserted", {"customer": {**customer, "name": "ТОВ «Квітка-2»"}}),
        ("crm.contact.upserted", {"contact": {**contact, "name": "Олена Коваль-Шевчук"}}),
    ]
    cleared = [
        ("crm.customer.upserted", {"customer": {**customer, "timezone": None, "value": None}}),
        ("crm.contact.upserted", {"contact": {**contact, "role": "", "timezone": None}}),
    ]

    async def publish(i: int, subject: str, body: dict[str, object]) -> None:
        event_id = uuid.uuid4()
        payload = {
            "event_id": str(event_id),
            "occurred_at": (t0 + timedelta(minutes=i)).isoformat(),
            **body,
        }
        await js.publish(
            subject, json.dumps(payload).encode(), headers={"Nats-Msg-Id": str(event_id)}
        )
        await _until(
            env.servers,
            f"SELECT count(*) FROM crm.processed_messages WHERE key = 'crm-event:{event_id}'",
            1,
        )

    async with TestApp(app):
        for i, (subject, body) in enumerate(events):
            await publish(i, subject, body)
        assert await rows(
            env,
            "SELECT name, value::text AS value, account_manager_id, timezone FROM crm.customers "
            "WHERE id = 'c-tz'",
        ) == [
            {
                "name": "ТОВ «Квітка-2»",
                "value": "1200.00",
                "account_manager_id": "am-tz",
                "timezone": "Europe/Kyiv",
            }
        ]
        assert await rows(
            env, "SELECT name, role, timezone FROM crm.contacts WHERE id = 'ct-tz'"
        ) == [{"name": "Олена Коваль-Шевчук", "role": "CFO", "timezone": "Asia/Tbilisi"}]
        for i, (subject, body) in enumerate(cleared, start=len(events)):
            await publish(i, subject, body)
        assert await rows(
            env,
            "SELECT value, account_manager_id, timezone FROM crm.customers WHERE id = 'c-tz'",
        ) == [{"value": None, "account_manager_id": "am-tz", "timezone": None}]
        assert await rows(env, "SELECT role, timezone FROM crm.contacts WHERE id = 'ct-tz'") == [
            {"role": "", "timezone": None}
        ]


# --- an external CRM over HTTP ---------------------------------------------------------


def crm_http_app(crm: InMemoryCrm, fail: list[int]) -> Starlette:
    """A real CRM's side of the API in docs/crm.md, answering from the same records."""

    async def body(request: Request) -> dict:  # type: ignore[type-arg]
        return await request.json()  # type: ignore[no-any-return]

    def guard() -> Response | None:
        return JSONResponse({"error": "down"}, 503) if fail else None

    async def channels(request: Request) -> Response:
        if (down := guard()) is not None:
            return down
        keys = [(k["kind"], k["key"]) for k in (await body(request))["keys"]]
        hits = await crm.channels_on_file(keys)
        return JSONResponse({"hits": [
            {"kind": h.kind, "key": h.key, "customer_id": h.match.customer_id,
             "contact_id": h.match.contact_id, "contact_name": h.match.contact_name,
             "verified": h.match.verified} for h in hits]})  # fmt: skip

    async def domain(request: Request) -> Response:
        ids = await crm.customers_with_domain(request.path_params["domain"])
        return JSONResponse({"customer_ids": ids})

    async def documents(request: Request) -> Response:
        refs = [(r["kind"], r["number_key"]) for r in (await body(request))["refs"]]
        docs = await crm.documents_on_file(refs)
        return JSONResponse({"documents": [d.__dict__ for d in docs]})

    async def names(request: Request) -> Response:
        data = await body(request)
        names = NameKeys(
            keys=tuple(data["keys"]),
            pairs=tuple((a, b) for a, b in data["pairs"]),
            companies=tuple(data["company_keys"]),
        )
        people, companies = await crm.name_candidates(names, data["limit"])
        return JSONResponse({"people": [p.__dict__ for p in people],
                             "companies": [c.__dict__ for c in companies]})  # fmt: skip

    async def customers(request: Request) -> Response:
        facts = await crm.customer_facts((await body(request))["ids"])
        return JSONResponse({"customers": [
            {**f.customer.model_dump(mode="json"), "account_manager": f.account_manager.model_dump()
             if f.account_manager else None,
             "authorized_channels": [c.model_dump() for c in f.authorized_channels]}
            for f in facts.values()]})  # fmt: skip

    return Starlette(routes=[
        Route("/v1/lookup/channels", channels, methods=["POST"]),
        Route("/v1/domains/{domain}/customers", domain),
        Route("/v1/lookup/documents", documents, methods=["POST"]),
        Route("/v1/lookup/names", names, methods=["POST"]),
        Route("/v1/lookup/customers", customers, methods=["POST"]),
    ])  # fmt: skip


async def test_http_crm_adapter_decides_as_the_mirror_does(servers: Servers, db: Database):
    memory = InMemoryCrm(demo_batch())
    fail: list[int] = []
    port = free_port()
    server = http_server(crm_http_app(memory, fail), "127.0.0.1", port, 30)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
            await asyncio.sleep(0.01)
        async with db.transaction() as session:
            await apply_batch(session, demo_batch(), NOW)
        url = f"http://127.0.0.1:{port}"
        over_http = VerifierService(db, settings(servers), lambda: NOW, http_directory(url, 5.0))
        mirror = VerifierService(db, settings(servers), lambda: NOW)
        message = seed_000()
        async with db.transaction() as session:
            by_http = await over_http.decide(session, message)
            by_mirror = await mirror.decide(session, message)
        assert by_http.status == "probable"
        assert by_http == by_mirror
        # The CRM's contracts come with the identity, terms and all (staff see them in
        # escalations), the same whichever directory answered.
        assert by_mirror.customer is not None
        (contract,) = by_mirror.customer.contracts
        (on_file,) = [
            d for c in demo_batch().customers if c.id == "cust-stroymontazh"
            for d in c.documents or [] if d.kind == "contract"
        ]  # fmt: skip
        assert contract == ContractTerms.model_validate(on_file.model_dump(exclude={"kind"}))
        assert (contract.plan, len(contract.included)) == ("Бизнес", 4)

        fail.append(1)  # the CRM is down: the message is retried later, never decided blind
        with pytest.raises(RetryableError):
            async with db.transaction() as session:
                await over_http.decide(session, message)
    finally:
        server.should_exit = True
        await serving


async def test_the_invoice_the_client_names_goes_to_staff_as_the_crm_has_it(
    servers: Servers, db: Database
) -> None:
    """Seed 000: the CEO writes that invoice 4512 was paid; staff see it is paid in the CRM
    (the suspension notice went out by mistake). Another customer's numbers never come."""
    async with db.transaction() as session:
        await apply_batch(session, demo_batch(), NOW)
    service = VerifierService(db, settings(servers), lambda: NOW)

    async with db.transaction() as session:
        identity = await service.decide(session, seed_000(3))

    assert identity.customer is not None and identity.customer.id == "cust-stroymontazh"
    assert identity.customer.documents == [
        QuotedDocument(
            kind="invoice", number="4512", status="paid", amount="184500.00", currency="RUB"
        )
    ]

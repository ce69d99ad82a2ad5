"""The verifier's batches on real PostgreSQL (services/verifier/batch.py): the CRM looked up
once per kind for a whole batch, decisions and confirmations written together, and every
message decided exactly as it would be alone."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from services.verifier import mirror_batch
from services.verifier.adapters import SqlCrmDirectory
from services.verifier.cache import CachedMirror, MirrorCache
from services.verifier.lookup import lookup_for
from services.verifier.memory import InMemoryCrm
from services.verifier.mirror import CrmBatch, apply_batch, demo_batch
from services.verifier.service import VerifierService
from services.verifier.settings import MatchingRules, VerifierSettings
from shared.contracts import (
    AuthResults,
    CrmContact,
    CrmCustomer,
    Entity,
    Identity,
    MessageNormalized,
    SenderIdentifiers,
)
from shared.db import Database, create_engine
from tests.conftest import Servers
from tests.integration.conftest import count

pytestmark = pytest.mark.integration
NOW = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)
CEO = "a.sokolov@stroymontazh.ru"  # seed 000: a probable sender, not on file yet


@pytest.fixture
async def db(servers: Servers, clean: None) -> AsyncIterator[Database]:
    database = Database(create_engine(servers.database_url))
    try:
        async with database.transaction() as session:
            await apply_batch(session, demo_batch(), NOW)
        yield database
    finally:
        await database.dispose()


def service(servers: Servers, db: Database) -> VerifierService:
    settings = VerifierSettings(
        NATS_URL=servers.nats_url,
        DATABASE_URL=servers.database_url,
        CARELINE_CONFIRMATION_SECRET="batch-test-secret",
    )
    return VerifierService(db, settings, lambda: NOW, CachedMirror(MirrorCache()))


def message(
    *, email: str | None = None, handle: str | None = None, name: str | None = None, **extra: object
) -> MessageNormalized:
    message_id = uuid.uuid4()
    return MessageNormalized.model_validate(
        {
            "event_id": uuid.uuid4(),
            "message_id": message_id,
            "correlation_id": str(message_id),
            "occurred_at": NOW,
            "channel": "email" if email else "chat",
            "sender": SenderIdentifiers(email=email, handle=handle, display_name=name),
            "text": "Добрый день, вопрос по счёту. Добрий день. Hello.",
            "thread_id": str(message_id),
            "external_id": str(message_id),
            "auth": AuthResults(spf="pass", dkim="pass", dmarc="pass"),
            "received_at": NOW,
            **extra,
        }
    )


def mix() -> list[MessageNormalized]:
    """Verified, probable, unknown and conflicting senders in Russian, Ukrainian, English."""
    return [
        message(email="buh@stroymontazh.ru", name="Марина Ковалёва"),
        message(email=CEO, name="Андрей Соколов"),
        message(email="o.shevchuk@kvitka.ua", name="Олена Шевчук"),
        message(email="someone@kvitka.ua", name="Олена Шевчук"),
        message(email="j.miller@northwind-logistics.com", name="James Miller"),
        message(
            email="finance@elsewhere.example",
            name="James Miller",
            entities=[Entity(kind="contract", value="2020-114", start=0, end=8)],
        ),
        message(handle="@lebedev_smm", name="Виктор"),
        message(email="nobody@gmail.com", name="Иван Иванов"),
        message(email="new@alfa-group.ru", name="Пётр"),
        message(email="belova@alfa-group.ru", name="Анна Белова"),
    ]


def without_request(identity: Identity) -> Identity:
    return identity.model_copy(update={"confirmation": None})


def identity_of(outputs: list) -> Identity:  # type: ignore[type-arg]
    return Identity.model_validate(outputs[0].payload["identity"])


async def test_a_batch_decides_each_message_as_alone_with_a_few_queries(
    servers: Servers, db: Database
) -> None:
    messages = mix()
    alone = []
    for m in messages:  # each decided alone, on a cold cache, in its own transaction
        async with db.transaction() as session:
            alone.append(await service(servers, db).decide(session, m))

    statements: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    verifier = service(servers, db)
    together = await asyncio.gather(*(verifier.verify(m) for m in messages))

    assert [without_request(identity_of(o)) for o in together] == alone
    assert {i.status for i in alone} >= {"verified", "probable", "unknown"}
    # One batch: the CRM asked once per kind for all ten, not once per kind per message (and
    # the probable senders' open confirmations and their customers' denials once each).
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) < 16, selects
    assert await count(servers, "SELECT count(*) FROM crm.identity_decisions") == len(messages)
    asked = [i.confirmation for i in map(identity_of, together) if i.confirmation]
    assert identity_of(together[1]).confirmation in asked  # the CEO is asked to confirm
    assert await count(servers, "SELECT count(*) FROM crm.confirmations") == len(asked)


async def test_a_probable_sender_writing_twice_in_one_batch_is_asked_once(
    servers: Servers, db: Database
) -> None:
    first, second = message(email=CEO, name="Андрей Соколов"), message(email=CEO, name="Андрей")
    verifier = service(servers, db)

    one, two = await asyncio.gather(verifier.verify(first), verifier.verify(second))

    asked = [identity_of(one).confirmation, identity_of(two).confirmation]
    assert asked[0] is not None and asked[1] is not None
    assert asked[0].confirmation_id == asked[1].confirmation_id  # the request already sent
    assert await count(servers, "SELECT count(*) FROM crm.confirmations") == 1
    assert (
        await count(servers, "SELECT count(*) FROM crm.confirmation_log WHERE entry = 'requested'")
        == 1
    )


async def test_a_redelivered_batch_doubles_nothing(servers: Servers, db: Database) -> None:
    messages = mix()
    verifier = service(servers, db)
    first = await asyncio.gather(*(verifier.verify(m) for m in messages))

    again = await asyncio.gather(*(service(servers, db).verify(m) for m in messages))

    assert again == first
    assert await count(servers, "SELECT count(*) FROM crm.identity_decisions") == len(messages)
    assert await count(servers, "SELECT count(*) FROM crm.processed_messages") == len(messages)
    asked = sum(identity_of(o).confirmation is not None for o in first)
    assert await count(servers, "SELECT count(*) FROM crm.confirmations") == asked


async def test_a_disowned_address_in_a_batch_is_suspicious_with_one_read_of_denials(
    servers: Servers, db: Database
) -> None:
    """The denials of every sender's own address are read with the probable senders'
    customers' in one query for the batch, not one per message: the disowned address's
    bare line is suspicious in the name of the customer that disowned it, among others."""
    impostor = "sokolov.sm@gmail.com"
    verifier = service(servers, db)
    claim = message(email=impostor, text="Это Андрей Соколов из ООО «СтройМонтаж». Ответьте.")
    asked = identity_of(await verifier.verify(claim))
    assert asked.status == "probable" and asked.confirmation is not None
    denial = message(email="buh@stroymontazh.ru", text=f"Це не ми. {asked.confirmation.code}")
    await verifier.verify(denial)

    bare = {"text": "Ответьте же, счёт оплачен!"}
    again, stranger = message(email=impostor, **bare), message(email="x.y@gmail.com", **bare)
    statements: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    batch, fresh = [*mix(), again, stranger], service(servers, db)
    outputs = await asyncio.gather(*(fresh.verify(m) for m in batch))

    suspicious, unknown = identity_of(outputs[-2]), identity_of(outputs[-1])
    assert (suspicious.status, suspicious.confirmation) == ("suspicious", None)
    assert suspicious.customer is not None and suspicious.customer.id == "cust-stroymontazh"
    assert suspicious.account_manager is not None
    assert suspicious.evidence[-1].values["contact_id"] == "ct-kovaleva"
    assert unknown.status == "unknown" and unknown.customer is None
    # The denials' read is the one statement bounding resolved_at (confirm_store.denials_of).
    read = [s for s in statements if "crm.confirmations.resolved_at >" in s]
    assert len(read) == 1, read
    assert (
        await count(
            servers, f"SELECT count(*) FROM crm.confirmations WHERE channel_address = '{impostor}'"
        )
        == 1
    )


def crowd_of_namesakes(size: int) -> CrmBatch:
    """`size` customers, each with an Андрей whose id sorts before seed 000's CEO's."""
    surnames = ["Волков", "Зайцев", "Морозов", "Новиков", "Павлов", "Лебедев"]
    customers = [CrmCustomer(id=f"c-crowd-{i:03}", name=f"Crowd {i:03}") for i in range(size)]
    contacts = [
        CrmContact(
            id=f"ct-a{i:03}", customer_id=f"c-crowd-{i:03}", name=f"Андрей {surnames[i % 6]}"
        )
        for i in range(size)
    ]
    return CrmBatch(customers=customers, contacts=contacts)


async def test_the_named_person_is_found_among_many_who_share_a_first_name(
    servers: Servers, db: Database
) -> None:
    # More namesakes than the lookup fetches: the one whose whole name matches comes first.
    rules = VerifierSettings(NATS_URL="", DATABASE_URL="").matching
    async with db.transaction() as session:
        await apply_batch(session, crowd_of_namesakes(rules.max_name_candidates * 2), NOW)
    signed = {"signature": "С уважением,\nАндрей Соколов\nООО «СтройМонтаж»"}
    messages = [
        message(email=CEO, name="Андрей Соколов", **signed),
        message(email="andrey@gmail.com", name="Андрей Волков"),  # a namesake in the batch
    ]

    async with db.transaction() as session:
        alone = await service(servers, db).decide(session, messages[0])
    together = await asyncio.gather(*(service(servers, db).verify(m) for m in messages))

    for identity in (alone, identity_of(together[0])):
        assert identity.status == "probable"
        assert identity.contact is not None and identity.contact.id == "ct-sokolov"
    named = {e.kind for e in alone.evidence if "ct-sokolov" in e.detail}
    assert named == {"signature_name", "display_name"}


def crowd_of_builders(size: int) -> CrmBatch:
    """`size` companies whose names start as seed 000's does, all with ids before it."""
    kinds = ["Комплект", "Сервис", "Инвест", "Ресурс", "Трест", "Маркет"]
    return CrmBatch(
        customers=[
            CrmCustomer(id=f"c-builder-{i:03}", name=f"ООО «Строй{kinds[i % 6]}-{i}»")
            for i in range(size)
        ]
    )


async def test_the_named_company_is_found_among_many_whose_names_start_alike(
    servers: Servers, db: Database
) -> None:
    rules = VerifierSettings(NATS_URL="", DATABASE_URL="").matching
    async with db.transaction() as session:
        await apply_batch(session, crowd_of_builders(rules.max_name_candidates * 2), NOW)
    signed = {"signature": "С уважением,\nгенеральный директор ООО «Строй Монтаж»"}
    messages = [
        message(email="director@gmail.com", **signed),
        message(email="someone@gmail.com", signature="ООО «СтройСервис-7»"),
    ]

    async with db.transaction() as session:
        alone = await service(servers, db).decide(session, messages[0])
    together = await asyncio.gather(*(service(servers, db).verify(m) for m in messages))

    for identity in (alone, identity_of(together[0])):
        named = {e.customer_id for e in identity.evidence if e.kind == "company_name"}
        assert named == {"cust-stroymontazh"}
    other = identity_of(together[1])
    assert "c-builder-007" in {e.customer_id for e in other.evidence if e.kind == "company_name"}


FIRST = ["Андрей", "Анна", "Иван", "Ivan", "Andrii", "Олена", "Петр"]
LAST = ["Соколов", "Волков", "Иванов", "Sokolov", "Коваленко", "Строев"]
COMPANIES = ["ООО «ЭкоСтрой»", "ООО «Эко Строй»", "ООО «СтройМонтаж»", "АО «Строй»",
             "ТОВ «Квітка»", "Бон Тон", "Acme Company", "Иван и Партнеры", "ООО «777»"]  # fmt: skip
WORDS = ["директор", "Эко", "Строй", "Монтаж", "ООО", "Бон", "Тон", "Acme Co.", "Петрович", "7"]


def random_crm(rnd: random.Random) -> CrmBatch:
    """Customers and contacts whose names share words every which way, some inactive."""
    customers = [
        CrmCustomer(
            id=f"c{i:03}",
            name=rnd.choice(COMPANIES) if rnd.random() < 0.7 else f"{rnd.choice(FIRST)} {i}",
            status="active" if rnd.random() < 0.85 else "inactive",
        )
        for i in range(120)
    ]
    contacts = [
        CrmContact(
            id=f"t{i:03}",
            customer_id=rnd.choice(customers).id,
            name=" ".join(
                [rnd.choice(FIRST), rnd.choice(LAST), *rnd.sample(WORDS, rnd.randint(0, 1))]
            ),
        )
        for i in range(300)
    ]
    return CrmBatch(customers=customers, contacts=contacts)


async def test_name_lookups_agree_alone_in_a_batch_and_in_memory(db: Database) -> None:
    # One lookup per message, one per batch, and the in-memory directory the unit tests
    # use: the same candidates in the same order, whatever shares which words.
    rnd = random.Random(5)
    crm = random_crm(rnd)
    async with db.transaction() as session:
        await apply_batch(session, crm, NOW)
    demo = demo_batch()
    memory = InMemoryCrm(
        CrmBatch(
            account_managers=demo.account_managers,
            customers=sorted(demo.customers + crm.customers, key=lambda c: c.id),
            contacts=sorted(demo.contacts + crm.contacts, key=lambda c: c.id),
        )
    )
    pool = FIRST + LAST + WORDS + COMPANIES
    for limit in (3, 50):
        rules = MatchingRules(max_name_candidates=limit)
        lookups = [
            lookup_for(
                message(
                    email="x@gmail.com",
                    name=rnd.choice([None, f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"]),
                    signature="\n".join(
                        " ".join(rnd.sample(pool, rnd.randint(1, 4)))
                        for _ in range(rnd.randint(1, 3))
                    ),
                ),
                rules,
            ).names
            for _ in range(60)
        ]
        async with db.transaction() as session:
            together = await mirror_batch.name_candidates_many(session, lookups, limit)
            alone = [await SqlCrmDirectory(session).name_candidates(n, limit) for n in lookups]
        in_memory = [await memory.name_candidates(n, limit) for n in lookups]

        assert [(p, c) for p, c in together] == alone
        assert in_memory == alone
        assert any(len(p) == limit for p, _ in alone) and any(c for _, c in alone)

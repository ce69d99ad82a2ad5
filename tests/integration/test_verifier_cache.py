"""The verifier's CRM cache on real PostgreSQL: answers kept between messages, and never
one that outlives a change of the mirror (services/verifier/cache.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.verifier.cache import CachedMirror, MirrorCache
from services.verifier.mirror import CrmBatch, apply_batch, demo_batch, remove_contact
from services.verifier.service import VerifierService
from services.verifier.settings import VerifierSettings
from shared.contracts import (
    AuthResults,
    CrmDocument,
    IncludedService,
    MessageNormalized,
    SenderIdentifiers,
)
from shared.db import Database, create_engine
from tests.conftest import Servers

pytestmark = pytest.mark.integration
NOW = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)
# The CEO of the seed-000 story writes from an address the CRM does not have yet.
CEO = "a.sokolov@stroymontazh.ru"


@pytest.fixture
async def db(servers: Servers, clean: None) -> AsyncIterator[Database]:
    database = Database(create_engine(servers.database_url))
    try:
        async with database.transaction() as session:
            await apply_batch(session, demo_batch(), NOW)
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def service(servers: Servers, db: Database) -> VerifierService:
    settings = VerifierSettings(NATS_URL=servers.nats_url, DATABASE_URL=servers.database_url)
    return VerifierService(db, settings, lambda: NOW, CachedMirror(MirrorCache()))


def message(address: str, name: str) -> MessageNormalized:
    message_id = uuid.uuid4()
    return MessageNormalized(
        event_id=uuid.uuid4(),
        message_id=message_id,
        correlation_id=str(message_id),
        occurred_at=NOW,
        channel="email",
        sender=SenderIdentifiers(email=address, display_name=name),
        text="Добрый день, по счёту вопрос.",
        thread_id=str(message_id),
        external_id=str(message_id),
        auth=AuthResults(spf="pass", dkim="pass", dmarc="pass"),
        received_at=NOW,
    )


class Statements:
    def __init__(self, db: Database) -> None:
        self.seen: list[str] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(statement)


async def test_a_repeated_lookup_is_answered_from_the_cache(
    db: Database, service: VerifierService
) -> None:
    statements = Statements(db)
    counts = []
    for _ in range(2):
        statements.seen.clear()
        async with db.transaction() as session:
            identity = await service.decide(session, message("buh@stroymontazh.ru", "Марина"))
        assert identity.status == "verified"
        counts.append(len(statements.seen))
    assert counts[1] == 1 < counts[0]  # only the version stamp is read the second time


async def test_a_crm_change_is_seen_by_the_very_next_message(
    db: Database, service: VerifierService
) -> None:
    async with db.transaction() as session:
        first = await service.decide(session, message("buh@stroymontazh.ru", "Марина"))
    assert first.status == "verified" and first.contact and first.contact.id == "ct-kovaleva"

    # What a crm.contact.removed event does to the mirror, in a transaction of its own.
    async with db.transaction() as session:
        assert await remove_contact(session, "ct-kovaleva", NOW)

    async with db.transaction() as session:
        after = await service.decide(session, message("buh@stroymontazh.ru", "Марина"))
    assert after.status != "verified"
    assert after.contact is None or after.contact.id != "ct-kovaleva"


async def test_a_change_of_contract_terms_is_seen_by_the_very_next_message(
    db: Database, service: VerifierService
) -> None:
    statements = Statements(db)
    for _ in range(2):
        statements.seen.clear()
        async with db.transaction() as session:
            first = await service.decide(session, message("buh@stroymontazh.ru", "Марина"))
    assert len(statements.seen) == 1  # the terms too were answered from the cache
    assert first.customer is not None
    assert [c.plan for c in first.customer.contracts] == ["Бизнес"]

    # The CRM renegotiates the contract: what `careline crm import` of a document row does.
    renewed = CrmDocument(
        kind="contract",
        number="118/2019",
        plan="Премиум",
        included=[IncludedService(service="консультация", period="month", free=True)],
    )
    async with db.transaction() as session:
        await apply_batch(session, CrmBatch(documents=[("cust-stroymontazh", renewed)]), NOW)

    async with db.transaction() as session:
        after = await service.decide(session, message("buh@stroymontazh.ru", "Марина"))
    assert after.customer is not None
    (contract,) = after.customer.contracts
    assert (contract.plan, contract.included) == ("Премиум", renewed.included)


async def test_own_writes_are_seen_and_a_rollback_leaves_nothing_cached(
    db: Database, service: VerifierService
) -> None:
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback):
        async with db.transaction() as session:
            # An earlier write of the same transaction has already moved the version on.
            await add_verified_channel(session, "ct-miller", "miller@elsewhere.example")
            before = await service.decide(session, message(CEO, "Андрей Соколов"))
            assert before.status != "verified"
            # A confirmation in the same transaction makes the address a verified channel.
            await add_verified_channel(session, "ct-sokolov", CEO)
            confirmed = await service.decide(session, message(CEO, "Андрей Соколов"))
            assert confirmed.status == "verified"
            raise Rollback  # the confirmation never happened

    async with db.transaction() as session:
        after = await service.decide(session, message(CEO, "Андрей Соколов"))
    assert after.status == before.status != "verified"


async def add_verified_channel(session: AsyncSession, contact_id: str, address: str) -> None:
    await session.execute(
        text(
            "INSERT INTO crm.contact_channels "
            "(contact_id, kind, address, match_key, verified, source) "
            "VALUES (:c, 'email', :a, :a, true, 'confirmation')"
        ),
        {"c": contact_id, "a": address},
    )

"""Two messages from one new address, handled at once in two transactions: one request."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services.verifier.batch import BatchConfirmationStore, VerifyBatch
from services.verifier.confirm_store import SqlConfirmationStore, lock_addresses
from services.verifier.confirmation import new_confirmation
from shared.db import Database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHANNEL = ("email", "p.ivanova@stroymontazh.ru", "p.ivanova@stroymontazh.ru")
CUSTOMER = "cust-race"


async def request_once(store: SqlConfirmationStore, first_found: asyncio.Event) -> uuid.UUID:
    """What the verifier does for a probable sender: the open request, or a new one."""
    found = await store.open_for(CUSTOMER, CHANNEL[0], CHANNEL[2], NOW)
    first_found.set()
    if found is not None:
        return found.confirmation_id
    message_id = uuid.uuid4()
    request = new_confirmation(b"secret", message_id, NOW, timedelta(hours=24), None)
    await store.add(
        request,
        message_id=message_id,
        correlation_id="c",
        customer_id=CUSTOMER,
        contact_id=None,
        channel=CHANNEL,
        claimed_name="Полина Иванова",
        now=NOW,
    )
    await asyncio.sleep(0.3)  # the other transaction looks meanwhile
    return request.confirmation_id


async def test_the_second_transaction_finds_the_request_the_first_made(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(
            text(f"INSERT INTO crm.customers (id, name) VALUES ('{CUSTOMER}', 'Х')")
        )
    first_found = asyncio.Event()

    async def first() -> uuid.UUID:
        async with db.transaction() as session:
            return await request_once(SqlConfirmationStore(session), first_found)

    async def second() -> uuid.UUID:
        await first_found.wait()  # the first has looked and is filing its request
        async with db.transaction() as session:
            batch = VerifyBatch()  # a batch of the other transaction, as _open_batch runs it
            await lock_addresses(session, {(CHANNEL[0], CHANNEL[2])})
            wanted = {(CUSTOMER, CHANNEL[0], CHANNEL[2])}
            address = {(CHANNEL[0], CHANNEL[2])}
            since = NOW - timedelta(30)
            await batch.read_open_confirmations(session, wanted, {CUSTOMER}, address, since)
            return await request_once(BatchConfirmationStore(session, batch), asyncio.Event())

    made, found = await asyncio.gather(first(), second())

    assert found == made
    async with db.transaction() as session:
        count = await session.scalar(text("SELECT count(*) FROM crm.confirmations"))
    assert count == 1


async def test_two_batches_with_the_same_senders_in_opposite_order_do_not_deadlock(
    db: Database,
) -> None:
    """Each batch locks all its senders' addresses in one sorted statement before anything
    else; one by one, in message order, [A, B] and [B, A] would each hold what the other
    waits for (PostgreSQL then aborts one after a second)."""
    a, b = "a@stroymontazh.ru", "b@stroymontazh.ru"
    holding = asyncio.Event()

    async def batch(addresses: list[str], first: bool) -> float:
        if not first:
            await holding.wait()
        async with db.transaction() as session:
            await session.execute(text("SET LOCAL lock_timeout = '5s'"))
            started = asyncio.get_running_loop().time()
            # As VerifierService._open_batch does, before anything else.
            await lock_addresses(session, {("email", address) for address in addresses})
            if first:
                holding.set()
                await asyncio.sleep(0.3)  # the other batch asks meanwhile
            for address in addresses:  # what each message's own lookup locks again
                await SqlConfirmationStore(session).open_for(CUSTOMER, "email", address, NOW)
            return asyncio.get_running_loop().time() - started

    first, second = await asyncio.gather(batch([a, b], True), batch([b, a], False))

    assert first >= 0.3 and second > 0  # the second waited for the first; neither failed

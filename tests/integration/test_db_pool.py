"""Pooled connections on real PostgreSQL: one that sat idle is checked before use, and a dead
one is replaced without failing the work; one in steady use is not pinged at all."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared import db as db_module
from shared.db import Database, create_engine
from tests.conftest import Servers

pytestmark = pytest.mark.integration


async def backend_pid(database: Database) -> int:
    async with database.transaction() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_an_idle_connection_that_died_is_replaced_before_use(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(create_engine(servers.database_url, pool_size=1))
    other = Database(create_engine(servers.database_url, pool_size=1))
    try:
        first = await backend_pid(database)
        async with other.transaction() as session:  # PostgreSQL drops it, as in a restart
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(db_module, "IDLE_BEFORE_PING_SECONDS", 0.0)  # it sat idle

        second = await backend_pid(database)

        assert second != first
    finally:
        await database.dispose()
        await other.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(create_engine(servers.database_url, pool_size=1))
    dialect = database.engine.dialect
    pings: list[object] = []
    ping = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    try:
        for _ in range(3):
            await backend_pid(database)
        assert pings == []  # three transactions, no round trips spent on pings
        monkeypatch.setattr(db_module, "IDLE_BEFORE_PING_SECONDS", 0.0)
        await backend_pid(database)
        assert len(pings) == 1  # after sitting idle, it is checked first
    finally:
        await database.dispose()

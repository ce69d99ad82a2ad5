"""Database plumbing: one async engine per service, instrumented for tracing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import orjson
from opentelemetry.instrumentation.sqlalchemy import __version__ as otel_sqla_version
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import TracerProvider
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# A pooled connection is pinged before use only after it sat idle this long. SQLAlchemy's
# pool_pre_ping pings at every checkout, which on asyncpg is three round trips (BEGIN, ";",
# ROLLBACK): under load a third of a batch transaction's. A connection used a moment ago is
# alive; one that dies in use (PostgreSQL restarted) invalidates the pool and the failed
# work runs again, as after any failure.
IDLE_BEFORE_PING_SECONDS = 5.0


def create_engine(
    database_url: str,
    tracer_provider: TracerProvider | None = None,
    pool_size: int = 5,
    application_name: str | None = None,
) -> AsyncEngine:
    """`application_name` names the connections in pg_stat_activity and the server's log
    (which service holds a lock, runs a slow statement, or how many statements each sends)."""
    connect_args = {"server_settings": {"application_name": application_name}}
    engine = create_async_engine(
        database_url,
        pool_size=pool_size,
        json_serializer=_json,
        json_deserializer=orjson.loads,
        connect_args=connect_args if application_name else {},
    )
    _ping_when_idle(engine)
    if tracer_provider is not None:
        # The instrumentor's global patching would bind every engine in a process to the
        # first provider; an EngineTracer per engine keeps each service's spans its own.
        tracer = tracer_provider.get_tracer(
            "opentelemetry.instrumentation.sqlalchemy", otel_sqla_version
        )
        usage = NoOpMeterProvider().get_meter("careline").create_up_down_counter("db.connections")
        EngineTracer(tracer, engine.sync_engine, usage)
    return engine


# As strict as the json module was: a datetime or a dataclass in a JSON column is a bug
# (the services store JSON-mode dumps), not something to serialize quietly. (A UUID orjson
# always writes as its string, as a JSON-mode dump holds it.)
_JSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _json(value: Any) -> str:
    """JSON and JSONB values as PostgreSQL takes them: orjson writes the services' large
    documents (fact packs, stored outputs) several times faster than the json module, and
    UTF-8 as it is where json escapes every Cyrillic letter into six characters."""
    return orjson.dumps(value, default=_not_json, option=_JSON_OPTIONS).decode()


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON; dump it in JSON mode first")


def _ping_when_idle(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkin")
    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING_SECONDS:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool replaces the connection and tries again (SQLAlchemy's recipe).
            raise DisconnectionError("pooled connection is gone") from exc


class Database:
    """Hands out one session per use case: commit at the end, rollback on any exit without."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


T = TypeVar("T")


async def in_one_transaction(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work` in one transaction on a pool of its own, closed after: a command line's one
    read or write (`careline escalations`, `careline crm import`, ...)."""
    db = Database(create_engine(database_url))
    try:
        async with db.transaction() as session:
            return await work(session)
    finally:
        await db.dispose()

"""Database plumbing: one async engine per service, instrumented for tracing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from opentelemetry.instrumentation.sqlalchemy import __version__ as otel_sqla_version
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(
    database_url: str, tracer_provider: TracerProvider | None = None, pool_size: int = 5
) -> AsyncEngine:
    engine = create_async_engine(database_url, pool_size=pool_size, pool_pre_ping=True)
    if tracer_provider is not None:
        # The instrumentor's global patching would bind every engine in a process to the
        # first provider; an EngineTracer per engine keeps each service's spans its own.
        tracer = tracer_provider.get_tracer(
            "opentelemetry.instrumentation.sqlalchemy", otel_sqla_version
        )
        usage = NoOpMeterProvider().get_meter("careline").create_up_down_counter("db.connections")
        EngineTracer(tracer, engine.sync_engine, usage)
    return engine


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

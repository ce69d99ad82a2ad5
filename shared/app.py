"""What every service's composition root does the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from faststream import FastStream
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI

from shared.broker import build_broker, ensure_streams
from shared.contracts import DeadLetter
from shared.db import Database, create_engine
from shared.settings import CarelineSettings
from shared.subjects import dead_letter
from shared.telemetry import setup_logging, setup_telemetry


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_service_app(
    name: str,
    settings: CarelineSettings,
    register: Callable[[NatsBroker, Database], None],
    description: str,
    startup: Sequence[Callable[[Database], Awaitable[None]]] = (),
) -> FastStream:
    """Broker with the shared middlewares, an instrumented database, streams ensured at start."""
    setup_logging(name)
    tracer_provider = setup_telemetry(name, settings)
    broker = build_broker(name, settings, tracer_provider)
    db = Database(create_engine(settings.database_url, tracer_provider))
    register(broker, db)
    broker.publisher(
        dead_letter(name),
        schema=DeadLetter,
        title=dead_letter(name),
        description="Input this service could not process: the original payload and why.",
    )

    async def before_start() -> None:
        await ensure_streams(settings.nats_url)
        for hook in startup:
            await hook(db)

    async def after_stop() -> None:
        await db.dispose()
        tracer_provider.shutdown()

    return FastStream(
        broker,
        on_startup=[before_start],
        after_shutdown=[after_stop],
        specification=AsyncAPI(title=f"careline-{name}", version="1", description=description),
    )

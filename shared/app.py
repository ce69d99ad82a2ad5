"""What every service's composition root does the same way."""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
from faststream import FastStream
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from starlette.applications import Starlette

from shared.background import run_in_background
from shared.broker import build_broker, ensure_streams
from shared.contracts import DeadLetter
from shared.db import Database, create_engine
from shared.http import HttpRoutes, HttpServer, build_http_app, health_routes, http_server
from shared.retention import Prunable, Pruner
from shared.settings import CarelineSettings
from shared.subjects import dead_letter
from shared.telemetry import FASTSTREAM_LOG, setup_logging, setup_telemetry

PRUNE_START_DELAY_SECONDS = 60.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class ServiceApp(FastStream):
    """A FastStream app that also serves HTTP (`http`) while it runs.

    `faststream run ... --factory` calls run(): the HTTP server listens beside the broker
    and, on SIGINT/SIGTERM, stops accepting requests and drains them before the broker
    stops, so an accepted request is never cut off from NATS. TestApp starts only the
    broker; tests reach `http` in-process or call `serve_http()` themselves.
    """

    def __init__(self, *args: Any, http: Starlette, host: str, port: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http = http
        self.http_host = host
        self.http_port = port
        self._http_server: HttpServer | None = None

    async def serve_http(self, log_level: int = logging.INFO) -> None:
        """Serve `http` until exit(); raises SystemExit if the port cannot be bound."""
        self._http_server = http_server(self.http, self.http_host, self.http_port, log_level)
        # An exit before the server existed still applies: it binds, then shuts down at once.
        self._http_server.should_exit = self._should_exit
        await self._http_server.serve()

    @property
    def bound_http_port(self) -> int | None:
        return self._http_server.port if self._http_server is not None else None

    def exit(self) -> None:
        server = self._http_server
        if server is not None and not server.should_exit:
            server.should_exit = True  # the broker stops once the server has drained
        else:
            super().exit()

    async def run(
        self,
        log_level: int = logging.INFO,
        run_extra_options: dict[str, Any] | None = None,
        sleep_time: float = 0.1,
    ) -> None:
        async def serve_then_stop() -> None:
            try:
                await self.serve_http(log_level)
            finally:
                FastStream.exit(self)

        settle_garbage_collector()  # a service process; tests start apps without run()
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve_then_stop)
            await super().run(log_level, run_extra_options, sleep_time)
            if self._http_server is not None:
                self._http_server.should_exit = True


def settle_garbage_collector() -> None:
    """Keep the garbage collector off what start-up built and out of the way of messages.

    Building a service leaves ~150,000 long-lived objects (lexicons, dictionaries,
    templates, the models); every full collection walked them all, pausing a service for
    60-600 ms several times a minute under load (measured with the benchmark). Frozen, they
    are never walked again; a larger first threshold makes young collections rarer, since
    a message allocates thousands of short-lived objects.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


def build_service_app(
    name: str,
    settings: CarelineSettings,
    register: Callable[[NatsBroker, Database], None],
    description: str,
    startup: Sequence[Callable[[Database], Awaitable[None]]] = (),
    http_routes: HttpRoutes | None = None,
    prunables: Sequence[Prunable] = (),
) -> ServiceApp:
    """Broker with the shared middlewares, an instrumented database, streams ensured at start.

    Every service also serves GET /health/live and /health/ready on its HTTP port; a
    service adds its own routes with `http_routes` (see shared.http). `prunables` are the
    working data of its schema that a background loop deletes past their horizon
    (shared.retention), every CARELINE_PRUNE_SECONDS.
    """
    setup_logging(name)
    tracer_provider = setup_telemetry(name, settings)
    broker = build_broker(name, settings, tracer_provider)
    # A span per SQL statement is opt-in (CARELINE_TRACE_SQL): most spans of a message and
    # a fifth of a service's CPU (measured with `careline bench`).
    db = Database(
        create_engine(
            settings.database_url,
            tracer_provider if settings.trace_sql else None,
            application_name=f"careline-{name}",
        )
    )
    register(broker, db)
    routes = [*health_routes(name, broker, db), *(http_routes(broker, db) if http_routes else [])]
    broker.publisher(
        dead_letter(name),
        schema=DeadLetter,
        title=dead_letter(name),
        description="Input this service could not process: the original payload and why.",
    )

    async def before_start() -> None:
        await ensure_streams(settings.nats_url, settings=settings)
        for hook in startup:
            await hook(db)

    async def after_stop() -> None:
        await db.dispose()
        tracer_provider.shutdown()

    app = ServiceApp(
        broker,
        logger=FASTSTREAM_LOG,
        on_startup=[before_start],
        after_shutdown=[after_stop],
        specification=AsyncAPI(title=f"careline-{name}", version="1", description=description),
        http=build_http_app(routes),
        host=settings.http_host,
        port=settings.http_port_of(name),
    )
    if prunables and settings.prune_seconds > 0:
        pruner = Pruner(db, utc_now, prunables, settings.prune_batch)
        # Not at once: a starting replica has messages waiting, and a short-lived one
        # (a test, a crash loop) need not prune at all.
        first = min(settings.prune_seconds, PRUNE_START_DELAY_SECONDS)
        run_in_background(
            app, f"{name}-prune", lambda stop: pruner.run(stop, settings.prune_seconds, first)
        )
    return app

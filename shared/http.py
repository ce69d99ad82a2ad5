"""The HTTP side every service has: health endpoints, RFC 9457 problems, the server.

Each service serves, on `CARELINE_HTTP_PORT` (defaults in shared.settings):

- `GET /health/live`: the process is up and serving;
- `GET /health/ready`: the broker is connected and the database answers; otherwise 503
  with a JSON body naming what failed.

A service adds its own routes through `build_service_app(..., http_routes=...)`: a function
of the service's broker and database that returns Starlette routes, e.g.

    def routes(broker: NatsBroker, db: Database) -> list[BaseRoute]:
        async def confirm(request: Request) -> Response: ...
        return [Route("/v1/confirm/{token}", confirm, methods=["GET"])]

Errors are answered as `application/problem+json` (RFC 9457): use `problem(...)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Generator, Sequence
from typing import Any

import uvicorn
from faststream.nats import NatsBroker
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from shared.db import Database

log = logging.getLogger(__name__)

HttpRoutes = Callable[[NatsBroker, Database], Sequence[BaseRoute]]
PROBLEM_TYPE_BASE = "https://careline.example/problems/"
READY_TIMEOUT_SECONDS = 2.0


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem document; `type` names the problem, `title` is its summary."""
    kind = title.lower().replace(" ", "-")
    body = {"type": PROBLEM_TYPE_BASE + kind, "title": title, "status": status, "detail": detail}
    headers = extra.pop("headers", None)
    body.update(extra)
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "HTTP Error")
    return problem(
        exc.status_code, title, str(exc.detail), instance=request.url.path, headers=exc.headers
    )


async def _broker_check(broker: NatsBroker) -> str | None:
    try:
        if await broker.ping(timeout=READY_TIMEOUT_SECONDS):
            return None
    except Exception as exc:  # a half-built connection: report it, never raise from a probe
        return f"broker: {type(exc).__name__}"
    return "broker: not connected to NATS"


async def _database_check(db: Database) -> str | None:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        # The type only: driver messages may carry the DSN (user, host, password).
        return f"database: unreachable ({type(exc).__name__})"
    return None


def health_routes(service: str, broker: NatsBroker, db: Database) -> list[BaseRoute]:
    async def live(request: Request) -> Response:
        return JSONResponse({"status": "live", "service": service})

    async def ready(request: Request) -> Response:
        broker_error, db_error = await asyncio.gather(_broker_check(broker), _database_check(db))
        checks = {
            "broker": broker_error or "ok",
            "database": db_error or "ok",
        }
        failed = [name for name, state in checks.items() if state != "ok"]
        if failed:
            return JSONResponse(
                {"status": "unready", "service": service, "failed": failed, "checks": checks},
                503,
            )
        return JSONResponse({"status": "ready", "service": service, "checks": checks})

    return [
        Route("/health/live", live, methods=["GET"]),
        Route("/health/ready", ready, methods=["GET"]),
    ]


def build_http_app(routes: Sequence[BaseRoute]) -> Starlette:
    return Starlette(routes=list(routes), exception_handlers={HTTPException: _http_error})


class HttpServer(uvicorn.Server):
    """uvicorn without its own signal handlers: FastStream's run() owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    @property
    def port(self) -> int | None:
        """The bound port (useful when configured as 0)."""
        for server in getattr(self, "servers", []):
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return None


def http_server(app: Starlette, host: str, port: int, log_level: int) -> HttpServer:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",  # the FastStream app starts and stops the broker, not uvicorn
        log_level=log_level,
        access_log=False,  # paths carry ids; the services log what matters themselves
        log_config=None,
    )
    return HttpServer(config)

"""Composition root of verifier: `faststream run services.verifier.app:build_app --factory`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from faststream.nats import NatsBroker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from shared.app import ServiceApp, build_service_app, utc_now
from shared.background import run_in_background
from shared.broker import publish_all
from shared.db import Database
from shared.group_commit import group_commit
from shared.http import problem
from shared.outbox import Outgoing

from .adapters import processed
from .cache import CachedMirror, MirrorCache
from .expiry import ConfirmationExpiry
from .handlers import register
from .http_crm import http_directory
from .mirror import apply_batch, demo_batch, refresh_keys
from .retention import prunables
from .service import CrmSyncService, VerifierService
from .settings import VerifierSettings

log = logging.getLogger(__name__)


def build_app(settings: VerifierSettings | None = None) -> ServiceApp:
    settings = settings or VerifierSettings()
    directory = (
        http_directory(settings.crm_url, settings.crm_timeout_seconds)
        if settings.crm_url
        else CachedMirror(MirrorCache())
    )
    services: dict[str, VerifierService] = {}
    expiry: dict[str, ConfirmationExpiry] = {}

    def wire(broker: NatsBroker, db: Database) -> None:
        commits = group_commit(db, processed, "verifier", utc_now, settings)
        services["verifier"] = VerifierService(db, settings, utc_now, directory, commits)
        register(broker, services["verifier"], CrmSyncService(db, utc_now), settings)

        async def publish(outputs: list[Outgoing]) -> None:
            await publish_all(broker, outputs)

        expiry["loop"] = ConfirmationExpiry(db, utc_now, publish, settings.expiry_sweep_seconds)

    def routes(broker: NatsBroker, db: Database) -> Sequence[BaseRoute]:
        async def confirm(request: Request) -> Response:
            outcome, outputs = await services["verifier"].confirm_link(request.path_params["token"])
            await publish_all(broker, outputs)
            if outcome.outcome in ("confirmed", "already_confirmed"):
                return JSONResponse(outcome.model_dump(mode="json"))
            status = 410 if outcome.outcome in ("expired", "denied") else 404
            return problem(status, "Confirmation Refused", outcome.detail, outcome=outcome.outcome)

        return [Route("/v1/confirm/{token}", confirm, methods=["GET"])]

    async def prepare_mirror(db: Database) -> None:
        async with db.transaction() as session:
            if settings.demo_crm:
                await apply_batch(session, demo_batch(), utc_now())
            await refresh_keys(session)
        if settings.confirmation_secret is None:
            log.warning(
                "CARELINE_CONFIRMATION_SECRET is not set: probable senders get no confirmation"
            )

    app = build_service_app(
        "verifier",
        settings,
        wire,
        "Decides who is speaking, with evidence, against the CRM; runs the confirmation loop.",
        startup=[prepare_mirror],
        http_routes=routes,
        prunables=prunables(settings.retention),
    )
    run_in_background(app, "verifier-expiry", lambda stop: expiry["loop"].run(stop))
    return app

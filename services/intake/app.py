"""Composition root of intake: `faststream run services.intake.app:build_app --factory`."""

from __future__ import annotations

import logging
from datetime import datetime

from shared.app import ServiceApp, build_service_app, utc_now
from shared.contracts import InboundMessage, MessageNormalized
from shared.db import Database
from shared.group_commit import group_commit
from shared.settings import CarelineSettings

from .adapters import processed
from .api import inbound_routes, nats_publisher
from .entities import load_document_patterns
from .handlers import register
from .retention import prunables
from .service import IntakeService, normalized_event
from .settings import IntakeSettings

log = logging.getLogger(__name__)


def build_app(settings: CarelineSettings | None = None) -> ServiceApp:
    # Shared settings given (as the tests do) still take intake's own from the environment.
    intake = settings if isinstance(settings, IntakeSettings) else IntakeSettings()
    settings = settings or intake
    documents = load_document_patterns(intake.entities_path)  # a broken file fails at start
    authserv_ids = intake.authserv_ids

    async def say_whom_auth_trusts(db: Database) -> None:
        if not authserv_ids:
            log.warning(
                "CARELINE_INTAKE_AUTHSERV_IDS is not set: no Authentication-Results header "
                "is believed and every email reads as unauthenticated (a known address "
                "failing DMARC is not flagged, an unknown sender gets no explanation)"
            )

    def normalize(inbound: InboundMessage, now: datetime) -> MessageNormalized:
        return normalized_event(inbound, now, documents, authserv_ids)

    return build_service_app(
        "intake",
        settings,
        lambda broker, db: register(
            broker,
            IntakeService(
                db,
                utc_now,
                normalize,
                group_commit(db, processed, "intake", utc_now, settings),
            ),
            settings,
        ),
        "Normalizes what clients write on any channel into message.normalized.",
        startup=[say_whom_auth_trusts],
        http_routes=lambda broker, db: inbound_routes(
            intake.http_tokens,
            intake.http_max_body_bytes,
            normalize,
            nats_publisher(broker),
            utc_now,
        ),
        prunables=prunables(settings.retention, settings.content_retention),
    )

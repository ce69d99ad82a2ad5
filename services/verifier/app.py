"""Composition root of verifier: `faststream run services.verifier.app:build_app --factory`."""

from __future__ import annotations

from faststream import FastStream

from shared.app import build_service_app, utc_now
from shared.db import Database

from .adapters import demo_crm, upsert_crm
from .handlers import register
from .service import VerifierService
from .settings import VerifierSettings


def build_app(settings: VerifierSettings | None = None) -> FastStream:
    settings = settings or VerifierSettings()

    async def load_demo_crm(db: Database) -> None:
        async with db.transaction() as session:
            await upsert_crm(session, demo_crm())

    return build_service_app(
        "verifier",
        settings,
        lambda broker, db: register(broker, VerifierService(db, settings, utc_now), settings),
        "Decides who is speaking, with evidence, against the CRM.",
        startup=[load_demo_crm] if settings.demo_crm else [],
    )

"""Composition root of intake: `faststream run services.intake.app:build_app --factory`."""

from __future__ import annotations

from faststream import FastStream

from shared.app import build_service_app, utc_now
from shared.settings import CarelineSettings

from .handlers import register
from .service import IntakeService


def build_app(settings: CarelineSettings | None = None) -> FastStream:
    settings = settings or CarelineSettings()
    return build_service_app(
        "intake",
        settings,
        lambda broker, db: register(broker, IntakeService(db, utc_now), settings),
        "Normalizes what clients write on any channel into message.normalized.",
    )

"""Composition root of escalator: `faststream run services.escalator.app:build_app --factory`."""

from __future__ import annotations

from faststream import FastStream

from shared.app import build_service_app, utc_now

from .detection import load_lexicon
from .handlers import register
from .policy import load_policy
from .service import EscalatorService
from .settings import EscalatorSettings


def build_app(settings: EscalatorSettings | None = None) -> FastStream:
    settings = settings or EscalatorSettings()
    policy = load_policy(settings.policy_path)
    load_lexicon()  # fail at start, not on the first message, if the lexicon is broken
    return build_service_app(
        "escalator",
        settings,
        lambda broker, db: register(broker, EscalatorService(db, policy, utc_now), settings),
        "Detects threats and failures and routes them to the right people.",
    )

"""Composition root of notifier: `faststream run services.notifier.app:build_app --factory`."""

from __future__ import annotations

from faststream import FastStream

from shared.app import build_service_app, utc_now

from .adapters import SmtpMailer
from .handlers import register
from .service import NotifierService
from .settings import NotifierSettings


def build_app(settings: NotifierSettings | None = None) -> FastStream:
    settings = settings or NotifierSettings()
    mailer = SmtpMailer(settings)
    return build_service_app(
        "notifier",
        settings,
        lambda broker, db: register(
            broker, NotifierService(db, mailer, settings.mail_from, utc_now), settings
        ),
        "Delivers notifications to staff and clients: once, never to the wrong address.",
    )

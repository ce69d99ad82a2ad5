"""Composition root of notifier: `faststream run services.notifier.app:build_app --factory`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker
from faststream.opentelemetry.middleware import TelemetryMiddleware
from opentelemetry import trace
from opentelemetry.trace import Tracer

from shared.app import build_service_app, utc_now
from shared.broker import publish_all
from shared.db import Database
from shared.group_commit import group_commit
from shared.outbox import Outgoing

from .adapters import processed
from .channels import EmailChannel, WebhookChannel
from .domain import compile_templates
from .handlers import register
from .mime import Unsubscribe
from .ports import Channel
from .rendered import RenderedRequests
from .retention import prunables
from .scheduling import RetryPolicy
from .sender import OutboxSender, SendPolicy
from .service import NotifierService
from .settings import NotifierSettings, parse_quiet_hours, parse_rate_limit


def send_policy(settings: NotifierSettings) -> SendPolicy:
    return SendPolicy(
        retry=RetryPolicy(
            settings.max_attempts, settings.retry_base_seconds, settings.retry_cap_seconds
        ),
        quiet_hours=parse_quiet_hours(settings.quiet_hours),
        client_timezone=settings.client_timezone,
        client_rate_limit=parse_rate_limit(settings.client_rate_limit),
        staff_rate_limit=parse_rate_limit(settings.staff_rate_limit),
        batch_size=settings.send_batch,
        concurrency=settings.send_concurrency,
        poll_seconds=settings.poll_seconds,
    )


def _tracer_of(broker: NatsBroker) -> Tracer:
    # The service's tracer provider lives in the broker's telemetry middleware; the sender
    # runs outside any consumer, so it takes its tracer from there to join the same traces.
    for middleware in broker.middlewares:
        tracer = getattr(middleware, "_tracer", None)
        if isinstance(middleware, TelemetryMiddleware) and tracer is not None:
            return tracer  # type: ignore[no-any-return]
    return trace.get_tracer(__name__)


def build_app(settings: NotifierSettings | None = None) -> FastStream:
    settings = settings or NotifierSettings()
    built: dict[str, Any] = {}

    def wire(broker: NatsBroker, db: Database) -> None:
        email = EmailChannel(
            settings,
            message_id_domain=settings.message_id_domain,
            unsubscribe=Unsubscribe(settings.unsubscribe_mailto, settings.unsubscribe_url),
        )
        built["email"] = email
        channels: dict[str, Channel] = {
            "email": email,
            "webhook": WebhookChannel(settings.webhooks, utc_now, settings.webhook_timeout_seconds),
        }

        async def publish(outputs: list[Outgoing]) -> None:
            await publish_all(broker, outputs)

        rendered = RenderedRequests()  # acceptance renders; the sender reuses it
        policy = send_policy(settings)
        sender = OutboxSender(
            db,
            channels,
            publish,
            utc_now,
            policy,
            tracer=_tracer_of(broker),
            rendered=rendered,
            message_id_domain=settings.message_id_domain,
        )
        service = NotifierService(
            db,
            utc_now,
            webhook_names=set(settings.webhooks),
            message_id_domain=settings.message_id_domain,
            on_accepted=sender.wake,
            commits=group_commit(db, processed, "notifier", utc_now, settings),
            rendered=rendered,
            client_timezone=settings.client_timezone,
            schedule=policy.client_schedule(),
        )
        register(broker, service, settings)
        built["sender"] = sender

    app = build_service_app(
        "notifier",
        settings,
        wire,
        "Delivers notifications to staff and clients: once, never to the wrong address.",
        prunables=prunables(settings.retention, settings.content_retention),
    )

    @app.on_startup
    async def compile_notice_templates() -> None:
        # Before the consumer starts: the first notice of each kind renders at once.
        await asyncio.to_thread(compile_templates)

    @app.after_startup
    async def start_sender() -> None:
        stop = asyncio.Event()
        built["stop"] = stop
        built["task"] = asyncio.create_task(built["sender"].run(stop), name="notifier-outbox")

    @app.on_shutdown
    async def stop_sender() -> None:
        task: asyncio.Task[None] | None = built.pop("task", None)
        if task is None:
            return
        built["stop"].set()
        try:
            await asyncio.wait_for(task, timeout=settings.smtp_timeout_seconds + 5)
        except TimeoutError:
            # An unfinished send is like a crash: the row stays `sending` and is sent again.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await built["email"].close()  # the SMTP sessions kept open between mails

    return app

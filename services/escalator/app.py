"""Composition root of escalator: `faststream run services.escalator.app:build_app --factory`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker

from shared.app import build_service_app, utc_now
from shared.broker import publish_all
from shared.db import Database
from shared.outbox import Outgoing

from .detection import load_lexicon
from .handlers import register
from .policy import load_policy
from .service import EscalatorService
from .settings import EscalatorSettings
from .staff import LifecycleService
from .sweeper import DeadlineSweeper


def build_app(settings: EscalatorSettings | None = None) -> FastStream:
    settings = settings or EscalatorSettings()
    policy = load_policy(settings.policy_path)
    load_lexicon()  # fail at start, not on the first message, if the lexicon is broken
    built: dict[str, Any] = {}

    def wire(broker: NatsBroker, db: Database) -> None:
        async def publish(outputs: list[Outgoing]) -> None:
            await publish_all(broker, outputs)

        lifecycle = LifecycleService(db, policy, utc_now, publish)
        register(broker, EscalatorService(db, policy, utc_now), lifecycle, settings)
        built["sweeper"] = DeadlineSweeper(lifecycle, settings.sweep_seconds, settings.sweep_batch)

    app = build_service_app(
        "escalator",
        settings,
        wire,
        "Detects threats and failures and routes them to the right people.",
    )

    @app.after_startup
    async def start_sweeper() -> None:
        stop = asyncio.Event()
        built["stop"] = stop
        built["task"] = asyncio.create_task(built["sweeper"].run(stop), name="escalator-sweeper")

    @app.on_shutdown
    async def stop_sweeper() -> None:
        task: asyncio.Task[None] | None = built.pop("task", None)
        if task is None:
            return
        built["stop"].set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            # An unfinished pass rolls back: its rows are due again on the next start.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return app

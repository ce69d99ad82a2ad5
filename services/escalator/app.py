"""Composition root of escalator: `faststream run services.escalator.app:build_app --factory`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker
from starlette.routing import BaseRoute

from shared.app import build_service_app, utc_now
from shared.broker import publish_all
from shared.db import Database
from shared.group_commit import group_commit
from shared.outbox import Outgoing

from .ack_http import ack_routes
from .climbs import DeadlineClimbs
from .confirmations import ConfirmationOutcomes
from .detection import load_lexicon
from .detection.statistical import opinions
from .handlers import register
from .links import link_issuer
from .policy import load_policy
from .problem_keys import load_english_dictionary
from .retention import prunables
from .revocations import ChannelRevocations
from .service import EscalatorService
from .settings import EscalatorSettings
from .staff import StaffCommands
from .staff_language import staff_languages
from .sweeper import DeadlineSweeper
from .tables import processed

log = logging.getLogger(__name__)


def build_app(settings: EscalatorSettings | None = None) -> FastStream:
    settings = settings or EscalatorSettings()
    policy = load_policy(settings.policy_path)
    links = link_issuer(settings)
    load_lexicon()  # fail at start, not on the first message, if the lexicon is broken
    load_english_dictionary()
    found = opinions(settings.second_opinion, settings.second_opinion_threshold)
    built: dict[str, Any] = {}

    def wire(broker: NatsBroker, db: Database) -> None:
        async def publish(outputs: list[Outgoing]) -> None:
            await publish_all(broker, outputs)

        if links is None:
            commands = StaffCommands(db, policy, utc_now, publish)
            climbs = DeadlineClimbs(db, policy, utc_now, publish)
        else:
            commands = StaffCommands(db, policy, utc_now, publish, links.for_lifecycle)
            climbs = DeadlineClimbs(db, policy, utc_now, publish, links.for_lifecycle)
        built["commands"] = commands
        outcomes = ConfirmationOutcomes(db, policy, utc_now, publish)
        revocations = ChannelRevocations(db, policy, utc_now, publish)
        commits = group_commit(db, processed, "escalator", utc_now, settings)
        service = EscalatorService(db, policy, utc_now, links, commits, found)
        register(broker, service, commands, outcomes, revocations, settings)
        built["sweeper"] = DeadlineSweeper(climbs, settings.sweep_seconds, settings.sweep_batch)

    def routes(broker: NatsBroker, db: Database) -> Sequence[BaseRoute]:
        if links is None:
            log.warning(
                "ESCALATOR_LINK_SECRET or ESCALATOR_LINK_BASE_URL is not set: "
                "staff notifications carry no acknowledge links"
            )
            return []
        # The link's reader's language, as the policy says it (staff_language).
        return ack_routes(built["commands"], links.secret, staff_languages(policy), utc_now)

    app = build_service_app(
        "escalator",
        settings,
        wire,
        "Detects threats and failures and routes them to the right people.",
        http_routes=routes,
        prunables=prunables(
            policy, settings.retention, settings.history_margin, settings.content_retention
        ),
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

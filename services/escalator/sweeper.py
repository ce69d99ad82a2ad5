"""The deadline sweeper: a loop in every escalator replica that climbs missed deadlines,
reminds whoever holds an escalation when its promise to the client falls due, and owns
up to the client when the promise passed.

Deadlines live in the database (`climb_due_at`), so a deadline that passed while every
escalator was down fires on the first pass after a start. Replicas share the work through
row locks (FOR UPDATE SKIP LOCKED): a due escalation is climbed by exactly one of them, and
the climb, its timeline entry and its outputs commit together. Each pass also publishes
what the outbox still holds (a crash between commit and publish).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from .climbs import DeadlineClimbs

log = logging.getLogger(__name__)


class DeadlineSweeper:
    def __init__(self, climbs: DeadlineClimbs, every_seconds: float, batch: int) -> None:
        self.climbs = climbs
        self.every = every_seconds
        self.batch = batch

    async def sweep(self) -> int:
        """One pass: climb everything due, remind of every promise to a client that falls
        due soon, own up to every one that passed, publishing the outbox after each batch;
        how many climbed."""
        climbed = await self._drain(self.climbs.climb_due)
        await self._drain(self.climbs.remind_promises)
        await self._drain(self.climbs.own_missed_promises)
        return climbed

    async def _drain(self, step: Callable[[int], Awaitable[int]]) -> int:
        done = 0
        while True:
            due = await step(self.batch)
            done += due
            await self.climbs.flush()
            if due < self.batch:
                return done

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception as exc:  # the database or NATS away: the next pass retries
                log.warning("deadline sweep failed (%s); retrying", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)

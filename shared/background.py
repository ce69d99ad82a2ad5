"""A service's background loop (sweepers): started after the broker connects, stopped before
it disconnects, so whatever a pass publishes has a broker to go to."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from faststream import FastStream

log = logging.getLogger(__name__)


async def every(
    seconds: float, stop: asyncio.Event, one_pass: Callable[[], Awaitable[object]], what: str
) -> None:
    """Run `one_pass` every `seconds` until `stop`; a failed pass is retried on the next."""
    while not stop.is_set():
        try:
            await one_pass()
        except Exception as exc:  # the database or NATS away: the next pass retries
            log.warning("%s failed (%s); retrying", what, type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


def run_in_background(
    app: FastStream,
    name: str,
    loop: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
    stop_timeout: float = 10.0,
) -> None:
    state: dict[str, asyncio.Event | asyncio.Task[None]] = {}

    @app.after_startup
    async def start() -> None:
        stop = asyncio.Event()
        state["stop"], state["task"] = stop, asyncio.create_task(loop(stop), name=name)

    @app.on_shutdown
    async def finish() -> None:
        task, stop = state.pop("task", None), state.pop("stop", None)
        if not isinstance(task, asyncio.Task) or not isinstance(stop, asyncio.Event):
            return
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=stop_timeout)
        except TimeoutError:
            # An unfinished pass rolls back: its rows are due again on the next start.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

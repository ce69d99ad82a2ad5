"""A pull consumer with nothing to fetch times out quietly again.

nats-py 2.16's `PullSubscription.fetch` raises a plain `asyncio.TimeoutError` when its
deadline passes before a lingering pull request is sent (nats.py PR #934 added that path);
its other timeouts are `nats.errors.TimeoutError`, a subclass. FastStream 0.7's pull loop
suppresses only the subclass, so an idle consumer's pull task died about once a second and
FastStream's supervisor logged a traceback and restarted it: noise that hides real errors,
and a task, a traceback and a log line per idle consumer per second. `fetch` raising the
nats error for every timeout is what both libraries document, and what FastStream handles.
"""

from __future__ import annotations

import functools
from typing import Any

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.client import JetStreamContext

_MARK = "_careline_nats_timeout"


def fetch_times_out_as_nats_timeout() -> None:
    """Make `PullSubscription.fetch` raise `nats.errors.TimeoutError` on every timeout."""
    original = JetStreamContext.PullSubscription.fetch
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except NatsTimeoutError:
            raise
        except TimeoutError as exc:  # asyncio.TimeoutError is TimeoutError on 3.11
            raise NatsTimeoutError from exc

    setattr(fetch, _MARK, True)
    JetStreamContext.PullSubscription.fetch = fetch  # type: ignore[method-assign]

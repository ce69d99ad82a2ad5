"""How the services' pull consumers fetch: what has arrived, at once, without filling a batch.

FastStream's pull loop calls nats-py's `PullSubscription.fetch(batch, timeout)` over and
over. nats-py 2.16's fetch costs us in two ways, both measured:
- When nothing is waiting it sends a lingering pull for the whole batch and, once the first
  message arrives, keeps waiting for the rest of the batch until the timeout (FastStream's
  `PullSub.timeout`, 1 s). At light load a message that found its consumer idle waited for
  up to a second at every hop: at 20 msg/s (warm, `python -m bench.latency --rate 20`),
  p95 87 / p99 117 ms from inbound to the escalation decision, against 39 / 50 ms with
  `prompt_fetch`.
- When its deadline passes before the lingering pull is sent it raises a plain
  `asyncio.TimeoutError` (nats.py PR #934), which FastStream's loop does not suppress (it
  suppresses `nats.errors.TimeoutError`): an idle consumer's pull task died about once a
  second, with a traceback and a restart.

`prompt_fetch` takes its place. Each subscription keeps one pull request open on the
server, for up to `batch` messages and expiring after `timeout`; the server delivers into
the subscription's queue as messages come. A fetch takes what is in the queue; only when
it is empty does it wait, for the first message, and then returns that message with
whatever arrived with it. A new request is sent when the open one is spent (its batch
delivered, expired, or ended by the server), so no more than `batch` messages are
delivered ahead of the handlers, as before, and an idle consumer still sends one request
per `timeout`. Every timeout is `nats.errors.TimeoutError`, which FastStream handles.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import api
from nats.js.client import JetStreamContext
from nats.js.errors import APIError

_MARK = "_careline_prompt_fetch"
# The server ends an expired request with a 408 status; past this margin, in case the
# status is lost (a reconnect), the client stops counting on the request.
_EXPIRY_MARGIN = 0.25
# (Plain strings: the headers hold strings and StatusCode members hash by name.)
_EXPIRED = api.StatusCode.REQUEST_TIMEOUT.value
# Statuses that end a request before it expires: no messages (404; only for no_wait
# requests, which this never sends), or a conflict (409: too many waiting requests, the
# consumer deleted or push based, a leader changed...). They may come again at once.
_ENDED_EARLY = {api.StatusCode.NO_MESSAGES.value, api.StatusCode.CONFLICT.value}
_HEARTBEAT = api.StatusCode.CONTROL_MESSAGE.value


@dataclass
class _OpenPull:
    """The pull request a subscription has open on the server."""

    owed: int  # messages the server may still deliver for it
    sent: float  # time.monotonic() when it was sent
    expires: float  # seconds after `sent` that the server keeps it
    ended_early: bool = False  # ended by a status before it expired

    @property
    def until(self) -> float:
        """When it is surely gone, its expiry status lost or not."""
        return self.sent + self.expires + _EXPIRY_MARGIN

    def spent(self) -> bool:
        return self.owed <= 0 or time.monotonic() >= self.until

    def expired_now(self) -> bool:
        """Whether an expiry status now can be this request's (and not an older one's: the
        server sends it when a request expires, and this one expires at `sent + expires`)."""
        return time.monotonic() >= self.sent + self.expires / 2


_open_pulls: weakref.WeakKeyDictionary[Any, _OpenPull] = weakref.WeakKeyDictionary()


def use_prompt_fetch() -> None:
    """Make every `PullSubscription.fetch` of this process the prompt one (once)."""
    if getattr(JetStreamContext.PullSubscription.fetch, _MARK, False):
        return
    setattr(prompt_fetch, _MARK, True)
    JetStreamContext.PullSubscription.fetch = prompt_fetch  # type: ignore[method-assign,assignment]


async def prompt_fetch(
    pull_sub: Any, batch: int = 1, timeout: float | None = 5, heartbeat: float | None = None
) -> list[Msg]:
    """Up to `batch` messages: those already delivered, or else the first to come within
    `timeout`."""
    if batch < 1:
        raise ValueError("nats: invalid batch size")
    if timeout is None or timeout <= 0 or heartbeat is not None:
        raise ValueError("prompt_fetch needs a timeout and takes no heartbeat")
    deadline = time.monotonic() + timeout
    pull = _open_pulls.get(pull_sub)
    # What was delivered first: it belongs to the request open until now, statuses too.
    messages = _delivered(pull_sub, pull, batch) if pull is not None else []
    if messages:
        return messages
    if pull is None or pull.spent():
        if pull is not None and pull.ended_early:
            # A request the server refused (409: too many waiting, ...) would be refused
            # again at once: wait out what it would have lived, as nats-py does.
            await asyncio.sleep(max(0.0, min(pull.until, deadline) - time.monotonic()))
            if time.monotonic() >= deadline:
                raise NatsTimeoutError
        pull = await _request(pull_sub, batch, timeout)
    while not messages:
        remaining = min(pull.until, deadline) - time.monotonic()
        if pull.spent() or remaining <= 0:
            raise NatsTimeoutError
        try:
            first = await pull_sub._sub.next_msg(timeout=remaining)
        except TimeoutError:  # asyncio.TimeoutError is TimeoutError on 3.11
            raise NatsTimeoutError from None
        if _counts(first, pull):
            # Whatever the same read from the socket brought is in the queue already.
            messages = [first, *_delivered(pull_sub, pull, batch - 1)]
    return messages


async def _request(pull_sub: Any, batch: int, timeout: float) -> _OpenPull:
    """A new pull request for up to `batch` messages, kept by the server for `timeout`."""
    request = {"batch": batch, "expires": int(timeout * 1_000_000_000)}
    sent = time.monotonic()
    await pull_sub._nc.publish(pull_sub._nms, json.dumps(request).encode(), pull_sub._deliver)
    # Recorded once sent: a publish that failed leaves no request to wait for.
    pull = _open_pulls[pull_sub] = _OpenPull(owed=batch, sent=sent, expires=timeout)
    return pull


def _delivered(pull_sub: Any, pull: _OpenPull, limit: int) -> list[Msg]:
    """What the subscription's queue holds, up to `limit` messages (statuses consumed)."""
    queue: asyncio.Queue[Msg] = pull_sub._sub._pending_queue
    messages: list[Msg] = []
    while len(messages) < limit and not queue.empty():
        msg = queue.get_nowait()
        # What next_msg does for a message it returns.
        pull_sub._sub._pending_size -= len(msg.data)
        queue.task_done()
        try:
            if _counts(msg, pull):
                messages.append(msg)
        except APIError:
            if not messages:
                raise
            break  # the request is over; the messages in hand are still handled
    return messages


def _counts(msg: Msg, pull: _OpenPull) -> bool:
    """Whether `msg` is a message to handle; a status updates the open request."""
    status = JetStreamContext.is_status_msg(msg)
    if not status:
        pull.owed -= 1
        return True
    if status == _HEARTBEAT:
        return False
    if status == _EXPIRED:
        if pull.expired_now():  # else an older request's, late
            pull.owed = 0
        return False
    pull.owed = 0  # any other status ends the request too
    if status in _ENDED_EARLY:
        pull.ended_early = True
        return False
    raise APIError.from_msg(msg)

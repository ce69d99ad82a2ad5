"""What intake prunes of its schema (shared.retention; docs/retention.md).

`intake.messages`, every normalized message as it was decided on, is a record and stays;
with a content horizon set, what the client wrote (sender, subject, text, quoted text,
signature, entities) is cut out of it once it is that old, keeping the ids, the channel,
the language and the times.
"""

from __future__ import annotations

from datetime import timedelta

from shared.contracts import Event
from shared.retention import Prunable, content_horizon, content_of, processed_keys
from shared.subjects import STREAM_INBOUND

# The streams its consumers read (tests check them against the handlers): its keys are
# kept as long as a message of them can still come again.
CONSUMED = (STREAM_INBOUND,)

# What a message's record keeps past the content horizon: nothing the client wrote.
MESSAGE_KEEPS = (
    *Event.model_fields,  # the event's own ids and time
    "channel",
    "language",
    "language_confidence",
    "received_at",
)


def prunables(retention: timedelta, content: timedelta | None = None) -> list[Prunable]:
    keys = processed_keys("intake", retention, CONSUMED)
    if content is None:
        return [keys]
    return [
        keys,
        content_of(
            "intake.messages",
            "created_at",
            content_horizon(content, keys.horizon),
            "what the client wrote, cut out of the message record (CARELINE_CONTENT_DAYS)",
            "normalized",
            MESSAGE_KEEPS,
        ),
    ]

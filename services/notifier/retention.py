"""What the notifier prunes of its schema (shared.retention; docs/retention.md).

Notifications (what was sent, to whom, when, with what result) are records and stay; with a
content horizon set, a finished notification that old loses what it said (the request's
data: the client's words, the fact pack, names) and keeps its ids, kind, channel, role,
language and outcome.
"""

from __future__ import annotations

from datetime import timedelta

from shared.contracts import Event
from shared.retention import Prunable, content_horizon, content_of, processed_keys
from shared.subjects import STREAM_CRM, STREAM_NOTIFY

from .adapters import FINAL

# The streams its consumers read (tests check them against the handlers): its keys are
# kept as long as a message of them can still come again.
CONSUMED = (STREAM_NOTIFY, STREAM_CRM)


# What a finished notification's request keeps past the content horizon.
REQUEST_KEEPS = (
    *Event.model_fields,  # the request's own ids and time
    "notification_id",
    "escalation_id",
    "kind",
    "channel",
    "recipient_role",
    "recipient_verified",
    "content_class",
    "language",
    "severity",
)


def prunables(retention: timedelta, content: timedelta | None = None) -> list[Prunable]:
    keys = processed_keys("notifier", retention, CONSUMED)
    cut = []
    if content is not None:
        cut.append(
            content_of(
                "notifier.notifications",
                "created_at",
                content_horizon(content, keys.horizon),
                "what finished notifications said, cut out of them (CARELINE_CONTENT_DAYS)",
                "request",
                REQUEST_KEEPS,
                only=f"status IN ({', '.join(repr(s) for s in FINAL)}) AND request IS NOT NULL",
            )
        )
    return [
        keys,
        # A held answer arriving after its confirmation was settled is settled from here;
        # no request arrives later than the streams keep it, which the key horizon covers.
        Prunable(
            "notifier.confirmation_outcomes",
            "recorded_at",
            keys.horizon,
            "confirmation outcomes, for held answers that arrive after them",
        ),
        # A request made before a revoke comes no later than the streams keep it either.
        Prunable(
            "notifier.revoked_addresses",
            "recorded_at",
            keys.horizon,
            "addresses staff took back, for requests made before that arrive after",
        ),
        # Which staff notices said a client mail was written: that mail ends (sent or not)
        # within its retries, long before the key horizon.
        Prunable(
            "notifier.client_mail_told",
            "recorded_at",
            keys.horizon,
            "which staff notices said a client mail was written, for a follow-up if it fails",
        ),
        *cut,
    ]

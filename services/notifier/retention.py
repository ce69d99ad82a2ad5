"""What the notifier prunes of its schema (shared.retention; docs/retention.md).

Notifications (what was sent, to whom, when, with what result) are records and stay.
"""

from __future__ import annotations

from datetime import timedelta

from shared.retention import Prunable, processed_keys
from shared.subjects import STREAM_CRM, STREAM_NOTIFY

# The streams its consumers read (tests check them against the handlers): its keys are
# kept as long as a message of them can still come again.
CONSUMED = (STREAM_NOTIFY, STREAM_CRM)


def prunables(retention: timedelta) -> list[Prunable]:
    keys = processed_keys("notifier", retention, CONSUMED)
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
    ]

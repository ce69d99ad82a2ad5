"""What a promise to the client promised, by what the contact that made it says. Pure.

Staff keep a promise they can read: «Клиенту обещан ответ по существу не позднее X» said
when, not what, and the client was told more than "an answer": the failure notice promises
the cause, a plan for the fix with a firm date and compensation (seed 001: a new solution
at once); an outage report's acknowledgement the result of a check, nothing conceded; the
billing acknowledgement the result of the payment check; a demand's acknowledgement the
answer to the request. The notifier names each item in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What the promise of an escalation of each kind was about, when its `promise_to` does not
# say (promise_delay_notice's `about`; a failure's otherwise).
ABOUT_OF_KIND = {"billing": "payment", "freebie": "request", "compensation": "request"}
# What the promising contact of each kind was about.
ABOUT_OF_CONTACT = {
    "service_failure_notice": "failure",
    "outage_report_ack": "check",
    "billing_dispute_ack": "payment",
    "request_ack": "request",
}
# The items each promised, as the client read them (the notifier's `promised_what` names).
PROMISED: dict[str, tuple[str, ...]] = {
    "failure": ("cause", "plan", "compensation"),
    "check": ("check",),
    "payment": ("payment",),
    "request": ("request",),
}


def promise_about(kind: str, promise_to: Mapping[str, Any] | None) -> str:
    """What the promise of an escalation of `kind` was about: as its contact said (kept in
    `promise_to.about`), else as its kind says."""
    return str((promise_to or {}).get("about") or ABOUT_OF_KIND.get(kind, "failure"))


def what_promised(about: str) -> list[str]:
    """The items a promise `about` this owes the client (staff notices list them)."""
    return list(PROMISED.get(about, PROMISED["failure"]))

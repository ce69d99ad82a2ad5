"""Why a notification can never go, as a code (undelivered.WHY), from what refused it. Pure.

Every place a row ends refused, withdrawn or failed stores this code beside its free-text
reason (`reason_code`): acceptance (service._accept_one), a hold settled or taken back
(holds.settle, service.revoke_channel), the sender's claim and its attempts (sender.py).
Staff read the code in words; the text stays for ops. Reading the code off the exception's
type, not its message, means a reworded message cannot turn into "failed".
"""

from __future__ import annotations

from jinja2 import TemplateError

from .domain import DisclosureRefused
from .holds import HoldRefused
from .ports import NoChannel, ReceiverRefused
from .undelivered import (
    CANNOT_RENDER,
    FAILED,
    NO_CHANNEL,
    REFUSED_BY_SERVER,
    UNVERIFIED,
    WHY,
)


class Refused(Exception):
    """The request can never be delivered as it is, and why (a code of undelivered.WHY)."""

    def __init__(self, why: str, reason: str) -> None:
        if why not in WHY:
            raise ValueError(f"unknown reason code {why!r}")
        super().__init__(reason)
        self.why = why


# Checked in order: the first type the exception is an instance of gives the code.
_WHY_OF: tuple[tuple[type[BaseException], str], ...] = (
    (DisclosureRefused, UNVERIFIED),
    (HoldRefused, NO_CHANNEL),  # a webhook answer cannot wait for an address's confirmation
    (NoChannel, NO_CHANNEL),
    (TemplateError, CANNOT_RENDER),
    (ReceiverRefused, REFUSED_BY_SERVER),
)


def why_refused(exc: BaseException) -> str:
    """The code of a refusal or a permanent failure; "failed" for one of no known kind."""
    if isinstance(exc, Refused):
        return exc.why
    return next((why for kind, why in _WHY_OF if isinstance(exc, kind)), FAILED)

"""Who hears that staff took back a confirmed address, and what they read. Pure.

Each person holding one of the open escalations the revoke took the address back from
(revocation.py) hears it once, in their language, as an `identity_alert` (the staff alert
about who is speaking) that lists the cases they hold: who took it back and when, that what
went to the address went to someone not the client, and what to do (reach the client at the
contacts on file; undo what was changed on the address's word, payment details first).
With no open case of the client written from or promised to the address, nobody holds one
to hear it: the customer's account manager does (the verifier names them on the event),
else the head of support, as a late no that no case waits on is told (unclear.py).

Whoever took the address back is not told of it as news (`is_revoker`): holding cases, they
read them as a checklist ("you took back ...: what is left to do", `by_you`); holding none,
they get nothing. What went to the address is not listed here: the escalator knows what it
asked the notifier to send, not what went (a held answer released at the confirmation, one
refused or withdrawn); the notifier adds it as it accepts the alert (its sent_there.py), and
the templates name `careline notifications --recipient ADDRESS` where it did not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.contracts import SendNotification

from .lifecycle import Escalation, address_key
from .passed_over import Sparing
from .policy import Policy
from .revocation import Revocation, registered_contacts, same_address
from .staff_language import StaffLanguages, on_their_clock, staff_languages
from .staff_notice import staff_notice
from .unclear import ALERT_KIND, unheld_reader

# The order in which severities matter: the alert is as urgent as the gravest case it names.
_SEVERITIES = ("P1", "P2", "P3", "P4")


def revocation_alerts(
    cases: list[Escalation],
    r: Revocation,
    languages: StaffLanguages,
    team_timezone: str | None,
    now: datetime,
) -> list[SendNotification]:
    """An `identity_alert` to each person holding one of the open `cases` (as they are after
    the revoke), once per person and revocation, listing the cases they hold; in their
    language. None when no case is open: `unheld_alert` tells the account manager then."""
    held: dict[str, tuple[str, str, list[Escalation]]] = {}
    for e in cases:
        if e.status != "open":
            continue
        for person in e.notified:
            key = address_key(person.address)
            *_, theirs = held.setdefault(key, (person.role, person.address, []))
            if e not in theirs:
                theirs.append(e)
    return [
        _alert(role, address, theirs, r, languages, team_timezone, now)
        for role, address, theirs in held.values()
    ]


def is_revoker(address: str, r: Revocation) -> bool:
    """Whether the person at `address` took the address back themselves: `--by` gave their
    address, or the name the CRM gives the customer's account manager (or deputy) at it.
    Ольга Петрова was told «Ольга Петрова отозвала…» of her own revoke: she reads her cases
    as a checklist instead, and no alert about no case at all."""
    by = " ".join(r.by.split()).casefold()
    if not by:
        return False
    if same_address(address, by):
        return True
    manager = r.account_manager
    people = [manager, manager.deputy] if manager else []
    return any(
        p is not None
        and same_address(p.email, address)
        and " ".join(p.name.split()).casefold() == by
        for p in people
    )


def no_case_open(found: list[Escalation]) -> bool:
    """Whether no open case is among those the revoke found: nobody holds one to hear it."""
    return not any(e.status == "open" for e in found)


def unheld_alert(
    policy: Policy,
    found: list[Escalation],
    r: Revocation,
    now: datetime,
    spared: Mapping[str, Sparing] | None = None,
) -> SendNotification | None:
    """With no open case among those the revoke found (`found`: resolved ones at most), an
    `identity_alert` listing no case to whoever reads an alert no case holds (`alert_reader`:
    the account manager the verifier named, else the head of support), in the language they
    read. A manager the client's threats spare (`spared`: staff ids, each with the case
    whose standing hold spares them, another of the client's) is not asked to reach the
    client: whoever stands in for them does, as for their cases (the CRM's deputy, else the
    next of the chain), and reads in which case the client threatened the manager. None
    when a case is open (its holders hear it) or the policy names nobody. Once per address
    and revoke: the events of the confirmations one command took back make the same id (the
    address and the time name it, not the confirmation)."""
    if not no_case_open(found):
        return None
    spared = spared or {}
    reader = unheld_reader(policy, r.account_manager, spared, spared)
    if reader is None:
        return None
    role, address, why = reader
    if is_revoker(address, r):
        return None  # they know: no case waits on them to tell of it
    manager = r.account_manager
    deputy = manager.deputy if manager else None
    languages = staff_languages(
        policy, manager.model_dump() if manager else None, deputy.model_dump() if deputy else None
    )
    data = on_their_clock(_said(r, found, [], policy.team_timezone), languages.zone_of(address))
    data |= why
    once = ("identity-revoked", r.customer_id, address_key(r.address), r.at.isoformat())
    return staff_notice(
        ALERT_KIND,
        role,
        address,
        languages.of(address),
        data,
        (*once, role, address),
        message_id=r.message_id,
        correlation_id=r.correlation_id,
        occurred_at=now,
    )


def _said(
    r: Revocation, touched: list[Escalation], cases: list[Escalation], team_timezone: str | None
) -> dict[str, Any]:
    """What the alert says: the revoke, and the `cases` its reader holds (`touched`: where
    the client's name and contacts on file are read from)."""
    briefings = [e.briefing for e in touched]
    return {
        "occasion": "revoked",
        "customer": next((b["customer"] for b in briefings if b.get("customer")), None),
        "customer_id": r.customer_id,
        "address": r.address,
        "confirmation_id": str(r.confirmation_id),
        # One command may take back several confirmations of the address: each is named.
        "confirmations": r.confirmations,
        "revoked_by": r.by,
        "revoked_at": r.at.isoformat(),
        # Where to call: the channels on file, not the address taken back.
        "registered": registered_contacts(briefings[0], r.address) if briefings else [],
        "cases": [
            {
                "escalation_id": str(e.id),
                "kind": e.kind,
                "severity": e.severity,
                "promise_to": (e.promise_to or {}).get("recipient") if e.promise_to else None,
                "client_reply_by": e.client_reply_by.isoformat() if e.client_reply_by else None,
            }
            for e in cases
        ],
        "team_timezone": team_timezone,
        "stand_in_for": None,
        "passed_over": [],
    }


def _alert(
    role: str,
    address: str,
    cases: list[Escalation],
    r: Revocation,
    languages: StaffLanguages,
    team_timezone: str | None,
    now: datetime,
) -> SendNotification:
    first = cases[0]
    return staff_notice(
        ALERT_KIND,
        role,
        address,
        languages.of(address),
        on_their_clock(
            {**_said(r, cases, cases, team_timezone), "by_you": is_revoker(address, r)},
            languages.zone_of(address),
        ),
        ("identity-revoked", r.confirmation_id, role, address),
        message_id=r.message_id,
        correlation_id=r.correlation_id,
        occurred_at=now,
        # About several cases at once: the cases are in the data, each with its reference.
        escalation_id=first.id if len(cases) == 1 else None,
        severity=min((e.severity for e in cases), key=_rank),
    )


def _rank(severity: str) -> int:
    return _SEVERITIES.index(severity) if severity in _SEVERITIES else len(_SEVERITIES)

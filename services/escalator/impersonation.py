"""A sender one customer disowned writes in another customer's name: that customer's account
manager is warned. Pure.

Seed 000, the other way round: the registered contact of ООО «СтройМонтаж» said "not us" to
an address (or staff took its confirmation back), and the address now writes claiming to be
from another client. The verifier makes it a suspicious sender in the name of the customer
that disowned it (its account manager handles the message: the suspicious-sender rule), and
keeps the customer it named apart (`Identity.named_customer`). Nobody told that customer's
people an impostor uses its name, while the next mail may ask its billing to change payment
details. Its account manager hears it (else the head of support, as an alert no case holds:
unclear.alert_reader), in the language they read: who wrote in whose name, that another
client disowned the address, what it wrote, and what to do. Never the client, never the
sender: a staff notice only. Once per sender, named customer and day (the same impostor
writing ten times in a morning is one warning).
"""

from __future__ import annotations

from datetime import datetime

from shared.contracts import IdentityVerified, SendNotification

from .facts import excerpt
from .policy import Policy
from .policy_rules import address_key
from .staff_language import on_their_clock, staff_languages
from .staff_notice import staff_notice
from .unclear import ALERT_KIND, alert_reader

OCCASION = "impersonated"


def named_customer_alert(
    policy: Policy, verified: IdentityVerified, now: datetime
) -> SendNotification | None:
    """An `identity_alert` (occasion `impersonated`) to the account manager of the customer
    a suspicious sender named (`Identity.named_customer`), when that is not the customer the
    identity is in the name of. None otherwise, or when the policy names nobody to read it."""
    identity, message = verified.identity, verified.message
    named = identity.named_customer
    if identity.status != "suspicious" or named is None:
        return None
    own = identity.customer.id if identity.customer else None
    if named.customer.id == own:
        return None
    reader = alert_reader(policy, named.account_manager)
    if reader is None:
        return None
    role, address = reader
    manager = named.account_manager.model_dump() if named.account_manager else None
    languages = staff_languages(policy, manager)
    language = languages.of(address)
    sender = message.sender.email or message.sender.phone or message.sender.handle or ""
    data = {
        "occasion": OCCASION,
        "customer": named.customer.name,
        "customer_id": named.customer.id,
        "address": sender,
        "disowned_by": identity.customer.name if identity.customer else None,
        "disowned_by_id": own,
        # Who disowned it: a contact's no, or staff taking a confirmation back.
        "revoked": any(e.kind == "revoked_by_staff" for e in identity.evidence),
        "said": excerpt(message.text) or excerpt(message.subject or "") or "…",
        "subject": message.subject or "",
        "received_at": message.received_at.isoformat(),
        "team_timezone": policy.team_timezone,
        "stand_in_for": "account_manager" if role != "account_manager" else None,
    }
    data = on_their_clock(data, languages.zone_of(address))  # the time written: theirs
    day = f"{message.received_at:%Y-%m-%d}"
    once = ("identity-impersonated", named.customer.id, address_key(sender), day, role, address)
    return staff_notice(
        ALERT_KIND,
        role,
        address,
        language,
        data,
        once,
        message_id=verified.message_id,
        correlation_id=verified.correlation_id,
        occurred_at=now,
    )

"""Which notifications an escalation asks for, and what they carry. Pure functions.

Staff get the facts (who, why with the evidence, severity, deadline, the playbook in the
language each reads (staff_language) and in the client's, the hold) and the escalation's
fact pack (facts.py); legal also gets the client's own words, the sender, the channel and
when. Clients are contacted only as the rule says: what concerns the account goes to the
customer's *registered, verified* address, never to an unknown one; the unknown sender
gets a plain explanation that names no account (a probable one, by the rule; a stranger, by
the policy: `stranger_reach`). A role whose policy address is `webhook:NAME` is told through
the notifier's webhook endpoint NAME instead of by email.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from shared.contracts import (
    AuthResults,
    EscalationChanged,
    Identity,
    IdentityVerified,
    Language,
    MessageNormalized,
    NotificationKind,
    SendNotification,
    Signal,
    StaffRef,
    derived_id,
)
from shared.text_head import head_of

from .client_words import reported_problems
from .guessed import is_guess
from .history import customer_subject
from .lifecycle import DEPUTY, WEBHOOK_PREFIX, address_key, channel_of, deputy_address
from .policy import Decision, Policy, Rule
from .privacy import mask_card_numbers
from .staff_language import StaffLanguages, in_language, of_message, on_their_clock

# The entities of a message a billing answer may quote back (invoice and contract numbers).
_REFERENCE_KINDS = ("invoice", "contract", "account", "order")
# What a request's acknowledgement says the client asks for, by its escalation's kind (seed
# 002's "another manager did it for free"; a demand for compensation); another kind's
# acknowledgement says "your request".
ASKED_FOR = {"freebie": "free_service", "compensation": "compensation"}
# The signals whose evidence is the request itself: its sentences are the client's claim,
# quoted back as the client put it (at most `CLAIMS_QUOTED` of them).
REQUEST_SIGNALS = frozenset({"freebie_demand", "compensation_demand"})
CLAIMS_QUOTED = 3


def subject_key(verified: IdentityVerified) -> str:
    """Whom an escalation is about: the customer if known, else the sender's identifier."""
    if verified.identity.customer:
        return customer_subject(verified.identity.customer.id)
    sender = verified.message.sender
    return "sender:" + (sender.email or sender.phone or sender.handle or str(verified.message_id))


def _common(event: EscalationChanged) -> dict[str, Any]:
    return {
        "message_id": event.message_id,
        "correlation_id": event.correlation_id,
        "occurred_at": event.occurred_at,
        "escalation_id": event.escalation_id,
        "severity": event.severity,
    }


def decided_on(verified: IdentityVerified) -> dict[str, Any]:
    """When a contact's address was decided the client's: when the verifier passed the
    message it answers, not when the escalator got to it. A revoke between the two (staff took
    the address back) then still keeps account content from it (notifier: revoked.py)."""
    return {"identity_decided_at": verified.occurred_at}


def _staff_data(
    policy: Policy,
    decision: Decision,
    event: EscalationChanged,
    verified: IdentityVerified,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    rule = decision.rule
    client_language = _client_language(verified)
    return {
        "severity": event.severity,
        "kind": event.kind,
        "rule": event.rule,
        "reason": event.reason,
        "ack_deadline": event.ack_deadline.isoformat(),
        **about_message(verified),
        "signals": [
            {
                "name": s.name,
                "score": s.score,
                "words": [e.text for e in s.evidence],
                # The client's words only, as the reason quotes them: no "!!!" or capitals.
                "quoted": [e.text for e in s.evidence if not e.rule.startswith("form.")],
            }
            for s in decision.signals
        ],
        # Both playbooks: the team's, and the client's when the client writes another language;
        # each reader's own instead of the team's (staff_language.in_language) from all.
        "playbook": rule.playbook.get(policy.team_language, ""),
        "playbooks": dict(rule.playbook),
        "client_language": client_language,
        "playbook_client": (
            rule.playbook.get(client_language) if client_language != policy.team_language else None
        ),
        "conditions": [f.text for f in decision.facts],
        # The same in parts, for a notifier that says them in the notice's language.
        "condition_items": [f.item() for f in decision.facts],
        "escalation_id": str(event.escalation_id),
        # Staff read the times on the team's clock (the deadline, the promise, the hold).
        "team_timezone": policy.team_timezone,
        **(extra or {}),
    }


def about_message(verified: IdentityVerified) -> dict[str, Any]:
    """What a staff notice says of the message it is about: whose (the customer, and who is
    speaking, with the evidence), on which channel and subject."""
    identity, message = verified.identity, verified.message
    return {
        "customer": identity.customer.name if identity.customer else None,
        "customer_id": identity.customer.id if identity.customer else None,
        "identity_status": identity.status,
        "identity_confidence": identity.confidence,
        "identity_evidence": [e.detail for e in identity.evidence],
        # With kind and values, for a notifier that says it in the notice's language; the
        # details above stay for one of before (and webhook receivers) that read them.
        "identity_evidence_items": [
            {"kind": e.kind, "detail": e.detail, "values": e.values} for e in identity.evidence
        ],
        # Who wrote it, so whoever acts knows where it came from (a probable sender's
        # address is not the client's registered one).
        "sender": message.sender.model_dump(include={"email", "phone", "handle", "display_name"}),
        "channel": message.channel,
        "subject": message.subject,
    }


def staff_briefing(
    policy: Policy,
    decision: Decision,
    event: EscalationChanged,
    verified: IdentityVerified,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What every staff notification of the escalation says (kept for re-escalations)."""
    return _staff_data(policy, decision, event, verified, extra)


def notified_staff(notes: list[SendNotification]) -> list[dict[str, Any]]:
    """Who the staff notifications tell, as role and address: the people who may act."""
    return [
        {
            "role": n.recipient_role,
            "address": (WEBHOOK_PREFIX if n.channel == "webhook" else "") + n.recipient,
            "level": 1,
            "origin": "rule",
        }
        for n in notes
    ]


# How much of a message legal is quoted: far more than any client's letter (the detector
# reads 20,000 characters). A pasted 900 kB statement made a notice of that size, in a
# request near NATS's 1 MiB payload; the rest is counted and left in the original.
QUOTED_CHARS = 50_000


def quoted_text(text: str, limit: int = QUOTED_CHARS) -> tuple[str, int]:
    """The start of `text` quoted to legal (card numbers masked), cut before the word the
    limit falls in, and how many characters of it are left out."""
    head = head_of(text, limit)
    return mask_card_numbers(head), len(text) - len(head)


def _legal_extras(verified: IdentityVerified) -> dict[str, Any]:
    """What legal needs to assess the risk, beyond what every manager gets (the sender is
    in every notice: `about_message`)."""
    identity, message = verified.identity, verified.message
    quoted, left_out = quoted_text(message.text)
    return {
        "customer_tier": identity.customer.tier if identity.customer else None,
        "received_at": message.received_at.isoformat(),
        "message_text": quoted,
        "message_text_left_out": left_out,
    }


def staff_notifications(
    policy: Policy,
    decision: Decision,
    event: EscalationChanged,
    verified: IdentityVerified,
    extra: dict[str, Any] | None = None,
    occasion: tuple[object, ...] = (),
    languages: StaffLanguages | None = None,
    threatened: Collection[str] = (),
) -> list[SendNotification]:
    """The rule's level-1 roles, told with the facts (`extra`: the fact pack, the hold),
    each in the language they read (`languages`, the message's: staff_language.of_message,
    which the escalator works out once per message). `occasion` tells a second telling (a
    reopening) from the first, so its ids differ. An account manager the message threatens
    (their staff ids, `threatened`) is not given its cases to take: the one who stands in for
    an unknown manager is, the CRM's deputy of the manager when known, the next of the chain
    when the deputy is threatened too (seed 003: the staff are protected; they hear of the
    threat apart, threatened.py)."""
    identity = verified.identity
    data = _staff_data(policy, decision, event, verified, extra)
    if languages is None:
        languages = of_message(policy, identity)
    notes = []
    roles = decision.rule.roles
    manager = identity.account_manager
    for named in roles:
        role, role_data = named, data
        if named == "account_manager":
            stand_in = None
            if manager is None or manager.id in threatened:
                stand_in = account_manager_stand_in(policy, roles, manager, threatened)
            if stand_in is None and manager is not None:
                if manager.id in threatened and len(roles) > 1:
                    continue  # the rule's other roles hold it: not the one threatened
                address = manager.email  # nobody else: the case must reach someone
            elif stand_in is None:
                continue
            else:
                role, address = stand_in
                role_data = {**data, "stand_in_for": stands_in_for(role, manager, threatened)}
        else:
            address = rule_role_address(policy, named, manager, threatened)
        kind: NotificationKind = "manager_escalation"
        if role == "legal":
            kind, role_data = "legal_notice", {**role_data, **_legal_extras(verified)}
        channel, recipient = channel_of(address)
        language = languages.of(address)
        notes.append(
            SendNotification(
                **_staff_ids(event.escalation_id, occasion, role, address),
                kind=kind,
                channel=channel,  # type: ignore[arg-type]
                recipient=recipient,
                recipient_role=role,
                recipient_verified=True,  # staff directory addresses
                content_class="account",
                language=language,  # type: ignore[arg-type]
                data=on_their_clock(in_language(role_data, language), languages.zone_of(address)),
                **_common(event),
            )
        )
    return notes


def to_other_holders(
    staff: list[SendNotification],
    notified: Iterable[dict[str, Any]],
    occasion: tuple[object, ...],
    languages: StaffLanguages,
) -> list[SendNotification]:
    """The first of the rule's notices (`staff`), again for each person the escalation told
    whom they do not reach (a climb's deputy, a reassignment's new owner), in the language
    each reads: news of the case is theirs too. Legal's own notice is not copied; a
    manager's is."""
    template = next((n for n in staff if n.kind == "manager_escalation"), None)
    if template is None:
        return []
    reached = {(p["role"], address_key(p["address"])) for p in notified_staff(staff)}
    copies: list[SendNotification] = []
    for person in notified:
        role, address = str(person["role"]), str(person["address"])
        if (role, address_key(address)) in reached:
            continue
        reached.add((role, address_key(address)))
        channel, recipient = channel_of(address)
        language = languages.of(address)
        data = {
            k: v for k, v in template.data.items() if k not in ("stand_in_for", "reader_timezone")
        }
        copies.append(
            template.model_copy(
                update={
                    **_staff_ids(template.escalation_id, occasion, role, address),
                    "channel": channel,
                    "recipient": recipient,
                    "recipient_role": role,
                    "language": language,
                    "data": on_their_clock(in_language(data, language), languages.zone_of(address)),
                }
            )
        )
    return copies


def _staff_ids(
    escalation_id: object, occasion: tuple[object, ...], role: str, address: str
) -> dict[str, uuid.UUID]:
    """A staff notice's ids: once per escalation, occasion, role and address."""
    parts = (escalation_id, *occasion, role, address)
    return {
        "event_id": derived_id("notify-request", *parts),
        "notification_id": derived_id("notification", *parts),
    }


def rule_role_address(
    policy: Policy, role: str, manager: StaffRef | None, spared: Collection[str] = ()
) -> str:
    """Where a role the rule names is told: the `deputy` role at the CRM's deputy of the
    client's manager when the identity carries one the client's threats do not name
    (`spared`), as its climbs do (lifecycle.role_address); else the policy's address (a
    threatened deputy too: the role's shared address is not the person threatened)."""
    deputy = manager.deputy if manager is not None else None
    if role != DEPUTY or deputy is None:
        return policy.address(role)
    return deputy_address(deputy.id, deputy.email, spared, policy.address(role))


def stands_in_for(role: str, manager: StaffRef | None, threatened: Collection[str]) -> str:
    """Whom the one standing in (as `role`) stands in for, as their notice says it: the
    account manager nobody knows, the threatened one, or, when the stand-in is past the
    deputy the client threatens too, both the manager and their deputy."""
    if manager is None:
        return "account_manager"
    deputy = manager.deputy
    if role != DEPUTY and deputy is not None and deputy.id in threatened:
        return "threatened_deputy"
    return "threatened_account_manager"


def account_manager_stand_in(
    policy: Policy,
    roles: list[str],
    manager: StaffRef | None = None,
    spared: Collection[str] = (),
) -> tuple[str, str] | None:
    """Who is told in the account manager's place when nobody knows who that is, or the
    manager is threatened (`manager`, whose staff id is then among `spared`).

    An unidentified sender has no account manager, and a rule that names only that role
    would tell nobody: the first role of the account manager's chain with an address (the
    deputy, by default) stands in, unless the rule already tells it. The deputy's address
    is the CRM's deputy of the manager when the identity carries one (a person the
    escalator knows, threatened.py), else the policy's. A deputy the client threatens too
    (among `spared`) is passed over: the next role of the chain stands in (the head of
    support, shipped), and when the rule tells that one already, it holds the case and
    nobody stands in.
    """
    deputy = manager.deputy if manager is not None else None
    passed_over = False
    for role in policy.chains.get("account_manager", []):
        if role == DEPUTY and deputy is not None:
            if deputy.id in spared:
                passed_over = True
                continue
            address: str | None = deputy.email
        else:
            address = policy.address(role)
        if address and role not in roles:
            return role, address
        if address and passed_over:
            return None  # the rule's own role after the threatened deputy holds it
    return None


def _client_language(verified: IdentityVerified) -> Language:
    language = verified.message.language
    return language if language != "unknown" else "en"


def _registered_email(verified: IdentityVerified) -> str | None:
    """The client's verified email on file: the sender's own if it is one, else the first."""
    registered = [
        c.address for c in verified.identity.authorized_channels if c.kind == "email" and c.verified
    ]
    sender = verified.message.sender.email
    if sender and sender in registered:
        return sender
    return registered[0] if registered else None


def _client_zone(verified: IdentityVerified) -> str | None:
    """The client's clock (quiet hours, the times a mail states); None: the notifier's."""
    customer = verified.identity.customer
    return customer.timezone if customer else None


def _manager_name(verified: IdentityVerified) -> str | None:
    manager = verified.identity.account_manager
    return manager.name if manager else None


def _about_request(verified: IdentityVerified) -> dict[str, Any]:
    """What every mail to the client says of his request: whose, what about, when."""
    customer, message = verified.identity.customer, verified.message
    return {
        "customer": customer.name if customer else "",
        "subject": message.subject,
        "received_at": message.received_at.isoformat(),
    }


def _client_data(
    kind: str,
    event: EscalationChanged,
    verified: IdentityVerified,
    recipient: str,
    message_signals: Sequence[Signal] = (),
) -> dict[str, Any]:
    """`message_signals`: every signal of the message (the rule's own are the event's): a sentence
    with a threat beside the request is not quoted back, an insult is cut off it."""
    identity, message = verified.identity, verified.message
    sender = message.sender.email or message.sender.phone or message.sender.handle
    data: dict[str, Any] = {
        **_about_request(verified),
        "channel": message.channel,
        "escalation_id": str(event.escalation_id),
    }
    # Where the request came from, when that is not where this answer goes; a chat handle
    # or a phone is not an address a held answer can go to.
    data["sender_address"] = sender if sender and sender != recipient else None
    data["sender_by_email"] = sender is not None and sender == message.sender.email
    if kind == "identity_confirmation":
        confirmation = identity.confirmation
        # Whose the address becomes: the one confirming vouches for that too.
        data["files_under"] = confirmation.files_under if confirmation else None
        data["confirmation_code"] = confirmation.code if confirmation else None
        data["confirmation_url"] = confirmation.url if confirmation else None
        data["confirmation_expires_at"] = (
            confirmation.expires_at.isoformat() if confirmation else None
        )
        # The notifier thanks whoever answered it, here, once it is answered (receipts.py).
        data["confirmation_id"] = str(confirmation.confirmation_id) if confirmation else None
    if kind in PROMISING_KINDS:
        data["ack_deadline"] = event.ack_deadline.isoformat()
        # What the client is promised (the notifier's templates say it; before 0013 they
        # said the staff's deadline, fifteen minutes for P1).
        data["reply_by"] = (event.client_reply_by or event.ack_deadline).isoformat()
        data["account_manager"] = _manager_name(verified)
    # The client's own words go back to the address that wrote them, or to another of the
    # client's verified addresses when the sender is verified too (the same client's phone
    # or chat: its words are the client's); quoted to the registered owner of a sender not
    # yet confirmed, a stranger's text would reach the client in our mail.
    own = recipient == message.sender.email or verified.identity.status == "verified"
    # Every signal of the message: a sentence with a threat in it is not quoted back («не
    # работает, и если не почините, я приеду и ноги переломаю»), the rule's own signals
    # (the event's) would not show it.
    said = message_signals or event.signals
    if kind in ("service_failure_notice", "outage_report_ack"):
        data["problems"] = reported_problems(message.text, said) if own else []
    if kind == "request_ack":
        data["asked_for"] = ASKED_FOR.get(event.kind)
        claims = reported_problems(message.text, said, REQUEST_SIGNALS) if own else []
        data["claims"] = claims[:CLAIMS_QUOTED]
    if kind == "billing_dispute_ack":
        data["references"] = list(
            dict.fromkeys(e.value for e in message.entities if e.kind in _REFERENCE_KINDS)
        )
        # Invoices are said as such ("счёт № 4512 уже оплачен", not "по документу № 4512").
        data["invoices"] = list(
            dict.fromkeys(e.value for e in message.entities if e.kind == "invoice")
        )
        data["claim"] = billing_claim(event.signals)
    return data


# Billing evidence that the client says he paid (seed 000); any other is a charge he says is
# wrong (quoted one price and charged another, charged twice, for what was cancelled).
_PAID_EVIDENCE = frozenset(
    {
        *("paid", "paid_plain", "payment_made", "made_payment", "proof", "proof_order"),
        *("screenshot", "although_paid", "payment_order", "paid_then_cut", "paid_still"),
        *("paid_then_dunned", "dunned_but_paid", "paid_dont_cut", "dont_cut_paid"),
    }
)


def billing_claim(signals: Iterable[Signal]) -> str:
    """ "paid" when the client says he paid, else "charge": the acknowledgement says which
    ("счёт оплачен" to a client charged 1 690 for an 890 delivery read wrong)."""
    rules = {  # the lexicon's (language.bill.what); the second opinion's say neither
        e.rule.rsplit(".", 1)[-1]
        for s in signals
        if s.name == "billing_dispute"
        for e in s.evidence
        if e.rule.count(".") == 2
    }
    return "paid" if rules & _PAID_EVIDENCE or not rules else "charge"


# The client contacts that promise an answer by a time (the escalation's client_reply_by).
PROMISING_KINDS = frozenset(
    {"service_failure_notice", "outage_report_ack", "billing_dispute_ack", "request_ack"}
)
# The client contacts that admit fault ("we let you down, it is our fault"): none goes while
# the lawyers weigh a claim (policy.admission_barred). An outage report's acknowledgement
# (`outage_report_ack`: received, checking, by when) admits nothing and goes then too.
ADMITTING_FAULT = frozenset({"service_failure_notice"})


def guessed_only(decision: Decision) -> bool:
    """Whether the rule fired on the second opinion's word alone: none of its signals has
    the lexicon's evidence («Сайт опять не работает, уже третий раз за месяц» read as abuse
    on «опять», «третий», «раз»). Staff still hear of it; the client is not written a
    warning about insults or threats nobody can point to, nor is one recorded (guessed.py)."""
    return bool(decision.signals) and all(is_guess(s) for s in decision.signals)


def warning_said(rule: Rule, contacted: list[SendNotification]) -> bool:
    """Whether the warning a rule records was said: by the conduct notice the rule sends,
    when it sends one (a sender with no email address gets none, and the history does not
    count a warning nobody gave: "threats after a warning" needs one); by staff when the
    rule leaves it to them."""
    if not any(c.kind == "conduct_notice" for c in rule.client_contacts):
        return True
    return any(n.kind == "conduct_notice" for n in contacted)


def makes_promise(
    decision: Decision, verified: IdentityVerified, withheld: Collection[str] = ()
) -> bool:
    """Whether the rule's contacts promise the client an answer: one that promises goes to
    the client's registered address, and there is one on file (`withheld`: kinds that do
    not go now, digest.withheld_kinds)."""
    return _registered_email(verified) is not None and any(
        c.kind in PROMISING_KINDS and c.kind not in withheld and c.to == "registered_channel"
        for c in decision.rule.client_contacts
    )


# What a promise made by a contact of this kind is about, when not what its escalation's
# kind says (missed_promises): an outage report's acknowledgement promised the result of a
# check, not a failure's cause and a remedy, so a missed date offers no compensation either.
PROMISED_ABOUT: dict[str, str] = {"outage_report_ack": "check"}


def promised_about(rule: Rule) -> str | None:
    """What the rule's promising contact promised, when it says (`PROMISED_ABOUT`)."""
    kinds = [c.kind for c in rule.client_contacts if c.kind in PROMISED_ABOUT]
    return PROMISED_ABOUT[kinds[0]] if kinds else None


def promise_contact(verified: IdentityVerified, about: str | None = None) -> dict[str, Any] | None:
    """Where and how a promise to the client is made, kept on the escalation: a promise
    that passes unkept is owned up to at the same address, in the same language and on the
    same clock, with the same names (the sweeper has no message to read them from); and
    when the address was decided the client's (`decided_on`), which a delay notice carries."""
    address = _registered_email(verified)
    if address is None:
        return None
    return {
        "recipient": address,
        # Kept as JSON on the escalation, read back by missed_promises.
        **{key: at.isoformat() for key, at in decided_on(verified).items()},
        "language": _client_language(verified),
        "timezone": _client_zone(verified),
        "account_manager": _manager_name(verified),
        **_about_request(verified),
        **({"about": about} if about else {}),
    }


# What a client writing new problems into an open escalation is sent again, saying it was
# added to the case: the failure notice (seed 001, each problem laid out), the billing
# acknowledgement (another invoice, another charge: billing checks it with the first).
# Not a request's acknowledgement: a second "do it for free too" in the open case is the
# same negotiation with the same account manager, who hears it (the holders are told news),
# and whose one answer covers it; a demand is told by its entry, not by what it names
# (problem_keys.ABOUT_SIGNALS), so "a new request" cannot be told from the same one said
# louder, and an automatic "we added it" at every push reads as the machine haggling.
# An outage report's acknowledgement too: another thing said not to work is checked with
# the first, and the client reads that it was added.
FOLLOWS_UP = frozenset({"service_failure_notice", "outage_report_ack", "billing_dispute_ack"})

# Contacts that are one answer to a case, whichever its message's rule chose: a failure case
# is answered once, with the failure notice or an outage report's acknowledgement (round 32:
# one escalation kind, two rules). A later message of the other rule merged into it asks
# for the same id, so the notifier, which takes an id once, does not answer the case again
# ("we received your report, we are checking" after "we let you down", or the reverse, each
# beside the follow-up): the follow-up says what the new message added, as it does for a
# message of the same rule.
SAME_ANSWER: dict[str, str] = {"outage_report_ack": "service_failure_notice"}


def answer_of(kind: str) -> str:
    """What a client contact's id is made of: its kind, or the kind whose answer it is."""
    return SAME_ANSWER.get(kind, kind)


STRANGER_KIND: NotificationKind = "stranger_explanation"


def leaves_stranger_unanswered(rule: Rule, identity: Identity) -> bool:
    """Whether the rule would answer the client but none of its contacts reaches this
    sender: an unknown one (nothing on file matched) has no registered address, and every
    contact of the rule goes to one. A rule that answers nobody (a threat of violence, of
    court) is left so on purpose; a suspicious sender gets nothing automatic, deliberately;
    a probable one has its own explanation (rule unconfirmed-sender)."""
    return (
        identity.status == "unknown"
        and bool(rule.client_contacts)
        and all(c.to == "registered_channel" for c in rule.client_contacts)
    )


def stranger_reach(message: MessageNormalized) -> str | None:
    """Why a reply to an unknown sender of this message would not reach whoever wrote it
    (None: it would). The notifier answers a client by email only; a chat handle or a phone
    has no way back. And the From of an unknown mail may be forged: answering it would
    send our mail to whoever was named (backscatter), so the mail must have passed DMARC,
    or (a domain with no DMARC record) SPF for the From's own domain, DMARC not failing.
    SPF checks the envelope, which a forger sets to a domain of its own: it passes there
    whatever the From says, so it counts only aligned (`spf_aligned`)."""
    if message.channel != "email" or not message.sender.email:
        return "no_way_back"
    auth = message.auth
    if auth.dmarc == "pass":
        return None
    if auth.spf == "pass" and auth.dmarc != "fail" and spf_aligned(auth, message.sender.email):
        return None
    return "unauthenticated"


def spf_aligned(auth: AuthResults, sender: str) -> bool:
    """Whether the domain SPF passed for is the From address's, or a parent of it (From
    sales.example.com, envelope example.com). DMARC's relaxed alignment also takes an
    envelope under the From's domain (bounce.example.com), but telling that apart from a
    stranger's subdomain of a shared suffix (evil.dyndns.example for dyndns.example) needs
    the public suffix list: left out, at the cost of an explanation not sent. No domain
    said: not aligned."""
    envelope = (auth.spf_domain or "").strip(".").lower()
    domain = sender.rpartition("@")[2].strip(".").lower()
    if not envelope or not domain:
        return False
    return domain == envelope or domain.endswith("." + envelope)


def client_contacts(
    decision: Decision,
    event: EscalationChanged,
    verified: IdentityVerified,
    occasion: tuple[object, ...] = (),
    follow_up: bool = False,
    strangers: bool = False,
    asks: Collection[str] = (),
    message_signals: Sequence[Signal] = (),
    outage_only: bool = False,
) -> list[SendNotification]:
    """What the rule says to tell the client, at each message of the escalation; with
    `follow_up`, only the contacts that answer new problems written into the open
    escalation (`FOLLOWS_UP`, once per such message: its `occasion`); `outage_only`: what
    is new of them is only an outage report (`outage_report` marker of the new pieces):
    a contact that admits fault is the acknowledgement instead (`ACKNOWLEDGED_INSTEAD`), as
    for a new case: a fed-up case's admission was for its own failures, not this one.
    With `strangers` (the policy's `stranger_explanation`), an unknown sender none of the
    rule's contacts reaches is told how to be matched (`stranger_explanation`, once per
    escalation and address like any contact to a sender), when a reply reaches it
    (`stranger_reach`).

    Ids make each contact once per escalation (and reopening, `occasion`): the one to the
    client's registered address once (as before contacts were asked for at every message,
    so an escalation opened then is not answered again; and a sender whose held answer was
    released, now a registered address itself, gets no copy of it); one to a sender once per
    address; a confirmation request once per confirmation. The notifier takes an id once:
    a later message asks again for nothing new, and a client writing from a new address
    (or with a new confirmation to ask for) is answered too.

    `asks`: what the sender asked that impostors ask (policy.guarded_asks: payment details);
    the confirmation request says it (`confirmation_asks`), and is asked again when a
    sender whose request went without it asks so now. `message_signals`: every signal of
    the message, so that what is quoted back leaves its threats out (`_client_data`).
    """
    message = verified.message
    language = _client_language(verified)
    # Quiet hours follow the client's clock; without a zone on file the notifier's default.
    zone = _client_zone(verified)
    confirmation = verified.identity.confirmation

    def ids(kind: str, sender: str | None = None) -> dict[str, uuid.UUID]:
        parts: tuple[object, ...] = (event.escalation_id, answer_of(kind), *occasion)
        if sender is not None:
            parts += (sender.casefold(),)
        if kind == "identity_confirmation" and confirmation is not None:
            parts += (confirmation.confirmation_id, *(("asks", *asks) if asks else ()))
        return {
            "event_id": derived_id("notify-request", *parts),
            "notification_id": derived_id("notification", *parts),
        }

    def to_sender(
        kind: NotificationKind, sender: str, data: dict[str, Any], zone: str | None
    ) -> SendNotification:
        """A contact to the address the message came from, once per escalation and address:
        not verified (it may not be the client's), so general content only, in its thread."""
        return SendNotification(
            **ids(kind, sender=sender),
            kind=kind,
            recipient=sender,
            recipient_role="client_sender",
            recipient_verified=False,
            content_class="general",
            language=language,
            recipient_timezone=zone,
            reply_to_external_id=message.external_id,
            data=data,
            **_common(event),
            **decided_on(verified),
        )

    notes = []
    guessed = guessed_only(decision)
    # A new outage report in a failure case: the acknowledgement's follow-up, not an
    # admission (each kind once, should the rule have both).
    contacts = [
        c.model_copy(update={"kind": _followed_up_as(c.kind, outage_only)}) if follow_up else c
        for c in decision.rule.client_contacts
    ]
    for contact in {(c.kind, c.to): c for c in contacts}.values():
        if follow_up and contact.kind not in FOLLOWS_UP:
            continue
        if guessed and contact.kind == WARNING:
            continue
        if contact.to == "registered_channel":
            address = _registered_email(verified)
            if address is None:
                continue
            notes.append(
                SendNotification(
                    **ids(contact.kind),
                    kind=contact.kind,
                    recipient=address,
                    recipient_role="client_registered",
                    recipient_verified=True,
                    content_class="account",
                    language=language,
                    recipient_timezone=zone,
                    # Answering the sender at its own registered address threads with it.
                    reply_to_external_id=(
                        message.external_id
                        if message.channel == "email" and address == message.sender.email
                        else None
                    ),
                    data={
                        **_client_data(contact.kind, event, verified, address, message_signals),
                        **(follow_up_data(contact.kind, event) if follow_up else {}),
                        **(confirmation_asks(asks) if contact.kind == CONFIRMATION else {}),
                    },
                    **_common(event),
                    **decided_on(verified),
                )
            )
            # The sender's held answer is the message's, once (a follow-up holds none).
            held = (
                None
                if follow_up
                else _held_answer(contact.kind, event, verified, occasion, message_signals)
            )
            if held is not None:
                notes.append(held)
        elif message.sender.email:
            if (
                contact.kind == PANIC_ACK
                and verified.identity.status == "unknown"
                and stranger_reach(message) is not None
            ):
                # An unknown From that did not pass authentication may be forged: our
                # mail would go to whoever was named (backscatter), as the stranger's
                # explanation does not.
                continue
            data = _sender_data(contact.kind, decision, verified, event)
            notes.append(to_sender(contact.kind, message.sender.email, data, zone))
    if (
        strangers
        and not follow_up
        and leaves_stranger_unanswered(decision.rule, verified.identity)
        and stranger_reach(message) is None
        and message.sender.email
    ):
        # Nothing of any account, no client named: the subject it answers, only; and no
        # clock of a client (an unknown sender has none on file: the notifier's default).
        said = {"subject": message.subject}
        notes.append(to_sender(STRANGER_KIND, message.sender.email, said, None))
    return notes


# The policy's marker of a plain outage report (round 32), read from a failure's evidence.
OUTAGE_MARKER = "outage_report"


def outage_only(
    policy: Policy, news: Iterable[Sequence[object]], signals: Iterable[Signal]
) -> bool:
    """Whether the new problems a message brings to an open case (`news`: signal, start,
    end, as placement.News) are only an outage report: its failure pieces among them,
    by their evidence in the message's `signals`, are what the policy's `outage_report`
    marker is made of («Личный кабинет не открывается с утра» merged into a fed-up case).
    No marker in the policy, or no new failure: no."""
    marker = policy.markers.get(OUTAGE_MARKER)
    spans = {(n[1], n[2]) for n in news if n[0] == "service_failure"}
    if marker is None or not spans:
        return False
    pieces = [
        e
        for s in signals
        if s.name == "service_failure"
        for e in s.evidence
        if (e.start, e.end) in spans
    ]
    new = Signal(name="service_failure", score=1.0, evidence=pieces)
    return bool(pieces) and marker.found("", [new])


# What a follow-up of an outage report says instead of a contact that admits fault.
ACKNOWLEDGED_INSTEAD: NotificationKind = "outage_report_ack"


def _followed_up_as(kind: NotificationKind, outage_only: bool) -> NotificationKind:
    return ACKNOWLEDGED_INSTEAD if outage_only and kind in ADMITTING_FAULT else kind


def follow_up_data(kind: str, event: EscalationChanged) -> dict[str, Any]:
    """What a contact about new problems written into the open case says besides the first
    one: that it is added; and, when no promise stands (its new dates ran out, the request
    was disowned), no date at all: the staff's deadline in its place was a date nobody
    keeps, and only a person answers now. A promise made anew (one that was over) is the
    event's `client_reply_by`, the date said, and the sweeper keeps it."""
    data: dict[str, Any] = {"follow_up": True}
    if kind in PROMISING_KINDS and event.client_reply_by is None:
        data |= {"reply_by": None, "ack_deadline": None}
    return data


CONFIRMATION: NotificationKind = "identity_confirmation"
WARNING: NotificationKind = "conduct_notice"
PANIC_ACK: NotificationKind = "panic_ack"


def panic_ack_data(rule: Rule, identity: Identity) -> dict[str, Any]:
    """What a panicking client's acknowledgement says besides the case number: within how
    many minutes a specialist contacts them (the rule's own `ack_minutes`, a clock-minute
    urgency the team keeps at any hour; a rule without one says "shortly", as a severity's
    deadline may run in business hours and a night's wait is no "N minutes"), and whether
    to say how to be matched (an unknown sender: we found no client of that address, and
    ask nothing of what it is)."""
    minutes = rule.ack_minutes
    return {
        "within_minutes": math.ceil(minutes) if minutes else None,
        "unknown_sender": identity.status == "unknown",
    }


def confirmation_asks(asks: Collection[str]) -> dict[str, Any]:
    """What a confirmation request says of a sender that asked what impostors ask (payment
    details): the asks, which its templates say plainly ("someone writing from ... asked to
    change your payment details; we changed nothing"), and no subject: the message's own
    subject may carry the new account number, which we never repeat to anyone."""
    return {"asks": list(asks), "subject": ""} if asks else {}


def _sender_data(
    kind: str, decision: Decision, verified: IdentityVerified, event: EscalationChanged
) -> dict[str, Any]:
    """What a contact to the sender itself says: general content only (it may not be the
    client's own address). A conduct notice says whether the investigation waits for the
    threats to stop (the rule's hold, seed 003), and the case's reference number ("your
    request is on file": a number tells nothing of any account); the explanation to an
    unconfirmed sender, whether the registered owner is asked to confirm (without a
    registered address the account manager, told by the rule, confirms it)."""
    data: dict[str, Any] = {"subject": verified.message.subject}
    if kind == "conduct_notice":
        hold = decision.rule.hold
        data["paused"] = hold is not None and not hold.spares_only  # sparing pauses nothing
        data["escalation_id"] = str(event.escalation_id)
    if kind == PANIC_ACK:
        data["escalation_id"] = str(event.escalation_id)
        data.update(panic_ack_data(decision.rule, verified.identity))
    if kind == "unknown_sender_explanation":
        asked = verified.identity.confirmation is not None
        data["confirmation_asked"] = asked and _registered_email(verified) is not None
    return data


def _held_answer(
    kind: NotificationKind,
    event: EscalationChanged,
    verified: IdentityVerified,
    occasion: tuple[object, ...],
    message_signals: Sequence[Signal] = (),
) -> SendNotification | None:
    """The same answer for a probable sender at its own address, held until it is confirmed.

    The escalation does not wait for the confirmation; only this answer does. The notifier
    keeps it unsent and releases it when `crm.channel.confirmed` verifies exactly this
    address for this confirmation (a denial or an expiry withdraws it). The confirmation
    request itself is for the registered owner, never for the sender.
    """
    identity, message = verified.identity, verified.message
    confirmation, sender = identity.confirmation, message.sender.email
    if kind == "identity_confirmation" or confirmation is None or sender is None:
        return None
    verified_emails = {
        c.address for c in identity.authorized_channels if c.kind == "email" and c.verified
    }
    if identity.status != "probable" or sender in verified_emails:
        return None
    # Held for this confirmation: a later one for the same address holds its own answer.
    answer = answer_of(kind)
    parts = (event.escalation_id, answer, "held", sender, *occasion, confirmation.confirmation_id)
    return SendNotification(
        event_id=derived_id("notify-request", *parts),
        notification_id=derived_id("notification", *parts),
        kind=kind,
        recipient=sender,
        recipient_role="client_sender",
        recipient_verified=False,
        content_class="account",
        held_for_confirmation=confirmation.confirmation_id,
        language=_client_language(verified),
        recipient_timezone=_client_zone(verified),
        reply_to_external_id=message.external_id if message.channel == "email" else None,
        data=_client_data(kind, event, verified, sender, message_signals),
        **_common(event),
        **decided_on(verified),
    )

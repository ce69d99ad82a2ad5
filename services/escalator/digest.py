"""One staff notice per person for one client message. Pure functions.

A message that fires rules of several kinds (a threat of court, a disputed invoice and an
insult) opens or updates one escalation per kind, and each escalation tells its rule's
roles. The account manager is among the roles of most rules, so the person would get a
mail per escalation, each repeating the same fact pack. Instead, the notices of one message
are grouped by the address they go to: a person told about one escalation under one role
gets that notice as before; anyone else gets one `staff_digest` listing every escalation
(its kind, severity, level, rule, why, deadline and its own acknowledge link) under the
roles they are told as, with the client, the identity and the fact pack once.

Re-escalations (a deadline passed) and reassignments stay one notice per escalation: they
are about that escalation alone, and do not come through here.

The client is spared the same way: a message that both reports a failure and disputes a
charge opens two escalations, and each answers the client (an apology, a billing
acknowledgement), two mails in the same second with two case numbers. The answers one
message sends one address go as one `client_digest` (`client_digests`), each answer a
section of it with its own case number and date. An unknown sender's explanations (one per
escalation the message opened) say the same thing: one goes, standing for all.
"""

from __future__ import annotations

import json
from typing import Any

from shared.contracts import IdentityVerified, NoticePart, SendNotification, derived_id

from .lifecycle import address_key
from .notifications import ADMITTING_FAULT, PANIC_ACK, PROMISING_KINDS, STRANGER_KIND
from .promised import ABOUT_OF_CONTACT, what_promised
from .staff_language import hold_in

DIGEST_KIND = "staff_digest"
CLIENT_DIGEST_KIND = "client_digest"
# The client answers that go as sections of one mail: those that answer what the message
# says (a confirmation request or an explanation to an unknown sender is a mail of its own).
FOLDED_FOR_CLIENTS = PROMISING_KINDS
# The order of its sections: the bad news first (seed 001), then what is being checked,
# then what the client asks of us (a free service, compensation: the manager answers).
SECTION_ORDER = (
    "service_failure_notice",
    "outage_report_ack",
    "billing_dispute_ack",
    "request_ack",
)
# A demand's acknowledgement that answers what a failure notice would offer (`asked_for`).
REMEDY = "compensation"
# What a client digest says once, of the message its sections answer.
CLIENT_DIGEST_KEYS = (
    *("customer", "subject", "received_at", "channel", "sender_address", "sender_by_email"),
    "account_manager",
)
# What a staff notice says about its escalation; everything else in its data is about the
# message (client, identity, fact pack, the client's words), the same in every notice of it.
ESCALATION_KEYS = (
    "escalation_id",
    "kind",
    "severity",
    "level",
    "change",
    "rule",
    "reason",
    "ack_deadline",
    "taken_by",
    "ack_overdue",
    "ack_url",
    "signals",
    "conditions",
    "condition_items",
    "change_items",
    "playbook",
    "playbooks",
    "playbook_client",
    "hold",
    "stand_in_for",
    "client_reply_by",
    "client_promised",
    "unwarned",
    "resolved",
)


# What a hold keeps from the client (seed 003: "the investigation starts only when the
# threats stop"): the automatic contacts that would promise that investigation, and a
# stranger's explanation ("staff are looking into it", beside the conduct notice saying the
# investigation waits). Who is speaking is still asked (an identity confirmation, a probable
# sender's explanation). A panicking client's "a specialist contacts you within 10
# minutes" would promise it too: under a hold a person answers, as the playbook says.
WITHHELD_UNDER_HOLD = PROMISING_KINDS | {STRANGER_KIND, PANIC_ACK}
# What a suspicious sender's message (an address the client disowned, a known address failing
# authentication) does not make us tell the client: "we let you down", "we are checking your
# payment" about words the client may never have written, nor "a specialist calls you"
# to whoever wrote them. A person looks first.
WITHHELD_FROM_SUSPICIOUS = PROMISING_KINDS | {PANIC_ACK}


# Why a contact to the sender itself is withheld (message_notices' `silent_sender`).
UNVERIFIED_SENDER = "unverified_sender"


def withheld_kinds(under_hold: bool, legal_claim: bool, suspicious: bool = False) -> dict[str, str]:
    """The automatic client contacts that do not go now, each with why: a hold stands
    (`WITHHELD_UNDER_HOLD`), the sender is suspicious (`WITHHELD_FROM_SUSPICIOUS`), or the
    lawyers weigh a claim (`ADMITTING_FAULT`); the hold is said first. The one rule the
    message's contacts, its promise and `policy explain` keep."""
    why = dict.fromkeys(ADMITTING_FAULT, "legal") if legal_claim else {}
    if suspicious:
        why |= dict.fromkeys(WITHHELD_FROM_SUSPICIOUS, "suspicious")
    if under_hold:
        why |= dict.fromkeys(WITHHELD_UNDER_HOLD, "hold")
    return why


def to_the_sender(note: SendNotification) -> bool:
    """Whether a client contact goes back to whoever wrote (an explanation, a conduct
    notice), not to a registered address. An answer held for the confirmation is not: it
    goes only once the registered contact vouches for the address."""
    return note.recipient_role == "client_sender" and note.held_for_confirmation is None


def message_notices(
    verified: IdentityVerified,
    staff: list[SendNotification],
    clients: list[SendNotification],
    under_hold: bool = False,
    holds: list[dict[str, Any]] | None = None,
    legal_claim: bool = False,
    silent_sender: bool = False,
) -> list[SendNotification]:
    """What one message asks the notifier to send: a notice per staff address (each saying
    whether the client's answer is held, what a hold withheld, and what the client was
    promised), then the client contacts.

    `under_hold`: the message placed a hold or keeps one; its `WITHHELD_UNDER_HOLD` contacts
    (and their copies held for a confirmation) are not sent, now or later: the client is
    answered by a person, as the playbook says.

    `holds`: the holds standing for the client once the message is placed (escalation id,
    kind, reason, since): each notice names those of other escalations than its own, so
    whoever is told of a panic or a failure knows the client is under one (and who has it).

    `legal_claim`: the lawyers weigh a claim of the client (policy.admission_barred): no
    contact that admits fault goes (`ADMITTING_FAULT`), now or later; staff are told why.

    `silent_sender`: the sender is not verified and asks what impostors ask
    (policy.silent_to_sender): nothing goes back to it (`to_the_sender`); staff are told."""
    barred = withheld_kinds(under_hold, legal_claim, verified.identity.status == "suspicious")

    def why(note: SendNotification) -> str | None:
        if note.kind in barred:
            return barred[note.kind]
        return UNVERIFIED_SENDER if silent_sender and to_the_sender(note) else None

    reasons = [(n, why(n)) for n in clients]
    withheld = [(n, reason) for n, reason in reasons if reason]
    clients = [n for n, reason in reasons if not reason]
    if withheld:
        said = {
            "kinds": list(dict.fromkeys(n.kind for n, _ in withheld)),
            "why": withheld[0][1],
        }
        staff = [_with(n, "client_contacts_withheld", said) for n in staff]
    # What the message wrote to the client (now, or at an earlier message of the same
    # escalation: the notifier takes a contact once), so staff need not guess; and each
    # mail it goes as (`to`), so the notifier, whose sender may make a client's mail wait
    # (quiet hours, the client's rate limit), tells staff when it goes instead.
    written = [n.kind for n in clients if n.held_for_confirmation is None]
    mails = client_digests(clients)
    if written:
        sent = {
            "kinds": list(dict.fromkeys(written)),
            "to": [client_mail(n) for n in mails if n.held_for_confirmation is None],
        }
        staff = [_with(n, "client_contacts_sent", sent) for n in staff]
    held = held_answer(verified, clients)
    if held is not None:
        staff = [_with(n, "answer_held", held) for n in staff]
    # What the client's acknowledgement promised, and by when, beside its escalation: the
    # team sees the promise it has to keep (one the hold withheld was never made).
    promised = {
        n.escalation_id: n.data["reply_by"]
        for n in clients
        if n.kind in PROMISING_KINDS and n.data.get("reply_by")
    }
    # What it promised, item by item (the cause, a plan, compensation; a check's result).
    what = {
        n.escalation_id: what_promised(ABOUT_OF_CONTACT[n.kind])
        for n in clients
        if n.escalation_id in promised and n.kind in ABOUT_OF_CONTACT
    }
    staff = [
        _with(
            _with(n, "client_reply_by", promised[n.escalation_id]),
            "client_promised",
            what.get(n.escalation_id),
        )
        if n.escalation_id in promised
        else n
        for n in staff
    ]
    return [*(_with_holds(n, holds or []) for n in staff_digests(staff)), *mails]


def client_mail(note: SendNotification) -> dict[str, Any]:
    """One mail to the client as the notifier's sender weighs it: its ids (a digest's and
    its parts', any of which the notifier may file it under), address, role, channel kind,
    zone and severity; its kind and the kinds staff read it as. The address is for the
    notifier's rate-limit foresight only: generic staff webhooks get the entry without it."""
    return {
        "ids": [str(note.notification_id), *(str(p.notification_id) for p in note.parts)],
        "recipient": note.recipient,
        "role": note.recipient_role,
        "channel": note.channel,
        "kind": note.kind,
        "kinds": list(dict.fromkeys(p.kind for p in note.parts)) or [note.kind],
        "severity": note.severity,
        "timezone": note.recipient_timezone,
    }


def _with_holds(note: SendNotification, holds: list[dict[str, Any]]) -> SendNotification:
    """The notice with the holds that stand on other escalations than those it is about,
    each reason in the language of the notice's reader."""
    own = {str(note.escalation_id)} | {
        str(e.get("escalation_id")) for e in note.data.get("escalations") or []
    }
    others = [hold_in(h, note.language) for h in holds if h["escalation_id"] not in own]
    return _with(note, "subject_holds", others) if others else note


def _with(note: SendNotification, key: str, value: Any) -> SendNotification:
    return note.model_copy(update={"data": {**note.data, key: value}})


def held_answer(
    verified: IdentityVerified, clients: list[SendNotification]
) -> dict[str, Any] | None:
    """Whether an answer to the client waits for the registered contact's confirmation, and
    until when that request stands. Staff are told so, not who was asked: ids and times."""
    confirmation = verified.identity.confirmation
    held = [n for n in clients if n.held_for_confirmation is not None]
    if confirmation is None or not held:
        return None
    return {
        "confirmation_id": str(confirmation.confirmation_id),
        "expires_at": confirmation.expires_at.isoformat(),
        "kinds": list(dict.fromkeys(n.kind for n in held)),
    }


def staff_digests(notes: list[SendNotification]) -> list[SendNotification]:
    """The staff notices of one message, one per recipient (in the order first told)."""
    by_recipient: dict[tuple[str, str], list[SendNotification]] = {}
    for note in notes:
        by_recipient.setdefault(_recipient(note), []).append(note)
    return [group[0] if len(group) == 1 else _digest(group) for group in by_recipient.values()]


def _recipient(note: SendNotification) -> tuple[str, str]:
    return note.channel, address_key(note.recipient)


def _digest(notes: list[SendNotification]) -> SendNotification:
    first = notes[0]
    items: dict[str, dict[str, Any]] = {}
    about_message: dict[str, Any] = {}
    for note in notes:
        item = items.setdefault(
            str(note.escalation_id),
            {**{k: note.data[k] for k in ESCALATION_KEYS if k in note.data}, "roles": []},
        )
        if note.recipient_role not in item["roles"]:
            item["roles"].append(note.recipient_role)
        # A legal notice adds the client's words, the sender and the tier to what all say.
        about_message.update({k: v for k, v in note.data.items() if k not in ESCALATION_KEYS})
    senders = {json.dumps(n.data.get("sender"), sort_keys=True) for n in notes}
    if len(senders) > 1:  # notices told of different messages: no one sender is said
        about_message |= {"sender": None, "subject": ""}
    # The gravest first, and its roles first; among equals, the policy's order (stable sort).
    escalations = sorted(items.values(), key=lambda item: str(item.get("severity")))
    roles = list(dict.fromkeys(role for item in escalations for role in item["roles"]))
    severities = sorted(n.severity for n in notes if n.severity is not None)
    changes = list(dict.fromkeys(item.get("change") for item in escalations))
    # The message, the address and the notices it replaces (they name the escalations, the
    # occasions and the roles): a redelivered message makes the same ids, and the notifier
    # takes the copy for the notice it already has.
    replaced = sorted(str(n.notification_id) for n in notes)
    ids = (DIGEST_KIND, first.message_id, *_recipient(first), *replaced)
    return first.model_copy(
        update={
            "event_id": derived_id("notify-request", *ids),
            "notification_id": derived_id("notification", *ids),
            "kind": DIGEST_KIND,
            "escalation_id": None,
            "recipient_role": ",".join(roles),
            "severity": severities[0] if severities else None,
            "data": {
                **about_message,
                # Standing in for the account manager is said once, not per escalation.
                "stand_in_for": next(
                    (i["stand_in_for"] for i in escalations if i.get("stand_in_for")), None
                ),
                "severity": escalations[0].get("severity"),
                # What changed, when it is the same for all (a confirmation's outcome).
                "change": changes[0] if len(changes) == 1 else None,
                "roles": roles,
                "escalations": escalations,
            },
        }
    )


def client_digests(notes: list[SendNotification]) -> list[SendNotification]:
    """The client contacts of one message, the answers to one address as one mail.

    Answers go together when nothing tells them apart but their escalation: the same
    address, role, disclosure, language and hold (answers held for a confirmation are
    released together). Ids come from the answers' own, which stay on the digest's `parts`:
    the notifier takes them with it (a later message asking one of them again sends
    nothing) and leaves out those it sent before."""
    groups: dict[tuple[object, ...], list[SendNotification]] = {}
    for note in notes:
        key: tuple[object, ...] = (id(note),)
        if note.kind in FOLDED_FOR_CLIENTS and note.escalation_id is not None:
            key = (
                *_recipient(note),
                note.recipient_role,
                note.content_class,
                note.recipient_verified,
                note.language,
                note.held_for_confirmation,
            )
        elif note.kind == STRANGER_KIND and note.escalation_id is not None:
            key = (STRANGER_KIND, *_recipient(note))
        groups.setdefault(key, []).append(note)
    return [_folded(group) for group in groups.values()]


def _folded(group: list[SendNotification]) -> SendNotification:
    if len(group) == 1:
        return group[0]
    return _said_once(group) if group[0].kind == STRANGER_KIND else _client_digest(group)


def _said_once(notes: list[SendNotification]) -> SendNotification:
    """A stranger's explanations of one message (failure and billing escalations opened at
    once): the first goes, with each one's own id among its parts, so the notifier takes
    them all and a later message into either case asks for nothing it has not sent."""
    return notes[0].model_copy(update=_as_one(STRANGER_KIND, notes))


def _client_digest(notes: list[SendNotification]) -> SendNotification:
    notes = _remedy_answered_apart(sorted(notes, key=_section_rank))  # stable among equals
    first = notes[0]
    return first.model_copy(
        update={
            **_as_one(CLIENT_DIGEST_KIND, notes),
            "kind": CLIENT_DIGEST_KIND,
            "data": {k: first.data[k] for k in CLIENT_DIGEST_KEYS if k in first.data},
        }
    )


def _remedy_answered_apart(notes: list[SendNotification]) -> list[SendNotification]:
    """A failure notice or a billing acknowledgement beside the acknowledgement of the
    client's compensation demand.

    Alone, the failure notice promises to offer compensation in its reply (seed 001), and the
    acknowledgement of a disputed charge to say how and when the difference is refunded;
    beside the demand's acknowledgement, which says the manager checks the demand against
    the contract and answers by its own date, either would be a second answer to the same
    demand, often by another date («…предложим компенсацию до 23:19» above «…ответим до
    14:00 завтра»). So they say the demand is answered in its own case, and the failure
    notice leaves to that section the sentences it quotes (the demand is not "what
    happened")."""
    demands = [n for n in notes if n.kind == "request_ack" and n.data.get("asked_for") == REMEDY]
    if not demands:
        return notes
    demand = demands[0]
    claimed = set(demand.data.get("claims") or ())

    def apart(note: SendNotification) -> SendNotification:
        if note.kind not in ("service_failure_notice", "billing_dispute_ack"):
            return note
        data = {**note.data, "remedy_asked": str(demand.escalation_id)}
        if note.kind == "service_failure_notice":
            problems = [p for p in note.data.get("problems") or () if p not in claimed]
            if problems or not note.data.get("problems"):
                data["problems"] = problems
        return note.model_copy(update={"data": data})

    return [apart(n) for n in notes]


def _as_one(kind: str, notes: list[SendNotification]) -> dict[str, object]:
    """What one notification carrying `notes` as its parts is: its ids made of theirs (the
    same notes make the same one), about no one escalation, as grave as the gravest."""
    ids = (kind, *sorted(str(n.notification_id) for n in notes))
    severities = sorted(n.severity for n in notes if n.severity is not None)
    return {
        "event_id": derived_id("notify-request", *ids),
        "notification_id": derived_id("notification", *ids),
        "escalation_id": None,
        "severity": severities[0] if severities else None,
        "parts": [_part(n) for n in notes],
    }


def _section_rank(note: SendNotification) -> int:
    return SECTION_ORDER.index(note.kind) if note.kind in SECTION_ORDER else len(SECTION_ORDER)


def _part(note: SendNotification) -> NoticePart:
    assert note.escalation_id is not None  # only an escalation's answers are folded
    return NoticePart(
        notification_id=note.notification_id,
        escalation_id=note.escalation_id,
        kind=note.kind,
        severity=note.severity,
        data=note.data,
    )

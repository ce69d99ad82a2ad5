"""What made a rule's conditions hold, said twice: in parts and in English words. Pure.

Events, timelines and `policy explain` show the words (the escalator's own account, with
ids). Staff notices are written in their reader's language, so each fact also carries its
kind and values (counts, ids, dates, the look-back as the policy writes it) for the notifier to
say it again in the notice's language; the words stay beside them for a notifier that does
not know the kind.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.case_ref import case_ref_said

from .client_fixed import StillOwed

# How many of a message's new words a "wrote again" fact quotes (the notice has them all).
NEWS_SAID = 3
# The identity evidence of a sender disowned for the client: by its registered contact (the
# verifier's denial on file, or the confirmation's outcome), or by staff taking a
# confirmation back (the verifier's denial on file too, or the escalator's: revocation.py).
DISOWNED_EVIDENCE = frozenset({"denied_before", "disowned_by_contact", "revoked_by_staff"})


def who_wrote(status: str, evidence: Collection[str]) -> str:
    """Whose words a message merged into a case are, as its holders must read them: the
    client's ("client"), or, from a suspicious sender, those of an address disowned for the
    client ("disowned") or of mail that failed authentication ("suspicious"). `evidence`:
    the kinds of the identity's evidence."""
    if status != "suspicious":
        return "client"
    return "disowned" if DISOWNED_EVIDENCE & set(evidence) else "suspicious"


@dataclass(frozen=True)
class Fact:
    kind: str
    text: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text

    def item(self) -> dict[str, Any]:
        """As a notice's data carries it (JSON)."""
        return {"kind": self.kind, "values": dict(self.values), "text": self.text}


def hold_lifted_fact(message_id: object) -> Fact:
    """What a message without the threats changed of an escalation under a hold."""
    return Fact(
        "hold_lifted",
        f"hold lifted: message {message_id} carries no threats",
        {"message": str(message_id)},
    )


def spare_lifted_fact(message_id: object, calm_for: str, over: str) -> Fact:
    """What a message ended of a hold that only spared the staff the client's advances (or
    threats, `over`) named: `calm_for` passed without them, and the client's cases go to
    the account manager again. Nothing was paused, so no investigation starts."""
    return Fact(
        "spare_lifted" if over == "advances" else "spare_lifted_threats",
        f"{calm_for} without {over} (message {message_id}): the client's cases go to their "
        "account manager again",
        {"message": str(message_id), "within": calm_for},
    )


def new_sender_fact(suspicious: bool = False) -> Fact:
    """Why the holders hear of a message merged into their case that says nothing new: it
    came from an address not confirmed yet that none of the case's messages came from (seed
    000: it may be the client from a new address; after a denial, someone else in his
    name). The notice shows the sender and the evidence; nothing of the account goes there.
    `suspicious`: the case's sender is marked so already (the registered contact disowned a
    request of it, or its mail failed authentication): the second one in his name."""
    if suspicious:
        return Fact(
            "new_sender_suspicious",
            "an address not confirmed yet writes into this case in the client's name, and the "
            "case's sender is marked suspicious already (a request the registered contact "
            "disowned, or mail that failed authentication): tell it nothing of the account; "
            "check with the client at its registered contacts",
        )
    return Fact(
        "new_sender",
        "an address not confirmed yet writes into this case in the client's name: tell it "
        "nothing of the account until the registered contact confirms it",
    )


def follow_up_fact(said: str) -> Fact:
    """What a message that fired no rule of its own changed of the client's open case: the
    client wrote into it again ("any news?", "still broken", a detail), and whoever holds it
    reads it before answering."""
    return Fact(
        "follow_up", f"the client wrote again about the open case: «{said}»", {"said": said}
    )


def client_says_fixed_fact(
    said: str,
    escalation: object = "ID",
    promise_dropped: bool = False,
    owed: StillOwed | None = None,
) -> Fact:
    """What a message saying the problem is gone changed of the client's open case
    (client_fixed.py): a person checks and resolves it (the client may be wrong, so it
    stays open); `promise_dropped`: a promise to the client stood, and is no longer owed,
    nor a delay notice if it passes, unless the case `owed` more (client_fixed.still_owed):
    then it stands, and the holders read what it still owes, in the client's words."""
    values: dict[str, Any] = {"said": said, "escalation": str(escalation)}
    resolve = (
        f"check it and resolve the case: careline resolve {case_ref_said(escalation)} --note ..."
    )
    if promise_dropped and owed is not None:
        values |= {"owed": list(owed.matters), "words": [f"«{w}»" for w in owed.words]}
        words = f" ({', '.join(values['words'])})" if owed.words else ""
        return Fact(
            "client_says_fixed_owed",
            f"the client says it works now: «{said}»; the answer promised to the client is "
            f"still owed on {', '.join(owed.matters)}{words}: answer it by the date promised, "
            f"or record a new one: careline client-reply {case_ref_said(escalation)} "
            "[--new-date ...]",
            values,
        )
    if promise_dropped:
        return Fact(
            "client_says_fixed_promised",
            f"the client says the problem is gone: «{said}»; the answer promised to the client "
            f"is no longer owed (no delay notice goes to them); {resolve}",
            values,
        )
    return Fact(
        "client_says_fixed", f"the client says the problem is gone: «{said}»; {resolve}", values
    )


def promise_due_fact(automatic: bool = True, escalation: object = "ID") -> Fact:
    """Why the holders of an open escalation hear of it again before its promise is due;
    `automatic`: whether the client is told if it passes, or only a person can tell them.
    Both say how to record the answer or the new date, so Careline does not tell the client
    of a delay the team already dealt with."""
    # The reference people type, as the notice shows it (values keep the id itself).
    said = case_ref_said(escalation)
    record = f"record it: careline client-reply {said} [--new-date ...]"
    values = {"escalation": str(escalation)}
    if automatic:
        return Fact(
            "promise_due",
            "the answer promised to the client falls due: answer, or tell the client the new "
            "date before it passes; if it passes, the client is told of the delay "
            f"automatically; {record}",
            values,
        )
    return Fact(
        "promise_due_last",
        "the answer promised to the client falls due: answer, or tell the client the new "
        f"date before it passes; if it passes, nobody else tells them; {record}",
        values,
    )


def promise_missed_fact(new_date: bool, disowned: bool = False) -> Fact:
    """Why the holders hear of it when the promise to the client passed unkept: the client
    was told so first with a new date, or was not: the policy's new dates are used up, or
    (`disowned`) the registered contact disowned the request the promise answered."""
    if disowned:
        return Fact(
            "promise_missed_disowned",
            "the answer promised did not come in time: the client's registered contact "
            "disowned the request, so nobody is told of the delay automatically; check with "
            "the client at its registered contacts",
        )
    if new_date:
        return Fact(
            "promise_missed",
            "the answer promised to the client did not come in time: the client was told so "
            "and given a new date",
        )
    return Fact(
        "promise_missed_last",
        "the answer promised to the client did not come in time again: the client is not "
        "given another date automatically; only a person can answer them now",
    )


def change_facts(
    raised_from: str | None,
    severity: str,
    reopened: bool,
    news: Sequence[str] = (),
    writer: str = "client",
) -> list[Fact]:
    """What this message changed of an escalation already on file, told before the rule:
    reopened after resolution; the client wrote again with something new (or, `writer` says,
    a sender disowned for the client, or mail failing authentication, wrote it in the
    client's name: who_wrote); its severity raised by a graver rule of the same kind."""
    facts = []
    if reopened:
        facts.append(Fact("reopened", "reopened after resolution"))
    if news:
        facts.append(news_fact(", ".join(f"«{words}»" for words in news[:NEWS_SAID]), writer))
    if raised_from is not None:
        facts.append(
            Fact(
                "severity_raised",
                f"severity raised from {raised_from} to {severity}",
                {"from": raised_from, "to": severity},
            )
        )
    return facts


def news_fact(said: str, writer: str = "client") -> Fact:
    """Something new written into the case (`said`: the new words, quoted), by whom. A
    sender disowned for the client is not the client writing again (seed 000, taken back:
    the forger's next mail read "the client wrote again" beside the client's cases): nothing
    of the account goes to it, and nothing is done on its word."""
    values = {"new": said}
    if writer == "disowned":
        return Fact(
            "disowned_wrote",
            f"an address disowned for the client (by its registered contact or by staff) "
            f"wrote into this case in the client's name, with something new: {said}; these "
            "are not the client's words: tell the sender nothing of the account and change "
            "nothing on its word; check with the client at its registered contacts",
            values,
        )
    if writer == "suspicious":
        return Fact(
            "suspicious_wrote",
            f"mail in the client's name that failed authentication wrote into this case, with "
            f"something new: {said}; it may be forged: tell the sender nothing of the account "
            "and change nothing on its word; check with the client at its registered contacts",
            values,
        )
    return Fact("wrote_again", f"the client wrote again, with something new: {said}", values)


def identity_settled_fact(outcome: str, address: str | None, via: str | None) -> Fact:
    """What the confirmation of a probable sender came to (seed 000), for the people holding
    the escalations of the message that started it: only they can answer its question. The
    address is known when confirmed (a denial or an expiry names ids only on the bus: the
    holders' first notice has the sender)."""
    values = {"address": address or "", "via": via or ""}
    if outcome == "confirmed":
        return Fact(
            "identity_confirmed",
            f"the registered contact confirmed the sender's address {address} ({via}): it is "
            "the client's verified channel now, and any answer held for it went out; the check "
            "is closed: answer the client's question there",
            values,
        )
    if outcome == "denied":
        return Fact(
            "identity_denied",
            "the registered contact answered that the request was not theirs: any answer held "
            "for it was withdrawn; tell the sender nothing of the account and check with the "
            "client at its registered contacts",
            values,
        )
    return Fact(
        "identity_expired",
        "nobody confirmed the sender's address in time: any answer held for it was "
        "withdrawn, and the sender was promised an answer: reach the client at its "
        "registered contacts yourselves",
        values,
    )


def identity_unclear_fact(address: str, said: str, settled: str | None = None) -> Fact:
    """The registered contact answered the confirmation request for a sender's `address`
    with neither yes nor no («А кто это вообще?», "Call me about this"): the request stays
    pending, and only a person can settle it now. `said`: the start of what they wrote.
    `settled` "confirmed": they said yes before and say no now (words do not undo a yes:
    a person checks)."""
    if settled == "confirmed":
        return Fact(
            "identity_denied_late",
            f"the registered contact confirmed the sender's address {address} before, and now "
            f"answers that it was not them: «{said}»; the confirmation stands until a person "
            "checks: call them at the number on file (not one from the sender's messages), "
            "change no payment details, tell the sender nothing of the account meanwhile; if "
            "it was not them, take the confirmation back: careline crm revoke ADDRESS",
            {"address": address, "said": said},
        )
    return Fact(
        "identity_unclear",
        f"the registered contact answered the confirmation request for {address} without "
        f"confirming or denying it: «{said}»; the request stays pending: call them at the "
        "number on file (not one from the sender's messages) and ask whether this address "
        "writes for them; tell the sender nothing of the account meanwhile",
        {"address": address, "said": said},
    )

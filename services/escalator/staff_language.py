"""Which language each staff member reads, and a staff notice's words in it. Pure.

A staff notice is written in the language of whoever reads it (an acceptance run found the
account manager of a London client reading Russian notices): the policy's word first (a
role's `language`, `staff_languages` by address), then the CRM's record of the customer's
account manager (its `language`, when the CRM gives one), else the team's language.

What the escalator chooses by language travels in every language it has it: the rule's
playbooks (`playbooks`), a hold's reasons (`hold.reasons`), the policy's names for the
markers a condition found (`said_in`). A notice is said in its reader's language from those
(`in_language`) when it is made for one person, so a digest, a copy to another holder, a
climb or a reassignment each reads in its own reader's. Notices of before carry only the
team's words, and keep them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.contracts import Identity

from .lifecycle import Escalation, address_key
from .policy import Policy

# The note an identity escalation is resolved with when the registered contact confirms the
# sender (confirmations.py): staff read it in the fact pack's earlier escalations.
CONFIRMED_NOTE = {
    "ru": "владелец зарегистрированного контакта подтвердил адрес отправителя",
    "uk": "власник зареєстрованого контакту підтвердив адресу відправника",
    "en": "the registered contact confirmed the sender's address",
}
# The same note once staff took that confirmation back (revocations.py): the fact pack's
# earlier escalations must not go on saying the sender was confirmed.
REVOKED_NOTE = {
    "ru": "сотрудник отозвал подтверждение адреса отправителя: это не адрес клиента "
    "(зарегистрированный контакт подтверждал его раньше)",
    "uk": "співробітник відкликав підтвердження адреси відправника: це не адреса клієнта "
    "(зареєстрований контакт підтверджував її раніше)",
    "en": "staff took back the confirmation of the sender's address: it is not the client's "
    "(the registered contact had confirmed it)",
}


@dataclass(frozen=True)
class StaffLanguages:
    """The team's language, and those of the people who read another (by address key)."""

    team: str
    known: Mapping[str, str] = field(default_factory=dict)
    # The clocks of the people the CRM gives one (by address key): Emily Carter (London)
    # read her deadlines in MSK, the team's.
    zones: Mapping[str, str] = field(default_factory=dict)

    def of(self, address: str) -> str:
        """The language of the person at `address` (email, or webhook:NAME)."""
        return self.known.get(address_key(address), self.team)

    def zone_of(self, address: str) -> str | None:
        """The time zone the person at `address` works in; None: the team's."""
        return self.zones.get(address_key(address))


def on_their_clock(data: Mapping[str, Any], zone: str | None) -> dict[str, Any]:
    """A staff notice's data with its times to be written on its reader's clock
    (`reader_timezone`, which the notifier prefers to `team_timezone`), when they have one."""
    return {**data, "reader_timezone": zone} if zone else dict(data)


def staff_languages(policy: Policy, *account_managers: Mapping[str, Any] | None) -> StaffLanguages:
    """Who reads which language: the policy's word, else the CRM's for an account manager
    (`account_managers`: the CRM's records, with `email` and perhaps `language` and
    `timezone`), and the clocks the CRM gives."""
    known: dict[str, str] = {}
    zones: dict[str, str] = {}
    for manager in account_managers:
        if not manager or not manager.get("email"):
            continue
        key = address_key(str(manager["email"]))
        if manager.get("language"):
            known[key] = str(manager["language"])
        if manager.get("timezone"):
            zones[key] = str(manager["timezone"])
    return StaffLanguages(policy.team_language, {**known, **policy.languages_by_address}, zones)


def of_message(policy: Policy, identity: Identity) -> StaffLanguages:
    """Who reads which language among those a message's escalations tell."""
    manager = identity.account_manager
    deputy = manager.deputy if manager else None
    return staff_languages(
        policy, manager.model_dump() if manager else None, deputy.model_dump() if deputy else None
    )


def of_escalations(policy: Policy, *escalations: Escalation) -> StaffLanguages:
    """Who reads which language among the escalations' holders: the account manager's CRM
    record is the one the fact pack kept (facts.fact_pack)."""
    return staff_languages(policy, *(m for e in escalations for m in _staff_on_file(e.briefing)))


def _staff_on_file(briefing: Mapping[str, Any]) -> list[Mapping[str, Any] | None]:
    """The account manager's record the fact pack kept, and their deputy's (facts.py)."""
    crm = (briefing.get("fact_pack") or {}).get("crm") or {}
    return [
        m if isinstance(m, Mapping) else None
        for m in (crm.get("account_manager"), crm.get("deputy"))
    ]


def in_language(data: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A staff notice's data with what is chosen by language said in `language`: the
    playbook (and the client's, when the client writes another), the hold's reason, the
    markers' names in the conditions, the automatic resolution notes of the fact pack."""
    said = dict(data)
    playbooks = data.get("playbooks")
    if isinstance(playbooks, Mapping):
        client = data.get("client_language")
        said["playbook"] = playbooks.get(language, "")
        said["playbook_client"] = playbooks.get(client) if client != language else None
    if isinstance(data.get("hold"), Mapping):
        said["hold"] = hold_in(data["hold"], language)
    for key in ("condition_items", "change_items"):
        if data.get(key):
            said[key] = [_item_in(item, language) for item in data[key]]
    pack = data.get("fact_pack")
    if isinstance(pack, Mapping) and pack.get("previous_escalations"):
        previous = [_outcome_in(e, language) for e in pack["previous_escalations"]]
        said["fact_pack"] = {**pack, "previous_escalations": previous}
    return said


def hold_in(hold: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A hold as shown (facts.hold_view, or one of a client's standing holds), its reason in
    `language` when the rule wrote one in it (else as it is: the first the rule wrote)."""
    reasons = hold.get("reasons")
    if not isinstance(reasons, Mapping) or not reasons.get(language):
        return dict(hold)
    return {**hold, "reason": reasons[language]}


def _item_in(item: Any, language: str) -> Any:
    values = item.get("values") if isinstance(item, Mapping) else None
    if not isinstance(values, Mapping) or not isinstance(values.get("said_in"), Mapping):
        return item
    said = values["said_in"].get(language, values.get("said"))
    return {**item, "values": {**values, "said": said}}


def _outcome_in(escalation: Any, language: str) -> Any:
    if not isinstance(escalation, Mapping):
        return escalation
    for notes in (CONFIRMED_NOTE, REVOKED_NOTE):
        if escalation.get("outcome") in set(notes.values()):
            return {**escalation, "outcome": notes.get(language, notes["en"])}
    return escalation

"""An unacknowledged case of a client whose identity named the account manager's deputy
(the CRM's `deputy_id`) climbs to that person, at their own address, not to the policy's
shared deputy address; a client with none on file climbs to the shared address as before,
and a deputy a hold spares (a threat named them) is passed over for the next role."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from services.escalator.lifecycle import (
    Climb,
    Escalation,
    Notified,
    authorize,
    deputy_address,
    deputy_on_file,
    next_climb,
    role_address,
)
from services.escalator.notifications import rule_role_address
from services.escalator.staff_language import of_escalations
from shared.contracts import StaffRef
from tests.unit.test_escalation_lifecycle import AM, NOW, POLICY, escalation

pytestmark = pytest.mark.unit

IGOR = "i.sokolov@careline.example"
SHARED = "deputy.support@careline.example"  # the shipped policy's deputy address
HEAD = "head.support@careline.example"


def of_client(
    *notified: Notified,
    deputy: dict[str, Any] | None = None,
    hold: dict[str, Any] | None = None,
    level: int = 1,
) -> Escalation:
    """An escalation whose fact pack kept the CRM's deputy `deputy` (facts.fact_pack)."""
    crm: dict[str, Any] = {"customer": "ООО «СтройМонтаж»"}
    if deputy is not None:
        crm["deputy"] = deputy
    e = escalation(*notified, level=level)
    return dataclasses.replace(e, briefing={"fact_pack": {"crm": crm}}, hold=hold)


def igor(language: str = "uk") -> dict[str, Any]:
    return {"id": "am-sokolov", "name": "Игорь Соколов", "email": IGOR, "language": language}


def threats_hold(*spares: str, lifted: bool = False) -> dict[str, Any]:
    return {
        "rule": "violence-to-security",
        "spares": list(spares),
        **({"lifted_at": NOW.isoformat()} if lifted else {}),
    }


def test_the_managers_case_climbs_to_the_crms_deputy_at_their_own_address() -> None:
    e = of_client(AM, deputy=igor())

    climb = next_climb(POLICY, e)

    assert climb == Climb(2, ("deputy",), {"deputy": IGOR})
    assert role_address(POLICY, e, "deputy") == IGOR
    assert role_address(POLICY, e, "head_of_support") == HEAD
    # In the language the CRM says they read, as every notice to them (ru, uk, en).
    for language in ("ru", "uk", "en"):
        languages = of_escalations(POLICY, of_client(AM, deputy=igor(language)))
        assert languages.of(IGOR.upper()) == language


def test_the_deputy_told_at_the_climb_may_act_and_the_shared_address_may_not() -> None:
    told = Notified("deputy", IGOR, 2, "climb")
    e = of_client(AM, told, deputy=igor(), level=2)

    assert authorize(e, IGOR, "deputy") == told
    assert authorize(e, SHARED, None) is None
    assert next_climb(POLICY, e) == Climb(3, ("head_of_support",))


def test_without_a_deputy_on_file_the_case_climbs_to_the_policys_deputy_address() -> None:
    for e in (of_client(AM), escalation(AM), of_client(AM, deputy={"name": "без адреса"})):
        assert deputy_on_file(e) is None
        assert next_climb(POLICY, e) == Climb(2, ("deputy",))
        assert role_address(POLICY, e, "deputy") == SHARED


def test_a_deputy_the_hold_spares_is_passed_over_for_the_head_of_support() -> None:
    # «А вашему Игорю передайте, что я его найду»: the case's own hold spares him.
    # The head of support is told in his place: they read why (passed_over.py).
    in_his_place = Climb(3, ("head_of_support",), stand_ins=("head_of_support",))
    held = of_client(AM, deputy=igor(), hold=threats_hold("am-petrova", "am-sokolov"))
    assert next_climb(POLICY, held) == in_his_place
    # Or another case's hold of the client does (the sweeper reads the client's holds).
    other = of_client(AM, deputy=igor())
    assert next_climb(POLICY, other, spared={"am-sokolov"}) == in_his_place
    # A spared deputy is not the address of the role either: reassigning to it names the
    # shared address, not the person threatened.
    assert role_address(POLICY, held, "deputy") == SHARED


def test_a_lifted_hold_or_one_sparing_only_the_manager_passes_nobody_over() -> None:
    lifted = of_client(AM, deputy=igor(), hold=threats_hold("am-sokolov", lifted=True))
    manager_only = of_client(AM, deputy=igor(), hold=threats_hold("am-petrova"))
    # A deputy kept without an id (before ids were) cannot be told spared.
    no_id = of_client(AM, deputy={k: v for k, v in igor().items() if k != "id"})

    for e in (lifted, manager_only, no_id):
        assert next_climb(POLICY, e, spared={"am-petrova"}) == Climb(
            2, ("deputy",), {"deputy": IGOR}
        )


def test_a_rules_own_deputy_role_and_its_later_level_go_to_the_crms_deputy() -> None:
    manager = StaffRef(
        id="am-petrova",
        name="Ольга Петрова",
        email="o.petrova@careline.example",
        deputy=StaffRef(id="am-sokolov", name="Игорь Соколов", email=IGOR, language="ru"),
    )
    assert rule_role_address(POLICY, "deputy", manager) == IGOR
    assert rule_role_address(POLICY, "deputy", manager, {"am-sokolov"}) == SHARED
    assert rule_role_address(POLICY, "deputy", None) == SHARED
    assert rule_role_address(POLICY, "legal", manager) == POLICY.address("legal")
    # A rule naming the deputy for level 2 (planned at opening) keeps its address; a hold
    # sparing the deputy by the time it climbs passes over it.
    planned = (Notified("deputy", IGOR, 2),)
    legal = Notified("legal", POLICY.address("legal"), 1)
    e = dataclasses.replace(of_client(legal, deputy=igor()), planned=planned)
    assert next_climb(POLICY, e) == Climb(2, ("head_of_support", "deputy"), {"deputy": IGOR})
    spared = dataclasses.replace(e, hold=threats_hold("am-sokolov"))
    assert next_climb(POLICY, spared) == Climb(2, ("head_of_support",))


@pytest.mark.parametrize(
    ("deputy_id", "deputy_email", "spared", "fallback", "told"),
    [
        ("am-sokolov", IGOR, (), SHARED, IGOR),  # the CRM's deputy, at their own address
        ("am-sokolov", IGOR, {"am-petrova"}, SHARED, IGOR),  # only the manager threatened
        ("am-sokolov", IGOR, {"am-sokolov"}, SHARED, SHARED),  # threatened: not told
        ("am-sokolov", IGOR, {"am-sokolov"}, None, None),  # and no shared address either
        (None, IGOR, {"am-sokolov"}, SHARED, IGOR),  # kept before ids: cannot be spared
        ("am-sokolov", None, (), SHARED, SHARED),  # no address on file
        (None, None, (), None, None),  # no deputy, no shared address
    ],
)
def test_the_deputys_address_is_their_own_unless_threatened_else_the_fallback(
    deputy_id: str | None,
    deputy_email: str | None,
    spared: set[str],
    fallback: str | None,
    told: str | None,
) -> None:
    assert deputy_address(deputy_id, deputy_email, spared, fallback) == told


def test_the_identitys_deputy_and_the_fact_packs_are_told_at_the_same_address() -> None:
    # The rule's roles read the identity's StaffRef, the climbs the fact pack's crm.deputy:
    # the same person, the same threats, the same address.
    deputy = StaffRef(id="am-sokolov", name="Игорь Соколов", email=IGOR, language="ru")
    manager = StaffRef(
        id="am-petrova", name="Ольга Петрова", email="o.petrova@careline.example", deputy=deputy
    )
    for spared in ((), {"am-petrova"}, {"am-sokolov"}):
        assert rule_role_address(POLICY, "deputy", manager, spared) == role_address(
            POLICY, of_client(AM, deputy=igor()), "deputy", spared
        )


@pytest.mark.parametrize(
    ("deputy", "hold", "spared"),
    [
        (igor(), None, ()),  # the CRM's deputy, at their own address
        (igor(), threats_hold("am-petrova"), ()),  # only the manager threatened
        (igor(), threats_hold("am-sokolov", lifted=True), ()),  # a hold lifted spares nobody
        ({k: v for k, v in igor().items() if k != "id"}, None, {"am-sokolov"}),  # no id kept
        ({"name": "без адреса"}, None, ()),  # no address on file: the shared one
        (None, None, ()),  # no deputy on file
    ],
)
def test_a_climb_tells_the_deputy_where_every_other_telling_of_the_role_does(
    deputy: dict[str, Any] | None, hold: dict[str, Any] | None, spared: set[str]
) -> None:
    # One decision of the deputy's address (deputy_address): the climb's own addresses,
    # else the role's (as the sweeper tells them), are what a reassignment to the role says.
    e = of_client(AM, deputy=deputy, hold=hold)
    climb = next_climb(POLICY, e, spared)
    assert climb is not None and "deputy" in climb.roles
    told = climb.addresses.get("deputy") or role_address(POLICY, e, "deputy", spared)
    assert told == role_address(POLICY, e, "deputy", spared)
    on_file = deputy_on_file(e)
    if on_file is None:
        assert "deputy" not in climb.addresses and told == SHARED
    else:
        assert told == deputy_address(on_file.get("id"), on_file["email"], spared, SHARED)

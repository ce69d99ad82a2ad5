"""decide_identity: who is speaking, how sure we are, and what a reply may disclose."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.verifier.adapters import decision_row
from services.verifier.domain import (
    Candidate,
    ChannelMatch,
    Claims,
    CustomerFacts,
    PersonOnFile,
    decide_identity,
    email_domain,
    free_mail_domains,
    is_corporate,
)
from services.verifier.settings import EvidenceWeights, VerifierSettings
from shared.contracts import AuthResults, ChannelRef, CustomerRef, Identity, StaffRef

pytestmark = pytest.mark.unit

WEIGHTS = EvidenceWeights()
THRESHOLD = 0.4
PASS = AuthResults(spf="pass", dkim="pass", dmarc="pass")


# --- helpers -------------------------------------------------------------------------


def facts(
    customer_id: str = "cust-stroymontazh",
    name: str = "ООО «СтройМонтаж»",
    manager: str | None = "o.petrova@careline.example",
    channels: tuple[tuple[str, str], ...] = (
        ("email", "buh@stroymontazh.ru"),
        ("phone", "+74951234567"),
    ),
    tier: str = "gold",
) -> CustomerFacts:
    return CustomerFacts(
        customer=CustomerRef(id=customer_id, name=name, tier=tier),
        account_manager=(
            StaffRef(id=f"am-of-{customer_id}", name="Ольга Петрова", email=manager)
            if manager
            else None
        ),
        authorized_channels=tuple(
            ChannelRef(kind=kind, address=address, verified=True)  # type: ignore[arg-type]
            for kind, address in channels
        ),
    )


FACTS = {
    "cust-stroymontazh": facts(),
    "cust-alfa-stroy": facts(
        "cust-alfa-stroy", "АО «Альфа-Строй»", channels=(("email", "orlov@alfa-group.ru"),)
    ),
    "cust-alfa-trade": facts(
        "cust-alfa-trade",
        "ООО «Альфа-Трейд»",
        manager="t.kovalenko@careline.example",
        channels=(),
    ),
}


def match(
    customer_id: str = "cust-stroymontazh",
    kind: str = "email",
    verified: bool = True,
    contact_id: str = "ct-kovaleva",
    contact_name: str = "Марина Ковалёва",
) -> ChannelMatch:
    return ChannelMatch(customer_id, contact_id, contact_name, kind, verified)


def decide(
    candidate: Candidate,
    auth: AuthResults = PASS,
    weights: EvidenceWeights = WEIGHTS,
    threshold: float = THRESHOLD,
    customer_facts: dict[str, CustomerFacts] | None = None,
) -> Identity:
    return decide_identity(
        candidate, auth, FACTS if customer_facts is None else customer_facts, weights, threshold
    )


def by_known_address(verified: bool = True) -> Candidate:
    return Candidate(
        channel_matches=(match(verified=verified),),
        domain="stroymontazh.ru",
        domain_customers=("cust-stroymontazh",),
    )


def by_domain(*customers: str, domain: str = "stroymontazh.ru") -> Candidate:
    return Candidate(domain=domain, domain_customers=customers)


def kinds(identity: Identity) -> list[str]:
    return [e.kind for e in identity.evidence]


# --- the ladder ----------------------------------------------------------------------


def test_verified_channel_is_verified_with_account_disclosure() -> None:
    identity = decide(by_known_address(verified=True))

    assert identity.status == "verified"
    assert identity.disclosure == "account"
    assert identity.confidence == WEIGHTS.verified_channel
    assert identity.customer is not None and identity.customer.id == "cust-stroymontazh"
    assert identity.contact is not None and identity.contact.id == "ct-kovaleva"
    assert identity.account_manager is not None
    assert identity.account_manager.email == "o.petrova@careline.example"
    assert kinds(identity) == ["verified_channel"]
    assert identity.evidence[0].source == "sender.email"


def test_unverified_channel_on_file_is_probable_with_general_disclosure() -> None:
    identity = decide(by_known_address(verified=False))

    assert identity.status == "probable"
    assert identity.disclosure == "general"
    # The channel on file and the corporate domain of the same customer add up.
    assert identity.confidence == pytest.approx(
        1 - (1 - WEIGHTS.unverified_channel) * (1 - WEIGHTS.corporate_domain)
    )
    assert identity.customer is not None and identity.customer.id == "cust-stroymontazh"
    assert kinds(identity) == ["unverified_channel", "corporate_domain"]


def test_a_verified_channel_wins_over_an_unverified_one_of_the_same_customer() -> None:
    candidate = Candidate(
        channel_matches=(
            match(kind="handle", verified=False),
            match(kind="phone", verified=True),
        )
    )
    identity = decide(candidate)

    assert identity.status == "verified"
    assert identity.evidence[0].source == "sender.phone"


def test_a_verified_phone_is_enough_without_any_email() -> None:
    identity = decide(Candidate(channel_matches=(match(kind="phone"),)))

    assert identity.status == "verified"
    assert identity.disclosure == "account"


@pytest.mark.parametrize(
    "auth",
    [
        AuthResults(spf="pass", dkim="pass", dmarc="fail"),
        AuthResults(spf="fail", dkim="none", dmarc="none"),
        AuthResults(spf="fail", dkim="pass", dmarc="none"),
        AuthResults(spf="fail", dkim="none", dmarc="fail"),
    ],
    ids=["dmarc-fail", "spf-fail-no-dmarc", "spf-fail-dkim-unaligned", "both-fail"],
)
@pytest.mark.parametrize("verified", [True, False], ids=["verified", "unverified"])
def test_known_address_failing_authentication_is_suspicious(
    auth: AuthResults, verified: bool
) -> None:
    identity = decide(by_known_address(verified=verified), auth=auth)

    assert identity.status == "suspicious"
    assert identity.disclosure == "none"
    assert identity.confidence == WEIGHTS.failed_authentication
    failed = identity.evidence[-1]
    assert failed.kind == "authentication_failed"
    assert failed.source == "email.Authentication-Results"
    for name in ("dmarc", "spf"):
        assert (name.upper() in failed.detail) == (getattr(auth, name) == "fail")
    # The contributions add up to the confidence the identity ends with.
    assert sum(e.weight for e in identity.evidence) == pytest.approx(identity.confidence)


@pytest.mark.parametrize(
    "auth",
    [
        AuthResults(),
        AuthResults(spf="softfail", dkim="none", dmarc="none"),
        AuthResults(spf="pass", dkim="fail", dmarc="pass"),
        # Forwarded: the forwarder's server is not in the envelope domain's SPF, but the
        # client's aligned DKIM signature survived, and DMARC passed on it.
        AuthResults(spf="fail", dkim="pass", dmarc="pass"),
    ],
    ids=["no-results", "spf-softfail", "dkim-fail-only", "forwarded-dmarc-pass"],
)
def test_only_a_hard_spf_or_dmarc_failure_makes_a_known_address_suspicious(
    auth: AuthResults,
) -> None:
    assert decide(by_known_address(verified=True), auth=auth).status == "verified"


def test_email_authentication_says_nothing_about_a_phone_match() -> None:
    candidate = Candidate(channel_matches=(match(kind="phone"),))
    identity = decide(candidate, auth=AuthResults(spf="fail", dmarc="fail"))

    assert identity.status == "verified"


def test_channels_of_two_customers_are_a_conflict_never_a_guess() -> None:
    candidate = Candidate(
        channel_matches=(
            match("cust-alfa-stroy", contact_id="ct-orlov", contact_name="Игорь Орлов"),
            match("cust-alfa-trade", verified=False, contact_id="ct-belova", contact_name="Белова"),
        ),
        domain="alfa-group.ru",
        domain_customers=("cust-alfa-stroy", "cust-alfa-trade"),
    )
    identity = decide(candidate)

    assert identity.status == "conflict"
    assert identity.confidence == 0.0
    assert identity.disclosure == "none"
    assert identity.customer is None
    assert identity.account_manager is None
    assert identity.authorized_channels == []
    details = " ".join(e.detail for e in identity.evidence)
    assert "cust-alfa-stroy" in details and "cust-alfa-trade" in details


def test_corporate_domain_of_one_customer_is_probable_with_manager_and_registered_channels() -> (
    None
):
    identity = decide(by_domain("cust-stroymontazh"))

    assert identity.status == "probable"
    assert identity.disclosure == "general"
    assert identity.confidence == WEIGHTS.corporate_domain
    assert identity.customer is not None and identity.customer.id == "cust-stroymontazh"
    assert identity.contact is None  # the address itself is not on file
    assert identity.account_manager is not None
    assert identity.account_manager.email == "o.petrova@careline.example"
    assert [(c.kind, c.address, c.verified) for c in identity.authorized_channels] == [
        ("email", "buh@stroymontazh.ru", True),
        ("phone", "+74951234567", True),
    ]
    assert kinds(identity) == ["corporate_domain"]
    assert "stroymontazh.ru" in identity.evidence[0].detail
    assert identity.evidence[0].source == "sender.email"


def test_corporate_domain_shared_by_two_customers_is_a_conflict() -> None:
    identity = decide(by_domain("cust-alfa-stroy", "cust-alfa-trade", domain="alfa-group.ru"))

    assert identity.status == "conflict"
    assert identity.disclosure == "none"
    assert identity.customer is None
    assert identity.authorized_channels == []
    assert kinds(identity) == ["corporate_domain", "corporate_domain"]


FREE_MAIL = ["gmail.com", "mail.ru", "yandex.ru", "ukr.net", "i.ua", "outlook.com"]


@pytest.mark.parametrize("domain", FREE_MAIL)
def test_free_mail_domain_never_counts_as_corporate_even_if_a_customer_lists_it(
    domain: str,
) -> None:
    assert domain in free_mail_domains()
    assert not is_corporate(domain)

    identity = decide(by_domain("cust-stroymontazh", domain=domain))

    assert identity.status == "unknown"
    assert identity.disclosure == "none"
    assert identity.customer is None
    assert kinds(identity) == ["free_mail_domain"]
    assert identity.evidence[0].weight == 0.0


def test_a_known_free_mail_address_is_still_recognised_by_the_address_itself() -> None:
    candidate = Candidate(
        channel_matches=(match("cust-smmpro", contact_id="ct-lebedev", contact_name="Лебедев"),),
        domain="gmail.com",
        domain_customers=("cust-smmpro",),
    )
    identity = decide(candidate, customer_facts={"cust-smmpro": facts("cust-smmpro", "SMM Pro")})

    assert identity.status == "verified"


@pytest.mark.parametrize(
    "candidate",
    [Candidate(), Candidate(domain="unknown-company.example", domain_customers=())],
    ids=["no-identifiers", "corporate-domain-of-nobody"],
)
def test_nothing_on_file_is_unknown(candidate: Candidate) -> None:
    identity = decide(candidate)

    assert identity.status == "unknown"
    assert identity.confidence == 0.0
    assert identity.disclosure == "none"
    assert identity.customer is None
    assert identity.evidence, "an unknown sender still gets a reason"


SCENARIOS = {
    "verified": by_known_address(True),
    "probable-channel": by_known_address(False),
    "suspicious": by_known_address(True),
    "conflict-channels": Candidate(
        channel_matches=(match("cust-alfa-stroy"), match("cust-alfa-trade"))
    ),
    "probable-domain": by_domain("cust-stroymontazh"),
    "conflict-domain": by_domain("cust-alfa-stroy", "cust-alfa-trade", domain="alfa-group.ru"),
    "free-mail": by_domain(domain="gmail.com"),
    "nothing": Candidate(),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_decision_carries_evidence_with_weight_and_source(name: str) -> None:
    auth = AuthResults(dmarc="fail") if name == "suspicious" else PASS
    identity = decide(SCENARIOS[name], auth=auth)

    assert identity.evidence
    for evidence in identity.evidence:
        assert isinstance(evidence.weight, float)
        assert evidence.source
        assert evidence.kind
        assert evidence.detail


# --- the CRM's names beside the ids, for the people who read the evidence ----------


def test_evidence_values_carry_the_contact_and_customer_names_beside_their_ids() -> None:
    sokolov = PersonOnFile("cust-stroymontazh", "ct-sokolov", "Андрей Соколов")
    candidate = Candidate(
        channel_matches=(match(verified=False),),
        domain="stroymontazh.ru",
        domain_customers=("cust-stroymontazh",),
        people=(sokolov,),
        claims=Claims(signature_lines=("Андрей Соколов",)),
    )

    identity = decide(candidate)

    values = {e.kind: e.values for e in identity.evidence}
    assert values["unverified_channel"] == {
        "channel": "email",
        "contact_id": "ct-kovaleva",
        "contact_name": "Марина Ковалёва",
        "customer_id": "cust-stroymontazh",
        "customer_name": "ООО «СтройМонтаж»",
    }
    assert values["corporate_domain"]["customer_id"] == "cust-stroymontazh"
    assert values["corporate_domain"]["customer_name"] == "ООО «СтройМонтаж»"
    assert "contact_name" not in values["corporate_domain"]  # it names no contact
    assert values["signature_name"]["contact_id"] == "ct-sokolov"
    assert values["signature_name"]["contact_name"] == "Андрей Соколов"
    assert values["signature_name"]["customer_name"] == "ООО «СтройМонтаж»"
    # The detail stays the verifier's account with ids (the reason, the timeline, the CLI).
    for e in identity.evidence:
        assert "СтройМонтаж" not in e.detail and "Соколов" not in e.detail, e.kind


def test_a_name_the_crm_does_not_have_is_left_out_and_the_id_stays() -> None:
    nameless = Candidate(channel_matches=(match(contact_name=""),))

    identity = decide(nameless, customer_facts={})  # nor facts of the customer

    assert identity.evidence[0].values == {
        "channel": "email",
        "contact_id": "ct-kovaleva",
        "customer_id": "cust-stroymontazh",
    }


def test_the_recorded_decision_names_the_contact_and_customer_by_id_only() -> None:
    identity = decide(by_known_address())

    row = decision_row("m-1", identity, datetime(2025, 3, 14, tzinfo=UTC))

    assert identity.evidence[0].values["contact_name"] == "Марина Ковалёва"
    assert row["evidence"][0]["values"] == {
        "channel": "email",
        "contact_id": "ct-kovaleva",
        "customer_id": "cust-stroymontazh",
    }


# --- weights and threshold are configuration ---------------------------------------


def test_the_corporate_domain_weight_decides_whether_a_domain_is_enough() -> None:
    weak = WEIGHTS.model_copy(update={"corporate_domain": 0.3})

    assert decide(by_domain("cust-stroymontazh")).status == "probable"
    identity = decide(by_domain("cust-stroymontazh"), weights=weak)
    assert identity.status == "unknown"
    assert identity.customer is None
    # The domain evidence is kept, with the configured weight, so staff see why.
    assert [(e.kind, e.weight) for e in identity.evidence] == [("corporate_domain", 0.3)]


def test_a_higher_probable_threshold_makes_a_domain_match_unknown() -> None:
    assert decide(by_domain("cust-stroymontazh"), threshold=0.5).status == "probable"
    assert decide(by_domain("cust-stroymontazh"), threshold=0.51).status == "unknown"


def test_confidence_and_evidence_weights_follow_the_configuration() -> None:
    weights = EvidenceWeights(
        verified_channel=0.8,
        unverified_channel=0.45,
        corporate_domain=0.55,
        failed_authentication=0.1,
    )

    verified = decide(by_known_address(True), weights=weights)
    probable = decide(by_known_address(False), weights=weights)
    domain = decide(by_domain("cust-stroymontazh"), weights=weights)
    spoofed = decide(by_known_address(True), weights=weights, auth=AuthResults(dmarc="fail"))

    assert (verified.confidence, verified.evidence[0].weight) == (0.8, 0.8)
    assert probable.evidence[0].weight == 0.45
    assert probable.confidence == pytest.approx(1 - (1 - 0.45) * (1 - 0.55))
    assert (domain.confidence, domain.evidence[0].weight) == (0.55, 0.55)
    assert spoofed.confidence == 0.1
    assert sum(e.weight for e in spoofed.evidence) == pytest.approx(0.1)


def test_verifier_settings_default_to_the_evidence_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("VERIFIER_WEIGHTS", "VERIFIER_WEIGHTS__CORPORATE_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("VERIFIER_PROBABLE_THRESHOLD", raising=False)
    settings = VerifierSettings()

    assert settings.weights == EvidenceWeights()
    assert settings.probable_threshold == THRESHOLD
    assert EvidenceWeights().corporate_domain >= settings.probable_threshold


def test_weights_and_threshold_configured_in_the_environment_change_the_decision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VERIFIER_WEIGHTS__CORPORATE_DOMAIN", "0.35")
    monkeypatch.setenv("VERIFIER_PROBABLE_THRESHOLD", "0.3")
    settings = VerifierSettings()
    assert settings.weights.corporate_domain == 0.35

    identity = decide(
        by_domain("cust-stroymontazh"),
        weights=settings.weights,
        threshold=settings.probable_threshold,
    )
    assert (identity.status, identity.confidence) == ("probable", 0.35)

    monkeypatch.setenv("VERIFIER_PROBABLE_THRESHOLD", "0.5")
    stricter = VerifierSettings()
    identity = decide(
        by_domain("cust-stroymontazh"),
        weights=stricter.weights,
        threshold=stricter.probable_threshold,
    )
    assert identity.status == "unknown"


# --- helpers of the domain module --------------------------------------------------


@pytest.mark.parametrize(
    ("address", "domain"),
    [
        ("Buh@StroyMontazh.RU", "stroymontazh.ru"),
        ("a@b@kvitka.ua", "kvitka.ua"),
        ("no-at-sign", None),
        (None, None),
        ("", None),
    ],
)
def test_email_domain(address: str | None, domain: str | None) -> None:
    assert email_domain(address) == domain


@pytest.mark.parametrize("domain", ["stroymontazh.ru", "kvitka.ua", "northwind-logistics.com"])
def test_company_domains_are_corporate(domain: str) -> None:
    assert is_corporate(domain)


def test_no_domain_is_not_corporate() -> None:
    assert not is_corporate(None)
    assert not is_corporate("")

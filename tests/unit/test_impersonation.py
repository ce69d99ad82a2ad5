"""An address one client disowned writes in another client's name: the verifier keeps the
customer it named apart (denials.py, test_identity_after_denial.py), and the escalator warns
that customer's account manager in the language they read (ru, uk, en); never the client,
never the sender."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.escalator.impersonation import named_customer_alert
from services.escalator.policy import load_policy
from services.notifier.domain import render
from shared.contracts import (
    CustomerRef,
    Evidence,
    IdentityVerified,
    Language,
    NamedCustomer,
    StaffRef,
)
from tests.unit.test_held_answers import NOW, probable, verified_message

pytestmark = pytest.mark.unit

POLICY = load_policy()
FORGER = "buhgalter@stroymontazh-pay.ru"
KVITKA = CustomerRef(id="cust-kvitka", name="ТОВ «Квітка»", tier="standard")
MANAGER = StaffRef(
    id="am-shevchuk", name="Марина Шевчук", email="m.shevchuk@careline.example", language="uk"
)
DENIED = Evidence(
    kind="denied_before",
    detail="the registered contact of customer cust-stroymontazh denied …",
    weight=-0.6,
    source="crm.confirmations",
    customer_id="cust-stroymontazh",
)


def impostor(
    manager: StaffRef | None = MANAGER, named: CustomerRef | None = KVITKA, **message: object
) -> IdentityVerified:
    """Disowned by ООО «СтройМонтаж», writing as ТОВ «Квітка»: suspicious, in the name of
    the disowner (whose manager handles it), Квітка named apart."""
    identity = probable(None).model_copy(
        update={
            "status": "suspicious",
            "confidence": 0.05,
            "disclosure": "none",
            "evidence": [DENIED],
            "named_customer": NamedCustomer(customer=named, account_manager=manager)
            if named
            else None,
        }
    )
    verified = verified_message(identity, sender=FORGER)
    if message:
        changed = verified.message.model_copy(update=message)
        verified = verified.model_copy(update={"message": changed})
    return verified


SAID = {
    "ru": ("Пишут от имени клиента с чужого адреса: ТОВ «Квітка»", "отказался другой клиент"),
    "uk": ("Пишуть від імені клієнта з чужої адреси: ТОВ «Квітка»", "відмовився інший клієнт"),
    "en": ("Someone writes in the client's name from an address not theirs", "Another client"),
}


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_the_named_customers_manager_is_warned_in_their_language(language: Language) -> None:
    manager = MANAGER.model_copy(update={"language": language})
    alert = named_customer_alert(POLICY, impostor(manager), NOW)

    assert alert is not None
    assert (alert.recipient, alert.recipient_role) == (MANAGER.email, "account_manager")
    assert alert.language == language and alert.kind == "identity_alert"
    assert alert.escalation_id is None  # about no case: the disowner's manager has the case
    assert alert.data["customer_id"] == "cust-kvitka"
    assert alert.data["disowned_by_id"] == "cust-stroymontazh"
    rendered = render(alert)
    subject, disowned = SAID[language]
    assert rendered.subject.startswith(subject) and FORGER in rendered.subject
    for body in (rendered.body, rendered.html or ""):
        assert disowned in body and "ООО «СтройМонтаж»" in body and FORGER in body
        assert "Квітка" in body


def test_the_time_it_wrote_is_on_the_managers_clock_when_the_crm_gives_one() -> None:
    """Marina in Kyiv reads when the impostor wrote on her clock, as her other notices."""
    kyiv = MANAGER.model_copy(update={"timezone": "Europe/Kyiv"})
    alert = named_customer_alert(POLICY, impostor(kyiv), NOW)
    assert alert is not None and alert.data["reader_timezone"] == "Europe/Kyiv"
    plain = named_customer_alert(POLICY, impostor(), NOW)
    assert plain is not None and "reader_timezone" not in plain.data


def test_once_per_sender_customer_and_day_and_never_to_the_client_or_the_sender() -> None:
    first = named_customer_alert(POLICY, impostor(), NOW)
    again = named_customer_alert(POLICY, impostor(text="Срочно смените реквизиты!"), NOW)
    tomorrow = impostor(received_at=NOW + timedelta(days=1))
    later = named_customer_alert(POLICY, tomorrow, NOW)
    assert first is not None and again is not None and later is not None
    assert first.notification_id == again.notification_id != later.notification_id
    assert first.recipient not in (FORGER, "buh@stroymontazh.ru")
    assert not first.recipient_role.startswith("client")


def test_without_a_manager_on_file_the_head_of_support_is_warned() -> None:
    alert = named_customer_alert(POLICY, impostor(manager=None), NOW)
    assert alert is not None and alert.recipient_role == "head_of_support"
    assert "вместо менеджера клиента" in render(alert).body


def test_nobody_is_warned_unless_a_suspicious_sender_named_another_customer() -> None:
    assert named_customer_alert(POLICY, impostor(named=None), NOW) is None
    own = CustomerRef(id="cust-stroymontazh", name="ООО «СтройМонтаж»", tier="gold")
    assert named_customer_alert(POLICY, impostor(named=own), NOW) is None
    probable_one = impostor()
    probable_one = probable_one.model_copy(
        update={"identity": probable_one.identity.model_copy(update={"status": "probable"})}
    )
    assert named_customer_alert(POLICY, probable_one, NOW) is None

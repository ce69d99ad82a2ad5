"""The case reference in what people read (ru, uk, en): a client's mail says `CL-XXXX-XXXX`
and never the escalation's UUID; a staff notice names the escalation by its reference and
keeps the full id in one small line at its end (logs, traces, the database know the id)."""

from __future__ import annotations

import re

import pytest

from services.notifier.domain import render_kind
from services.notifier.samples import ESCALATION_ID, SAMPLES
from shared.case_ref import case_ref

pytestmark = pytest.mark.unit

LANGUAGES = ("ru", "uk", "en")
REF = case_ref(ESCALATION_ID)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# The client's mails that name their case, and what each language calls the number.
CLIENT_KINDS = (
    "service_failure_notice",
    "billing_dispute_ack",
    "promise_delay_notice",
    "conduct_notice",
)
SAID = {"ru": "Номер обращения", "uk": "Номер звернення", "en": "Reference"}
STAFF_KINDS = ("manager_escalation", "legal_notice", "re_escalation")
ESCALATION = {"ru": "скалаци", "uk": "скалаці", "en": "scalation"}  # any case, any ending
FULL_ID = {"ru": "Полный идентификатор", "uk": "Повний ідентифікатор", "en": "Full id"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_a_client_mail_says_the_reference_and_no_uuid(kind: str, language: str) -> None:
    data = {**SAMPLES[kind], "escalation_id": ESCALATION_ID}

    mail = render_kind(kind, language, data)

    assert f"{SAID[language]}: {REF}" in mail.body
    assert mail.html is not None and f"{SAID[language]}:</strong> {REF}" in mail.html
    for part in (mail.subject, mail.body, mail.html):
        assert not UUID.search(part), (kind, language, UUID.search(part))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_client_digest_says_each_cases_reference_and_no_uuid(language: str) -> None:
    digest = SAMPLES["client_digest"]
    refs = [case_ref(part["escalation_id"]) for part in digest["parts"]]

    mail = render_kind("client_digest", language, digest)

    assert len(set(refs)) == len(refs) > 1
    for ref in refs:
        assert mail.body.count(ref) == 1 and mail.html and mail.html.count(ref) == 1
    for part in (mail.subject, mail.body, mail.html or ""):
        assert not UUID.search(part)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", STAFF_KINDS)
def test_a_staff_notice_names_the_reference_and_ends_with_the_full_id(
    kind: str, language: str
) -> None:
    notice = render_kind(kind, language, SAMPLES[kind])

    first = notice.body.splitlines()[0]  # "Эскалация CL-…, правило …"
    assert ESCALATION[language] in first and REF in first
    assert ESCALATION_ID not in first
    # The id once, last, labelled: for ops and traces, out of the reader's way.
    assert notice.body.count(ESCALATION_ID) == 1
    assert notice.body.rstrip().splitlines()[-1] == f"{FULL_ID[language]}: {ESCALATION_ID}"
    assert notice.html is not None and REF in notice.html
    assert f"{FULL_ID[language]}: <code>{ESCALATION_ID}</code>" in notice.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_staff_digest_names_each_escalation_by_its_reference(language: str) -> None:
    digest = SAMPLES["staff_digest"]

    notice = render_kind("staff_digest", language, digest)

    for item in digest["escalations"]:
        ref, full = case_ref(item["escalation_id"]), str(item["escalation_id"])
        assert re.search(rf"^\S*{ESCALATION[language]}\S* {ref}, ", notice.body, re.M | re.I)
        assert f"{FULL_ID[language]}: {full}" in notice.body
        assert notice.html is not None and ref in notice.html and full in notice.html


def test_a_number_that_is_not_an_id_is_shown_as_it_is() -> None:
    # A hand-made request (a webhook test, an operator's resend): the mail still goes.
    data = {**SAMPLES["billing_dispute_ack"], "escalation_id": "e-9"}

    mail = render_kind("billing_dispute_ack", "en", data)

    assert "Reference: e-9" in mail.body

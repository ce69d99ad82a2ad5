"""Notifier domain: rendering in the client's language, the disclosure guard, the email."""

from __future__ import annotations

import email
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any, get_args

import pytest
from jinja2 import UndefinedError

from services.notifier import domain
from services.notifier.domain import (
    DisclosureRefused,
    check_disclosure,
    notification_message_id,
    render,
)
from services.notifier.mime import Unsubscribe, build_email
from services.notifier.samples import SAMPLES
from shared.case_ref import case_ref
from shared.contracts import (
    IdentityStatus,
    Language,
    NotificationKind,
    SendNotification,
    derived_id,
)
from tests.unit import test_identity_cases as identity_cases

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
ESCALATION = derived_id("escalation", "customer:cust-stroymontazh", "legal", "m-1")
MAIL_FROM = "Careline <support@careline.example>"
KINDS: tuple[NotificationKind, ...] = (
    "identity_confirmation",
    "unknown_sender_explanation",
    "stranger_explanation",
    "manager_escalation",
    "service_failure_notice",
    "billing_dispute_ack",
    "legal_notice",
    "re_escalation",
    "staff_digest",
)
CLIENT_KINDS = (
    "identity_confirmation",
    "unknown_sender_explanation",
    "stranger_explanation",
    "service_failure_notice",
    "billing_dispute_ack",
)
LANGUAGES: tuple[Language, ...] = ("ru", "uk", "en")

DATA: dict[str, dict[str, Any]] = {
    "identity_confirmation": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Приостановка CRM",
        "received_at": NOW.isoformat(),
        "channel": "email",
        "escalation_id": str(ESCALATION),
        "files_under": "Андрей Соколов",
    },
    "unknown_sender_explanation": {"subject": "Приостановка CRM"},
    "stranger_explanation": {"subject": "Приостановка CRM"},
    "manager_escalation": {
        "severity": "P2",
        "kind": "legal",
        "rule": "legal-threat-to-legal",
        "reason": "rule legal-threat-to-legal: legal_threat 0.90 («подам в суд»)",
        "ack_deadline": "2025-03-14T10:30:00+00:00",
        "customer": "ООО «СтройМонтаж»",
        "customer_id": "cust-stroymontazh",
        "identity_status": "probable",
        "identity_confidence": 0.5,
        "identity_evidence": ["sender's domain stroymontazh.ru is the corporate domain"],
        "signals": [{"name": "legal_threat", "score": 0.9, "words": ["подам в суд"]}],
        "playbook": "Не спорить. Собрать факты, передать юристам.",
        "channel": "email",
        "subject": "Приостановка CRM",
        "escalation_id": str(ESCALATION),
    },
}
DATA["service_failure_notice"] = {
    **SAMPLES["service_failure_notice"],
    "subject": "Приостановка CRM",
    "escalation_id": str(ESCALATION),
}
DATA["billing_dispute_ack"] = {**SAMPLES["billing_dispute_ack"], "escalation_id": str(ESCALATION)}
DATA["legal_notice"] = {
    **DATA["manager_escalation"],
    "customer_tier": "gold",
    "sender": {"email": "ceo@stroymontazh.ru", "phone": None, "handle": None},
    "received_at": NOW.isoformat(),
    "message_text": "Оплатили в пятницу.\nЕсли отключите, подам в суд.",
}
DATA["re_escalation"] = {
    **DATA["manager_escalation"],
    "level": 2,
    "overdue_since": "2025-03-14T10:30:00+00:00",
    "previous_roles": ["legal", "head_of_support"],
}
DATA["staff_digest"] = SAMPLES["staff_digest"]

# What each kind must show, whatever the language.
MUST_SHOW = {
    "identity_confirmation": ["ООО «СтройМонтаж»", "Приостановка CRM", "Андрей Соколов"],
    "unknown_sender_explanation": ["Приостановка CRM"],
    "stranger_explanation": ["Приостановка CRM"],
    "manager_escalation": [
        "P2",
        "legal-threat-to-legal",
        str(ESCALATION),
        "ООО «СтройМонтаж»",
        "2025-03-14 10:30 UTC",
        "подам в суд",
        "90",  # the signal's score, as a share
        "sender's domain stroymontazh.ru is the corporate domain",
        "Не спорить. Собрать факты, передать юристам.",
    ],
    "service_failure_notice": ["Приостановка CRM", "Ольга Петрова", case_ref(ESCALATION)],
    "billing_dispute_ack": [
        "ООО «СтройМонтаж»",
        "a.sokolov@stroymontazh.ru",
        "счёт 2025-0412",
        "Ольга Петрова",
        case_ref(ESCALATION),
    ],
    "legal_notice": [
        "P2",
        "legal-threat-to-legal",
        str(ESCALATION),
        "ООО «СтройМонтаж»",
        "gold",
        "ceo@stroymontazh.ru",
        "> Оплатили в пятницу.",
        "> Если отключите, подам в суд.",
        "подам в суд",
        "Не спорить. Собрать факты, передать юристам.",
    ],
    "re_escalation": ["P2", str(ESCALATION), "ООО «СтройМонтаж»"],
    "staff_digest": [
        "ООО «СтройМонтаж»",
        *(str(e["escalation_id"]) for e in SAMPLES["staff_digest"]["escalations"]),
        "billing-dispute-suspension-pending",
        "https://support.careline.example/v1/escalations/ack/billing-link",
        "https://support.careline.example/v1/escalations/ack/legal-link",
        "2025-03-15 09:27 UTC",
        "«оплатили счёт»",
        "подам в суд",
        "a.sokolov@stroymontazh.ru",
        "2025-03-17 09:12 UTC",
        "Ольга Петрова",
    ],
}

# A word that only the template of that language has.
GREETING = {"ru": "Здравствуйте", "uk": "Добрий день", "en": "Hello"}


# --- helpers -------------------------------------------------------------------------


def command(
    kind: NotificationKind = "unknown_sender_explanation",
    language: Language = "ru",
    *,
    content_class: str = "general",
    recipient_verified: bool = False,
    reply_to: str | None = None,
    data: dict[str, Any] | None = None,
    recipient: str = "ceo@stroymontazh.ru",
    role: str = "client_sender",
) -> SendNotification:
    return SendNotification(
        event_id=derived_id("notify-request", ESCALATION, kind, recipient),
        message_id=derived_id("message", "m-1"),
        correlation_id="corr-1",
        occurred_at=NOW,
        notification_id=derived_id("notification", ESCALATION, kind, recipient),
        escalation_id=ESCALATION,
        kind=kind,
        recipient=recipient,
        recipient_role=role,
        recipient_verified=recipient_verified,
        content_class=content_class,  # type: ignore[arg-type]
        language=language,
        reply_to_external_id=reply_to,
        data=DATA[kind] if data is None else data,
    )


def email_of(cmd: SendNotification, **kwargs: Any) -> email.message.EmailMessage:
    return build_email(cmd, render(cmd), MAIL_FROM, created_at=NOW, **kwargs)


def round_trip(cmd: SendNotification) -> email.message.EmailMessage:
    msg = email_of(cmd)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


@pytest.fixture
def only_english_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A template folder where every translation but English is missing."""
    for template in [*domain.TEMPLATES.glob("*.en.*.j2"), *domain.TEMPLATES.glob("_*.j2")]:
        shutil.copy(template, tmp_path / template.name)
    monkeypatch.setattr(domain, "TEMPLATES", tmp_path)
    domain._environment.cache_clear()
    yield tmp_path
    domain._environment.cache_clear()


# --- rendering -----------------------------------------------------------------------


def test_every_kind_has_a_template_in_every_language() -> None:
    for kind in KINDS:
        for language in LANGUAGES:
            assert (domain.TEMPLATES / f"{kind}.{language}.txt.j2").is_file(), (kind, language)
            assert (domain.TEMPLATES / f"{kind}.{language}.html.j2").is_file(), (kind, language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_every_language_with_its_data(
    kind: NotificationKind, language: Language
) -> None:
    rendered = render(command(kind, language))

    assert rendered.subject.strip()
    assert "\n" not in rendered.subject
    assert rendered.body.strip()
    assert rendered.template == f"{kind}.{language}.txt.j2"
    assert rendered.fallback_from is None
    text = rendered.subject + "\n" + rendered.body
    for value in MUST_SHOW[kind]:
        assert value in text, (kind, language, value)
    if kind in CLIENT_KINDS:
        assert GREETING[language] in rendered.body
    assert rendered.html is not None
    assert f'<html lang="{language}">' in rendered.html
    for value in MUST_SHOW[kind]:
        if not value.startswith("> "):  # quoting is the text part's way; HTML uses a block
            html = rendered.subject + rendered.html  # the explanation names the subject only there
            assert value.replace("'", "&#39;") in html, (kind, language, value)


PROBABLE = {"ru": "вероятная", "uk": "ймовірна", "en": "probable"}

# What staff notices call the samples' kinds, signals and roles, in each language.
NAMES = {
    "ru": {
        "manager_escalation": ["[P2] юридическая угроза: ООО «СтройМонтаж»", "угроза судом 90 %"],
        "legal_notice": ["угроза судом 90 %"],
        "re_escalation": ["юридическая угроза", "юрист, руководитель поддержки"],
        "staff_digest": ["[P1] спор об оплате, юридическая угроза, оскорбления: ООО «СтройМонтаж»"],
    },
    "uk": {
        "manager_escalation": ["[P2] юридична загроза: ООО «СтройМонтаж»", "погроза судом 90 %"],
        "legal_notice": ["погроза судом 90 %"],
        "re_escalation": ["юридична загроза", "юрист, керівник підтримки"],
        "staff_digest": ["[P1] суперечка щодо оплати, юридична загроза, образи: ООО «СтройМонтаж»"],
    },
    "en": {
        "manager_escalation": ["[P2] legal threat: ООО «СтройМонтаж»", "legal threat 90%"],
        "legal_notice": ["legal threat 90%"],
        "re_escalation": ["legal threat", "legal, head of support"],
        "staff_digest": ["[P1] billing dispute, legal threat, abuse: ООО «СтройМонтаж»"],
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "kind", ["manager_escalation", "legal_notice", "re_escalation", "staff_digest"]
)
def test_staff_notices_name_kinds_signals_and_roles_in_their_language(
    kind: NotificationKind, language: Language
) -> None:
    cmd = command(kind, language, role="account_manager")
    rendered = render(cmd)

    text = rendered.subject + "\n" + rendered.body
    assert rendered.html is not None
    for name in NAMES[language][kind]:
        assert name in text, (kind, language, name)
        said = re.sub(r" \d+\s?%$", "", name.split(": ")[-1])  # the score is not in <strong>
        assert said in rendered.html, (kind, language, name)
    # The reason is the escalator's own account, ids and all; the rest names things.
    for reason in [cmd.data.get("reason"), *(e["reason"] for e in cmd.data.get("escalations", []))]:
        text = text.replace(reason or "\0", "")
    for code in ("legal_threat", "head_of_support", "billing, legal"):
        assert code not in text, (kind, language, code)


def test_a_kind_or_signal_without_a_name_is_shown_as_its_id() -> None:
    cmd = command("manager_escalation", "ru", role="account_manager")
    signals = [{**cmd.data["signals"][0], "name": "tax_audit_threat"}]
    data = {**cmd.data, "kind": "tax_audit", "signals": signals}
    rendered = render(cmd.model_copy(update={"data": data}))

    assert rendered.subject.startswith("[P2] tax audit: ")
    assert "tax audit threat 90 %" in rendered.body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["manager_escalation", "legal_notice", "staff_digest"])
def test_staff_notices_state_the_identity_in_their_language(
    kind: NotificationKind, language: Language
) -> None:
    rendered = render(command(kind, language, role="account_manager"))

    assert PROBABLE[language] in rendered.body
    assert rendered.html is not None and PROBABLE[language] in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("status", get_args(IdentityStatus))
def test_every_identity_status_has_its_words_in_every_language(
    status: str, language: Language
) -> None:
    cmd = command("manager_escalation", language, role="account_manager")
    data = {**cmd.data, "identity_status": status}
    rendered = render(cmd.model_copy(update={"data": data}))

    assert rendered.body.strip()
    if language != "en":
        assert f": {status}," not in rendered.body  # a word of the language, not the code


@pytest.mark.parametrize("language", LANGUAGES)
def test_client_mail_subjects_say_what_they_are_about(language: Language) -> None:
    explanation = render(command("unknown_sender_explanation", language))
    confirmation = render(command("identity_confirmation", language))

    assert explanation.subject == "Re: Приостановка CRM"
    assert "ООО «СтройМонтаж»" in confirmation.subject


def test_the_explanation_without_a_subject_still_has_one() -> None:
    for language in LANGUAGES:
        rendered = render(command("unknown_sender_explanation", language, data={"subject": ""}))
        assert rendered.subject.startswith("Re: ")
        assert len(rendered.subject) > len("Re: ")


def test_the_explanation_to_a_reply_does_not_stack_re_prefixes() -> None:
    for language in LANGUAGES:
        subject = "Re: Уведомление о приостановке аккаунта"
        rendered = render(
            command("unknown_sender_explanation", language, data={"subject": subject})
        )
        assert rendered.subject == subject


def test_a_manager_escalation_about_an_unknown_sender_says_so() -> None:
    data = {**DATA["manager_escalation"], "customer": None, "signals": []}

    rendered = render(command("manager_escalation", "en", data=data))

    assert "unknown sender" in rendered.subject
    assert "not identified" in rendered.body
    assert "  - none" in rendered.body


def test_the_explanation_to_an_unknown_sender_discloses_no_account_data() -> None:
    cmd = command("unknown_sender_explanation", "ru")

    rendered = render(cmd)

    assert "СтройМонтаж" not in rendered.subject + rendered.body
    assert "cust-" not in rendered.body


def test_missing_template_data_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        render(command("identity_confirmation", "ru", data={"subject": "x"}))


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_language_falls_back_to_english_visibly(kind: NotificationKind) -> None:
    rendered = render(command(kind, "unknown"))

    assert rendered.template == f"{kind}.en.txt.j2"
    assert rendered.fallback_from == "unknown"
    assert rendered.subject.strip()
    assert rendered.body.startswith("[translation to 'unknown' missing; English version]")
    english = render(command(kind, "en"))
    assert english.body.strip() in rendered.body
    assert rendered.subject == english.subject


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_a_missing_translation_falls_back_to_english_visibly(
    only_english_templates: Path, language: Language
) -> None:
    rendered = render(command("identity_confirmation", language))

    assert rendered.template == "identity_confirmation.en.txt.j2"
    assert rendered.fallback_from == language
    assert f"translation to '{language}' missing; English version" in rendered.body
    assert rendered.subject == "Please confirm a request made on behalf of ООО «СтройМонтаж»"
    assert "ООО «СтройМонтаж»" in rendered.body


# --- disclosure ----------------------------------------------------------------------


def test_account_content_to_an_unverified_recipient_is_refused() -> None:
    cmd = command("identity_confirmation", content_class="account", recipient_verified=False)

    with pytest.raises(DisclosureRefused, match=str(cmd.notification_id)):
        check_disclosure(cmd)


@pytest.mark.parametrize(
    ("content_class", "recipient_verified"),
    [("account", True), ("general", False), ("general", True), ("none", False)],
)
def test_other_combinations_are_allowed(content_class: str, recipient_verified: bool) -> None:
    check_disclosure(command(content_class=content_class, recipient_verified=recipient_verified))


# --- the email -----------------------------------------------------------------------


def test_message_id_is_derived_from_the_notification_id() -> None:
    cmd = command()
    msg = email_of(cmd)

    assert msg["Message-ID"] == f"<{cmd.notification_id}@careline.local>"
    assert msg["Message-ID"] == notification_message_id(cmd)
    assert msg["X-Careline-Notification-Id"] == str(cmd.notification_id)
    again = email_of(command())
    assert again["Message-ID"] == msg["Message-ID"]
    assert again.as_bytes() == msg.as_bytes()  # a re-send is the very same message
    other = command(recipient="someone.else@stroymontazh.ru")
    assert email_of(other)["Message-ID"] != msg["Message-ID"]


def test_notification_message_id_takes_a_domain() -> None:
    cmd = command()

    assert notification_message_id(cmd, "mail.example") == f"<{cmd.notification_id}@mail.example>"


def test_a_reply_threads_with_the_clients_message() -> None:
    cmd = command(reply_to="CAF=abc123@mail.stroymontazh.ru")

    parsed = round_trip(cmd)

    assert parsed["In-Reply-To"] == "<CAF=abc123@mail.stroymontazh.ru>"
    assert parsed["References"] == "<CAF=abc123@mail.stroymontazh.ru>"


def test_a_message_that_replies_to_nothing_has_no_threading_headers() -> None:
    parsed = round_trip(command("identity_confirmation", content_class="account"))

    assert parsed["In-Reply-To"] is None
    assert parsed["References"] is None


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_utf8_subject_and_body_survive_a_round_trip(
    kind: NotificationKind, language: Language
) -> None:
    cmd = command(kind, language)
    rendered = render(cmd)

    parsed = round_trip(cmd)

    assert parsed["Subject"] == rendered.subject
    assert parsed.get_content_type() == "multipart/alternative"
    text_part = parsed.get_body(("plain",))
    html_part = parsed.get_body(("html",))
    assert text_part is not None and html_part is not None
    assert text_part.get_content() == rendered.body
    assert html_part.get_content() == rendered.html
    assert text_part.get_content_charset() == html_part.get_content_charset() == "utf-8"
    assert parsed["Content-Language"] == language
    assert parsed["To"] == cmd.recipient
    assert parsed["From"] == MAIL_FROM
    assert parsed["X-Careline-Kind"] == kind
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Date"]


def test_a_long_cyrillic_subject_with_yo_and_dashes_survives_folding() -> None:
    subject = "Очень длинная тема письма про задолженность и приостановку — срочно, ёлки-палки!"
    cmd = command(data={"subject": subject})

    parsed = round_trip(cmd)

    assert parsed["Subject"] == f"Re: {subject}"
    raw = email_of(cmd).as_bytes()
    headers = raw.split(b"\n\n", 1)[0]
    assert headers.isascii()  # RFC 2047 encoded words, not raw 8-bit
    assert all(len(line) <= 78 for line in headers.split(b"\n"))


# --- HTML, confirmation, headers -----------------------------------------------------


def test_html_escapes_what_the_client_wrote_and_text_keeps_it_verbatim() -> None:
    hostile = '<script>alert("x")</script> & <b>Co</b>'
    cmd = command("unknown_sender_explanation", "en", data={"subject": hostile})
    legal = command("legal_notice", "en", data={**DATA["legal_notice"], "message_text": hostile})

    for rendered in (render(cmd), render(legal)):
        assert rendered.html is not None
        assert "<script>" not in rendered.html
        assert "&lt;script&gt;" in rendered.html or "Re:" in rendered.subject
    assert render(cmd).subject == f"Re: {hostile}"  # plain text is not HTML: nothing to escape
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in (
        render(legal).html or ""
    )
    assert f"> {hostile}" in render(legal).body


EXPIRES = {
    "ru": "16 марта 2025 г., 09:30 (UTC)",
    "uk": "16 березня 2025 р., 09:30 (UTC)",
    "en": "March 16, 2025, 9:30 AM (UTC)",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_confirmation_names_the_address_the_code_the_link_and_the_deadline(
    language: Language,
) -> None:
    data = {
        **DATA["identity_confirmation"],
        "sender_address": "a.sokolov@stroymontazh.ru",
        "confirmation_code": "482913",
        "confirmation_url": "https://support.careline.example/confirm/7f3a9c?x=1&y=2",
        "confirmation_expires_at": "2025-03-16T09:30:00+00:00",
    }

    rendered = render(command("identity_confirmation", language, data=data))

    for part in (rendered.body, rendered.html or ""):
        assert "a.sokolov@stroymontazh.ru" in part
        assert "482913" in part
        assert EXPIRES[language] in part
    assert "https://support.careline.example/confirm/7f3a9c?x=1&y=2" in rendered.body
    assert 'href="https://support.careline.example/confirm/7f3a9c?x=1&amp;y=2"' in (
        rendered.html or ""
    )


def test_confirmation_without_a_code_asks_for_a_plain_reply() -> None:
    rendered = render(command("identity_confirmation", "ru", data=DATA["identity_confirmation"]))

    assert "«Подтверждаю»" in rendered.body
    assert "код" not in rendered.body.split("Если обращение отправили")[1].split("\n\n")[0]


def test_a_missing_translation_is_visible_in_the_html_too(only_english_templates: Path) -> None:
    rendered = render(command("billing_dispute_ack", "uk"))

    assert rendered.html is not None
    assert "[translation to &#39;uk&#39; missing; English version]" in rendered.html
    assert '<html lang="en">' in rendered.html


def test_threading_headers_take_a_message_id_with_or_without_brackets() -> None:
    for given in ("CAF=abc123@mail.stroymontazh.ru", "<CAF=abc123@mail.stroymontazh.ru>"):
        parsed = round_trip(command(reply_to=given))
        assert parsed["In-Reply-To"] == "<CAF=abc123@mail.stroymontazh.ru>"


def test_date_is_the_notifications_creation_time_so_a_resend_is_identical() -> None:
    parsed = round_trip(command())

    assert parsed["Date"].datetime == NOW


def test_list_unsubscribe_only_on_proactive_client_notices() -> None:
    where = Unsubscribe(mailto="unsubscribe@careline.example", url="https://c.example/u")
    notice = command(
        "service_failure_notice",
        content_class="account",
        recipient_verified=True,
        role="client_registered",
    )

    headers = email_of(notice, unsubscribe=where)

    assert headers["List-Unsubscribe"] == (
        f"<https://c.example/u?n={notice.notification_id}>, "
        f"<mailto:unsubscribe@careline.example?subject=unsubscribe%20{notice.notification_id}>"
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirmation = command("identity_confirmation", role="client_registered")
    assert email_of(confirmation, unsubscribe=where)["List-Unsubscribe"] is None
    staff = command("manager_escalation", role="legal")
    assert email_of(staff, unsubscribe=where)["List-Unsubscribe"] is None
    assert email_of(notice)["List-Unsubscribe"] is None  # nothing configured, nothing promised


# --- the preview command -------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_preview_renders_every_kind_in_ukrainian(kind: str) -> None:
    from typer.testing import CliRunner

    from shared.cli import app

    result = CliRunner().invoke(app, ["notify", "preview", kind, "--lang", "uk"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Subject: ")
    assert "translation to" not in result.output


def test_preview_shows_the_fallback_and_html_and_rejects_an_unknown_kind() -> None:
    from typer.testing import CliRunner

    from shared.cli import app

    runner = CliRunner()
    fallback = runner.invoke(app, ["notify", "preview", "legal_notice", "--lang", "de"])
    html = runner.invoke(app, ["notify", "preview", "legal_notice", "--format", "html"])
    eml = runner.invoke(app, ["notify", "preview", "re_escalation", "--format", "eml"])
    unknown = runner.invoke(app, ["notify", "preview", "love_letter"])

    assert "[translation to 'de' missing; English version]" in fallback.output
    assert html.output.startswith("<!DOCTYPE html>")
    assert "multipart/alternative" in eml.output
    assert unknown.exit_code == 2
    assert "unknown kind" in unknown.output


async def every_kind_of_identity_evidence() -> dict[str, dict[str, Any]]:
    """One item of each kind (and variant) of evidence the verifier gives, as the escalator
    puts it in a staff notice's data: from the identity cases' real decisions."""
    found: dict[str, dict[str, Any]] = {}
    for case in identity_cases.CASES.values():
        identity = await identity_cases.identify(identity_cases.message(case))
        for e in identity.evidence:
            variant = domain.evidence_phrase_key(e.kind, e.values)
            found.setdefault(variant, {"kind": e.kind, "detail": e.detail, "values": e.values})
    return found


@pytest.mark.parametrize("language", LANGUAGES)
async def test_identity_evidence_is_said_in_the_notice_language(language: Language) -> None:
    evidence = await every_kind_of_identity_evidence()
    assert set(evidence) >= {
        *("verified_channel", "unverified_channel", "authentication_failed", "no_match"),
        *("corporate_domain", "corporate_domain_failed", "free_mail_domain", "document"),
        *("mentioned_phone_verified", "signature_name", "display_name", "company_name"),
        "introduction_name",
    }
    for kind in ("manager_escalation", "legal_notice", "staff_digest"):
        cmd = command(kind, language, role="account_manager")
        data = {**cmd.data, "identity_evidence_items": list(evidence.values())}
        rendered = render(cmd.model_copy(update={"data": data}))
        for item in evidence.values():
            values = item["values"]
            for name, value in values.items():
                # state picks the phrase ("verified phone"); channel and document are said in
                # words ("телефон", "номер договора"); a contact and a customer by name where
                # the verifier gave one: a domain, a score, a name appear as they are.
                if name in ("state", "channel", "document"):
                    continue
                if name.endswith("_id") and values.get(name.replace("_id", "_name")):
                    continue
                assert value in rendered.body and value in (rendered.html or ""), (kind, value)
            if language != "en":  # the English phrases are the detail's words with names
                assert item["detail"] not in rendered.body, (kind, item["kind"])
        if language != "en":
            for code in ("(email)", "(phone)", "(contract)", "(invoice)", " resolved", "warning "):
                assert code not in rendered.body, (kind, code)


def test_evidence_of_a_request_of_before_or_of_a_new_kind_is_shown_as_its_detail() -> None:
    cmd = command("manager_escalation", "ru", role="account_manager")
    old = "sender's domain stroymontazh.ru is the corporate domain"  # details only, as before
    before = render(cmd.model_copy(update={"data": {**cmd.data, "identity_evidence": [old]}}))
    odd = {"kind": "a_new_kind", "detail": "something new", "values": {"x": "1"}}
    data = {**cmd.data, "identity_evidence_items": [odd]}
    newer = render(cmd.model_copy(update={"data": data}))

    assert f"  - {old}\n" in before.body and "  - something new\n" in newer.body


NAMED: dict[str, Any] = {
    "kind": "signature_name",
    "detail": "signature names contact ct-sokolov of customer cust-stroymontazh (similarity 93)",
    "values": {
        "contact_id": "ct-sokolov",
        "customer_id": "cust-stroymontazh",
        "similarity": "93",
        "contact_name": "Андрей Соколов",
        "customer_name": "ООО «СтройМонтаж»",
    },
}
NAMED_SAID = {
    "ru": "имя в подписи совпадает с контактом Андрей Соколов клиента ООО «СтройМонтаж» "
    "(сходство 93 %)",
    "uk": "ім'я в підписі збігається з контактом Андрей Соколов клієнта ООО «СтройМонтаж» "
    "(схожість 93 %)",
    "en": "the signature names contact Андрей Соколов of customer ООО «СтройМонтаж» "
    "(similarity 93%)",
}
UNNAMED_SAID = {
    "ru": "имя в подписи совпадает с контактом ct-sokolov клиента cust-stroymontazh "
    "(сходство 93 %)",
    "uk": "ім'я в підписі збігається з контактом ct-sokolov клієнта cust-stroymontazh "
    "(схожість 93 %)",
    "en": "the signature names contact ct-sokolov of customer cust-stroymontazh (similarity 93%)",
}


def evidence_lines(kind: NotificationKind, language: Language, item: dict[str, Any]) -> str:
    cmd = command(kind, language, role="account_manager")
    data = {**cmd.data, "identity_evidence_items": [item]}
    rendered = render(cmd.model_copy(update={"data": data}))
    assert rendered.html is not None
    return rendered.body + rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["manager_escalation", "legal_notice", "staff_digest"])
def test_evidence_names_the_contact_and_the_customer_not_their_crm_ids(
    kind: NotificationKind, language: Language
) -> None:
    said = evidence_lines(kind, language, NAMED)

    assert f"  - {NAMED_SAID[language]}\n" in said
    assert "ct-sokolov" not in said


@pytest.mark.parametrize("language", LANGUAGES)
def test_evidence_without_names_is_said_with_the_ids(language: Language) -> None:
    # A request of before: the verifier gave ids only; a contact the CRM has no name for.
    ids_only = {**NAMED, "values": {k: v for k, v in NAMED["values"].items() if "name" not in k}}
    nameless = {**NAMED, "values": {**NAMED["values"], "contact_name": ""}}

    assert f"  - {UNNAMED_SAID[language]}\n" in evidence_lines(
        "manager_escalation", language, ids_only
    )
    partly = UNNAMED_SAID[language].replace("cust-stroymontazh", "ООО «СтройМонтаж»")
    assert f"  - {partly}\n" in evidence_lines("manager_escalation", language, nameless)


def test_evidence_of_a_known_kind_without_values_is_shown_as_its_detail() -> None:
    bare = {"kind": "signature_name", "detail": NAMED["detail"], "values": {}}

    for language in LANGUAGES:
        assert f"  - {NAMED['detail']}\n" in evidence_lines("manager_escalation", language, bare)


@pytest.mark.parametrize("kind", ["manager_escalation", "staff_digest", "re_escalation"])
def test_names_and_evidence_are_escaped_in_html_and_kept_in_text(kind: NotificationKind) -> None:
    cmd = command(kind, "ru", role="account_manager")
    evidence = [
        "<script>old</script>",
        {"kind": "free_mail_domain", "detail": "x", "values": {"domain": "<i>mail</i>"}},
    ]
    data = {**cmd.data, "kind": "<b>odd</b>", "identity_evidence_items": evidence}
    data["previous_roles"] = ["<u>role</u>"]
    if kind == "staff_digest":
        data["escalations"] = [{**e, "kind": "<b>odd</b>"} for e in data["escalations"]]
        data["roles"] = ["<u>role</u>"]
    rendered = render(cmd.model_copy(update={"data": data}))

    html = rendered.html or ""
    for raw in ("<script>", "<b>odd", "<i>mail", "<u>role"):
        assert raw not in html, raw
    assert "&lt;b&gt;odd&lt;/b&gt;" in html and "<b>odd</b>" in rendered.subject
    if kind != "manager_escalation":  # it names no roles
        assert "&lt;u&gt;role&lt;/u&gt;" in html and "<u>role</u>" in rendered.body
    if kind != "re_escalation":  # it shows no identity
        assert "&lt;script&gt;" in html and "&lt;i&gt;mail&lt;/i&gt;" in html
        assert "<script>old</script>" in rendered.body and "<i>mail</i>" in rendered.body


CLIENT_CLOCK = {
    # The month named, the zone said, in the client's language (Babel's CLDR names).
    ("ru", "Europe/Kyiv"): "15 марта 2025 г., 15:13 (Киев)",
    ("ru", "Europe/Moscow"): "15 марта 2025 г., 16:13 (Москва)",
    ("uk", "Europe/Kyiv"): "15 березня 2025 р., 15:13 (Київ)",
    ("uk", "Europe/Moscow"): "15 березня 2025 р., 16:13 (Москва)",
    ("en", "Europe/Kyiv"): "March 15, 2025, 3:13 PM (Kyiv)",
    ("en", "Europe/Moscow"): "March 15, 2025, 4:13 PM (Moscow)",
    # No zone for the client, or one nobody knows: the stored time, named.
    ("ru", None): "15 марта 2025 г., 13:13 (UTC)",
    ("uk", None): "15 березня 2025 р., 13:13 (UTC)",
    ("en", None): "March 15, 2025, 1:13 PM (UTC)",
}


@pytest.mark.parametrize("zone", ["Europe/Kyiv", "Europe/Moscow", None, "Mars/Olympus"])
@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_clients_mail_gives_its_times_on_the_clients_clock(
    zone: str | None, language: str
) -> None:
    data = {**DATA["service_failure_notice"], "reply_by": "2025-03-15T13:13:00+00:00"}
    said = CLIENT_CLOCK[(language, None if zone == "Mars/Olympus" else zone)]

    rendered = domain.render_kind("service_failure_notice", language, data, zone)

    assert said in rendered.body and rendered.html is not None and said in rendered.html


PROMISED_SAID = {  # the answer's time; the staff's deadline, said by a request of before
    "ru": ("17 марта 2025 г., 14:00 (UTC)", "15 марта 2025 г., 09:27 (UTC)"),
    "uk": ("17 березня 2025 р., 14:00 (UTC)", "15 березня 2025 р., 09:27 (UTC)"),
    "en": ("March 17, 2025, 2:00 PM (UTC)", "March 15, 2025, 9:27 AM (UTC)"),
}


@pytest.mark.parametrize("kind", ["service_failure_notice", "billing_dispute_ack"])
@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_client_is_promised_the_answer_time_not_the_staffs_deadline(
    kind: str, language: str
) -> None:
    """Seed 001: the client is told when the answer comes (the policy's client_reply), not
    the fifteen minutes staff have to pick the case up; a request from before the promise
    was sent still says the deadline it said then."""
    data = {
        **DATA[kind],
        "ack_deadline": "2025-03-15T09:27:00+00:00",
        "reply_by": "2025-03-17T14:00:00+00:00",
    }

    rendered = domain.render_kind(kind, language, data)
    older = domain.render_kind(kind, language, {k: v for k, v in data.items() if k != "reply_by"})

    promised, deadline = PROMISED_SAID[language]
    for text in (rendered.body, rendered.html or ""):
        assert promised in text and "9:27" not in text
    assert deadline in older.body


def test_staff_notices_keep_utc_whatever_the_clients_zone() -> None:
    data = {**DATA["manager_escalation"], "ack_deadline": "2025-03-15T13:13:00+00:00"}

    rendered = domain.render_kind("manager_escalation", "ru", data, "Europe/Kyiv")

    assert "2025-03-15 13:13 UTC" in rendered.body and "EET" not in rendered.body


@pytest.mark.parametrize("kind", ["manager_escalation", "legal_notice", "re_escalation"])
@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_staff_read_every_time_on_the_teams_clock(kind: str, language: str) -> None:
    """A team in Moscow reads its deadline as 16:13 MSK, not 13:13 UTC: in the notice and in
    what its macros add (the hold, the held answer's expiry)."""
    data = {
        **DATA[kind],
        "ack_deadline": "2025-03-15T13:13:00+00:00",
        "hold": {"reason": "x", "active": True, "since": "2025-03-15T10:05:00+00:00"},
        "team_timezone": "Europe/Moscow",
    }

    rendered = domain.render_kind(kind, language, data, "Europe/Kyiv")

    for text in (rendered.body, rendered.html or ""):
        assert "2025-03-15 16:13 MSK" in text and "2025-03-15 13:05 MSK" in text
        assert "UTC" not in text and "EET" not in text


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("ru", "руководителю службы поддержки и вашему персональному менеджеру (Тарас Коваленко)"),
        ("uk", "керівнику служби підтримки та вашому персональному менеджеру (Тарас Коваленко)"),
    ],
)
def test_the_managers_name_is_not_put_in_a_case_it_cannot_take(language: str, said: str) -> None:
    """Names are not declined ("менеджеру Тарас Коваленко" reads wrong): the name stands
    apart, in its own form."""
    data = {**DATA["service_failure_notice"], "account_manager": "Тарас Коваленко"}

    rendered = domain.render_kind("service_failure_notice", language, data)

    assert said in rendered.body and rendered.html is not None and said in rendered.html


@pytest.mark.parametrize(
    ("language", "named", "where", "contact"),
    [
        ("ru", "от @olena_kvitka (чат), ", "туда, откуда оно пришло", "Этот контакт не"),
        ("uk", "від @olena_kvitka (чат), ", "туди, звідки воно надійшло", "Цей контакт не"),
        ("en", "from @olena_kvitka (chat) on ", "where it came from", "That contact is not"),
    ],
)
def test_a_confirmation_about_a_chat_handle_promises_no_answer_at_an_address(
    language: str, named: str, where: str, contact: str
) -> None:
    """A chat handle is not an address: no answer is held for it, so none is promised there;
    the registered contact reads which channel it came by and when, and that it is a
    contact (an "address" made the accountant look for an email)."""
    data = {**DATA["identity_confirmation"], "sender_address": "@olena_kvitka"}
    on_chat = {**data, "sender_by_email": False, "channel": "chat"}

    chat = domain.render_kind("identity_confirmation", language, on_chat)
    mail = domain.render_kind("identity_confirmation", language, data)

    assert named in chat.body and where in chat.body and contact in chat.body
    assert where in (chat.html or "") and named.split(" (")[1] in (chat.html or "")
    assert where not in mail.body  # an email sender: the answer goes to that address
    assert contact not in mail.body


@pytest.mark.parametrize(
    ("language", "references", "said"),
    [
        ("ru", ["4512"], "(по документу № 4512)"),
        ("ru", ["4512", "118/2019"], "(по документам № 4512, № 118/2019)"),
        ("uk", ["4512"], "(за документом № 4512)"),
        ("uk", ["4512", "118/2019"], "(за документами № 4512, № 118/2019)"),
        ("en", ["4512", "118/2019"], "(ref. 4512, 118/2019)"),
    ],
)
def test_the_billing_acknowledgement_says_what_its_numbers_are(
    language: str, references: list[str], said: str
) -> None:
    """«оплата уже произведена (4512)» left the client guessing what 4512 was."""
    data = {**DATA["billing_dispute_ack"], "references": references}

    rendered = domain.render_kind("billing_dispute_ack", language, data)

    assert said in rendered.body and said in (rendered.html or "")


@pytest.mark.parametrize(
    ("language", "own", "other"),
    [
        ("ru", "Мы получили ваше сообщение («", "Мы получили сообщение с адреса buh@x.ru от имени"),
        (
            "uk",
            "Ми отримали ваше повідомлення («",
            "Ми отримали повідомлення з адреси buh@x.ru від імені",
        ),
        ("en", 'We received your message ("', "We received a message from buh@x.ru on behalf of"),
    ],
)
def test_the_client_who_wrote_is_told_of_their_own_message(
    language: str, own: str, other: str
) -> None:
    """Acceptance: «Мы получили сообщение от имени АО …» to the verified client who wrote it
    read as if someone else had. Only another address's message is said to be in its name."""
    data = {**DATA["billing_dispute_ack"], "sender_address": None}
    rendered = domain.render_kind("billing_dispute_ack", language, data)
    assert own in rendered.body and own.split(" (")[0] in (rendered.html or "")
    assert data["customer"] not in rendered.body.split("\n\n")[1]

    data |= {"sender_address": "buh@x.ru", "sender_by_email": True}
    rendered = domain.render_kind("billing_dispute_ack", language, data)
    assert other in rendered.body


@pytest.mark.parametrize(
    ("language", "invoices", "said"),
    [
        ("ru", ["4512"], "о том, что счёт № 4512 уже оплачен."),
        ("ru", ["4512", "4513"], "о том, что счета № 4512, № 4513 уже оплачены."),
        ("uk", ["4512"], "про те, що рахунок № 4512 вже оплачено."),
        ("en", ["4512"], "saying that invoice No. 4512 has been paid."),
        ("en", ["4512", "4513"], "saying that invoices No. 4512, No. 4513 have been paid."),
    ],
)
def test_invoices_the_client_paid_are_named_as_invoices(
    language: str, invoices: list[str], said: str
) -> None:
    """Seed 000: «счёт № 4512 уже оплачен», not «оплата произведена (по документу № 4512)»;
    a mix of kinds keeps the documents' wording."""
    data = {**DATA["billing_dispute_ack"], "references": invoices, "invoices": invoices}

    rendered = domain.render_kind("billing_dispute_ack", language, data)

    assert said in rendered.body and said in (rendered.html or "")
    mixed = {**data, "references": [*invoices, "118/2019"]}
    assert said not in domain.render_kind("billing_dispute_ack", language, mixed).body


@pytest.mark.parametrize(
    ("language", "subject", "opening", "heading"),
    [
        (
            "ru",
            "Мы добавили новое письмо к вашему обращению",
            "Мы добавили его к вашему обращению",
            "Что ещё случилось — как вы это описали:",
        ),
        (
            "uk",
            "Ми додали новий лист до вашого звернення",
            "Ми додали його до вашого звернення",
            "Що ще сталося — як ви це описали:",
        ),
        (
            "en",
            "We have added a new message to your case",
            "We have added it to your case",
            "What else happened, as you described it:",
        ),
    ],
)
def test_new_problems_in_an_open_case_are_said_to_be_added_to_it(
    language: str, subject: str, opening: str, heading: str
) -> None:
    data = {**DATA["service_failure_notice"], "follow_up": True}

    rendered = domain.render_kind("service_failure_notice", language, data)
    first = domain.render_kind("service_failure_notice", language, DATA["service_failure_notice"])

    assert rendered.subject.startswith(subject)
    for said in (opening, heading):
        assert said in rendered.body and said in (rendered.html or "")
        assert said not in first.body


@pytest.mark.parametrize(
    ("language", "subject", "added", "thanks"),
    [
        (
            "ru",
            "Мы добавили новое сообщение к вашему обращению",
            "Мы добавили его к вашему обращению: финансовый отдел проверит это вместе с тем",
            "Спасибо, что сообщили.",
        ),
        (
            "uk",
            "Ми додали нове повідомлення до вашого звернення",
            "Ми додали його до вашого звернення: фінансовий відділ перевірить це разом із тим",
            "Дякуємо, що повідомили.",
        ),
        (
            "en",
            "We have added a new message to your case",
            "We have added it to your case: our billing team will check it together with",
            "Thank you for letting us know.",
        ),
    ],
)
def test_another_disputed_payment_in_an_open_case_is_said_to_be_added_to_it(
    language: str, subject: str, added: str, thanks: str
) -> None:
    own = {**DATA["billing_dispute_ack"], "sender_address": None}  # the client's own address

    rendered = domain.render_kind("billing_dispute_ack", language, {**own, "follow_up": True})
    first = domain.render_kind("billing_dispute_ack", language, own)

    assert rendered.subject == subject and first.subject != subject
    assert added in rendered.body and added in (rendered.html or "")
    assert added not in first.body and thanks in first.body
    # Still what happens next and by when: the promise of the case stands.
    assert rendered.body.count("\n1. ") == 1 and "CL-" in rendered.body


def test_a_follow_up_says_what_came_and_from_whom() -> None:
    """Acceptance: a phone call or a chat was "ваше новое письмо", "его" pointed at nothing
    without a subject, and another person's message was "your message" to the owner."""
    base = {**DATA["service_failure_notice"], "follow_up": True}
    chat = {**base, "channel": "chat", "subject": "", "sender_address": None}
    other = {**base, "sender_address": "s.brown@northwind-logistics.com", "sender_by_email": True}

    said = domain.render_kind("service_failure_notice", "ru", chat)
    assert said.subject == "Мы добавили новое сообщение к вашему обращению"
    assert "Вы написали нам" in said.body
    assert "Мы добавили это сообщение к вашему обращению" in said.body
    said = domain.render_kind("service_failure_notice", "uk", chat)
    assert said.subject == "Ми додали нове повідомлення до вашого звернення"
    said = domain.render_kind("service_failure_notice", "en", other)
    assert "A message from s.brown@northwind-logistics.com" in said.body
    assert "Your message" not in said.body and "We have added it to your case" in said.body
    said = domain.render_kind("service_failure_notice", "ru", other)
    assert "С адреса s.brown@northwind-logistics.com нам пришло письмо" in said.body


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
def test_a_reply_to_the_confirmation_request_carries_its_code_in_the_subject(
    language: Language,
) -> None:
    """Acceptance: "Не я" answered without the quoted request stayed a plain message; the
    code in the subject comes back in "Re: …", where the verifier reads codes too."""
    from services.verifier.confirmation import codes_in, is_denial

    code = "OK-ABCD-EFGH"
    data = {**SAMPLES["identity_confirmation"], "confirmation_code": code}
    rendered = render(command("identity_confirmation", language, data=data))

    assert rendered.subject.endswith(f" {code})")
    assert codes_in("Не я", "", f"Re: {rendered.subject}")[0] == code
    assert is_denial("Не я")


def test_compile_templates_compiles_every_template_once_at_start() -> None:
    """A starting notifier compiles all templates; a notice renders from the cache after."""
    shipped = {p.name for p in domain.TEMPLATES.iterdir() if p.name.endswith(".j2")}
    assert domain.compile_templates() == len(shipped)
    env = domain._environment()
    assert env.cache is not None and env.cache.capacity >= len(shipped)
    cached = {key[1] for key in env.cache}
    assert shipped <= cached
    before = {name: env.get_template(name) for name in shipped}
    domain.compile_templates()
    assert all(env.get_template(name) is template for name, template in before.items())

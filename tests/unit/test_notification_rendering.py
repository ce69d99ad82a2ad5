"""Notifier domain: rendering in the client's language, the disclosure guard, the email."""

from __future__ import annotations

import email
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError

from services.notifier import domain
from services.notifier.domain import (
    DisclosureRefused,
    build_email,
    check_disclosure,
    notification_message_id,
    render,
)
from shared.contracts import Language, NotificationKind, SendNotification, derived_id

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
ESCALATION = derived_id("escalation", "customer:cust-stroymontazh", "legal", "m-1")
MAIL_FROM = "Careline <support@careline.example>"
KINDS: tuple[NotificationKind, ...] = (
    "identity_confirmation",
    "unknown_sender_explanation",
    "manager_escalation",
)
LANGUAGES: tuple[Language, ...] = ("ru", "uk", "en")

DATA: dict[str, dict[str, Any]] = {
    "identity_confirmation": {
        "customer": "ООО «СтройМонтаж»",
        "subject": "Приостановка CRM",
        "received_at": NOW.isoformat(),
        "channel": "email",
        "escalation_id": str(ESCALATION),
    },
    "unknown_sender_explanation": {"subject": "Приостановка CRM"},
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

# What each kind must show, whatever the language.
MUST_SHOW = {
    "identity_confirmation": ["ООО «СтройМонтаж»", "Приостановка CRM"],
    "unknown_sender_explanation": ["Приостановка CRM"],
    "manager_escalation": [
        "P2",
        "legal-threat-to-legal",
        str(ESCALATION),
        "ООО «СтройМонтаж»",
        "2025-03-14T10:30:00+00:00",
        "подам в суд",
        "0.90",
        "sender's domain stroymontazh.ru is the corporate domain",
        "Не спорить. Собрать факты, передать юристам.",
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


def round_trip(cmd: SendNotification) -> email.message.EmailMessage:
    msg = build_email(cmd, render(cmd), MAIL_FROM)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


@pytest.fixture
def only_english_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A template folder where every translation but English is missing."""
    for template in domain.TEMPLATES.glob("*.en.txt.j2"):
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
    if kind != "manager_escalation":
        assert GREETING[language] in rendered.body


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
    msg = build_email(cmd, render(cmd), MAIL_FROM)

    assert msg["Message-ID"] == f"<{cmd.notification_id}@careline.local>"
    assert msg["Message-ID"] == notification_message_id(cmd)
    assert msg["X-Careline-Notification-Id"] == str(cmd.notification_id)
    again = build_email(command(), render(command()), MAIL_FROM)
    assert again["Message-ID"] == msg["Message-ID"]
    other = command(recipient="someone.else@stroymontazh.ru")
    assert build_email(other, render(other), MAIL_FROM)["Message-ID"] != msg["Message-ID"]


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
    assert parsed.get_content() == rendered.body
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
    raw = build_email(cmd, render(cmd), MAIL_FROM).as_bytes()
    headers = raw.split(b"\n\n", 1)[0]
    assert headers.isascii()  # RFC 2047 encoded words, not raw 8-bit
    assert all(len(line) <= 78 for line in headers.split(b"\n"))

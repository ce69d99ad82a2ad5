"""Webhook payloads (generic, Slack, Mattermost, Telegram) and the replay-safe signature."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notifier.domain import render
from services.notifier.samples import ESCALATION_ID, SAMPLES
from services.notifier.webhooks import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TELEGRAM_LIMIT,
    SignatureError,
    encode,
    masked,
    payload,
    signed_headers,
    verify,
)
from shared.case_ref import case_ref
from shared.contracts import SendNotification, derived_id

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SECRET = "whsec-test"


def command(data: dict | None = None) -> SendNotification:
    return SendNotification(
        event_id=derived_id("req", 1),
        message_id=derived_id("message", 1),
        correlation_id="corr-1",
        occurred_at=NOW,
        notification_id=derived_id("notification", 1),
        escalation_id=uuid.UUID(ESCALATION_ID),
        kind="manager_escalation",
        channel="webhook",
        recipient="ops-slack",
        recipient_role="head_of_support",
        recipient_verified=True,
        content_class="account",
        language="ru",
        severity="P2",
        data=data or SAMPLES["manager_escalation"],
    )


def test_slack_payload_has_text_and_blocks_with_mrkdwn_control_characters_escaped() -> None:
    words = [{"name": "legal_threat", "score": 0.9, "words": ["a <b> & <!channel>"]}]
    data = {**SAMPLES["manager_escalation"], "signals": words}
    cmd = command(data)

    body = payload("slack", cmd, render(cmd))

    assert body["text"].startswith("*[P2] юридическая угроза: ООО «СтройМонтаж» · CL-BC69-MMKF*\n")
    assert "a &lt;b&gt; &amp; &lt;!channel&gt;" in body["text"]
    assert "<!channel>" not in json.dumps(body, ensure_ascii=False)
    assert body["blocks"][0]["text"]["type"] == "plain_text"
    assert body["blocks"][1]["text"]["type"] == "mrkdwn"


def test_mattermost_payload_is_markdown_text_with_the_notification_id() -> None:
    cmd = command()

    body = payload("mattermost", cmd, render(cmd))

    assert body["text"].startswith("#### [P2] юридическая угроза")
    assert body["props"]["careline_notification_id"] == str(cmd.notification_id)


def test_telegram_payload_is_a_send_message_call_in_html_mode() -> None:
    words = [{"name": "legal_threat", "score": 0.9, "words": ["<script>x</script>" + "я" * 5000]}]
    data = {**SAMPLES["manager_escalation"], "signals": words}
    cmd = command(data)

    body = payload("telegram", cmd, render(cmd), chat_id="-100123")

    assert body["chat_id"] == "-100123"
    assert body["parse_mode"] == "HTML"
    assert body["text"].startswith(
        "<b>[P2] юридическая угроза: ООО «СтройМонтаж» · CL-BC69-MMKF</b>\n"
    )
    assert "<script>" not in body["text"] and "&lt;script&gt;" in body["text"]
    assert len(body["text"]) <= TELEGRAM_LIMIT
    with pytest.raises(ValueError, match="chat_id"):
        payload("telegram", cmd, render(cmd))


def test_generic_payload_carries_ids_the_text_and_the_data() -> None:
    cmd = command()

    body = payload("generic", cmd, render(cmd))

    assert body["notification_id"] == str(cmd.notification_id)
    assert body["kind"] == "manager_escalation"
    assert body["severity"] == "P2"
    assert body["subject"] == render(cmd).subject
    assert body["data"]["rule"] == "legal-threat-to-legal"
    # The escalation by its id, and by the reference its people read and type.
    assert cmd.escalation_id and body["escalation_id"] == str(cmd.escalation_id)
    assert body["case_ref"] == case_ref(cmd.escalation_id)
    assert body["case_ref"] in body["text"]


def test_a_generic_payload_names_the_client_mail_without_the_clients_address() -> None:
    entry = {"ids": [str(derived_id("notification", 2))], "recipient": "buh@kvitka.ua"}
    entry |= {"role": "client_registered", "channel": "email", "kind": "request_ack"}
    sent = {"kinds": ["request_ack"], "to": [entry]}
    cmd = command({**SAMPLES["manager_escalation"], "client_contacts_sent": sent})

    body = payload("generic", cmd, render(cmd))

    (said,) = body["data"]["client_contacts_sent"]["to"]
    assert said == {k: v for k, v in entry.items() if k != "recipient"}
    assert "buh@kvitka.ua" not in encode(body).decode()
    # The request keeps it: the notifier's rate-limit foresight weighs the client's mail by it.
    assert cmd.data["client_contacts_sent"]["to"][0]["recipient"] == "buh@kvitka.ua"


def test_a_signed_request_verifies_and_carries_the_idempotency_key() -> None:
    body = encode({"text": "Привет"})
    headers = signed_headers(SECRET, body, NOW, "key-1")

    assert headers[IDEMPOTENCY_HEADER] == "key-1"
    assert verify(SECRET, body, headers[SIGNATURE_HEADER], NOW + timedelta(seconds=5)) == int(
        NOW.timestamp()
    )


def test_a_tampered_body_or_wrong_secret_is_rejected() -> None:
    body = encode({"text": "ok"})
    header = signed_headers(SECRET, body, NOW, "k")[SIGNATURE_HEADER]

    with pytest.raises(SignatureError, match="mismatch"):
        verify(SECRET, encode({"text": "ok!"}), header, NOW)
    with pytest.raises(SignatureError, match="mismatch"):
        verify("other", body, header, NOW)


def test_an_old_request_is_rejected_as_a_replay() -> None:
    body = encode({"text": "ok"})
    header = signed_headers(SECRET, body, NOW, "k")[SIGNATURE_HEADER]

    with pytest.raises(SignatureError, match="replay"):
        verify(SECRET, body, header, NOW + timedelta(minutes=6))
    # The timestamp is inside the signature: moving it forward breaks the signature.
    forged = header.replace(f"t={int(NOW.timestamp())}", f"t={int(NOW.timestamp()) + 360}")
    with pytest.raises(SignatureError, match="mismatch"):
        verify(SECRET, body, forged, NOW + timedelta(minutes=6))


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=notanumber,v1=abc"])
def test_a_missing_or_malformed_signature_is_rejected(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, b"{}", header, NOW)


def test_without_a_secret_there_is_no_signature_header() -> None:
    headers = signed_headers(None, b"{}", NOW, "k")

    assert SIGNATURE_HEADER not in headers
    assert headers[IDEMPOTENCY_HEADER] == "k"


# What a contact is in the samples: the client's registered ones, the sender's, the account
# manager's, the contact a signature names, an identity alert's addresses.
CONTACTS = (
    "buh@stroymontazh.ru",
    "+7 343 555-01-18",
    "a.sokolov@stroymontazh.ru",
    "o.petrova@careline.example",
    "Андрей Соколов",
    "Ольга Петрова",
    "director@stroymontazh.ru",
)


@pytest.mark.parametrize(
    "kind",
    ["manager_escalation", "legal_notice", "staff_digest", "re_escalation", "identity_alert"],
)
def test_a_generic_payload_carries_what_a_ticket_needs_and_no_contact(kind: str) -> None:
    cmd = command(SAMPLES[kind]).model_copy(update={"kind": kind})

    data = payload("generic", cmd, render(cmd))["data"]

    said = json.dumps(data, ensure_ascii=False)
    assert [c for c in CONTACTS if c in said] == []
    for left_out in ("fact_pack", "sender", "message_text", "identity_evidence", "customer"):
        assert left_out not in data
    assert data.get("customer_id") == SAMPLES[kind]["customer_id"]  # found in the CRM by it
    if kind != "identity_alert":
        escalation = data["escalations"][0] if kind == "staff_digest" else data
        assert escalation["rule"] and escalation["ack_deadline"] and escalation["reason"]
        assert "ack_url" not in escalation  # an acknowledge link works once: not for a ticket
    else:
        assert data["confirmation_id"] == SAMPLES[kind]["confirmation_id"]
        assert {"address", "answered_by", "said", "confirmation_code"}.isdisjoint(data)


def test_a_generic_payload_keeps_the_clients_words_and_masks_contacts_in_free_text() -> None:
    words = "напишите на buh@kvitka.ua или +380 44 123-45-67, я в телеге @olena_kvitka; подам в суд"
    confirmed = {
        "kind": "identity_settled",
        "values": {"address": "director@kvitka.ua", "via": "link"},
        "text": "the registered contact confirmed the sender's address director@kvitka.ua (link)",
    }
    data = {
        **SAMPLES["manager_escalation"],
        "signals": [{"name": "legal_threat", "score": 0.9, "words": [words]}],
        "condition_items": [confirmed],
        "reason": f"rule x: legal_threat 0.90 («{words}»); {confirmed['text']}",
    }
    cmd = command(data)

    kept = payload("generic", cmd, render(cmd))["data"]

    said = json.dumps(kept, ensure_ascii=False)
    for contact in ("buh@kvitka.ua", "+380 44 123-45-67", "@olena_kvitka", "director@kvitka.ua"):
        assert contact not in said
    assert kept["signals"][0]["words"] == [
        "напишите на [email] или [phone], я в телеге [handle]; подам в суд"
    ]
    assert kept["condition_items"] == [
        {
            "kind": "identity_settled",
            "values": {"via": "link"},
            "text": "the registered contact confirmed the sender's address [email] (link)",
        }
    ]
    # Times and ids are left as they are.
    assert kept["ack_deadline"] == data["ack_deadline"]
    assert kept["escalation_id"] == data["escalation_id"]
    assert masked("expired 2025-03-17 09:12 UTC, 8 (343) 555-01-18") == (
        "expired 2025-03-17 09:12 UTC, [phone]"
    )


def test_chat_formats_carry_the_notice_as_its_readers_read_it() -> None:
    # A staff channel reads the notice its role reads by email: the contacts on file are what
    # its people reach the client by (docs/notifier.md, "Webhooks").
    cmd = command()

    text = payload("slack", cmd, render(cmd))["text"]

    assert "buh@stroymontazh.ru" in text and "+7 343 555-01-18" in text

"""The local mail sink's index: the headers people read, decoded and unfolded."""

from __future__ import annotations

from email.header import Header
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from aiosmtpd.smtp import Envelope
from aiosmtplib.email import flatten_message

from shared.smtp_sink import MailDirHandler, read_mail_index

pytestmark = pytest.mark.unit

SUBJECTS = [
    "Приостановка CRM — «СтройМонтаж»: тема письма, достаточно длинная, чтобы её перенесли",
    "A plain ASCII subject that is long enough to be folded over two lines of the header",
    "Призупинення CRM: «БудМонтаж»",
]


@pytest.mark.parametrize("subject", SUBJECTS)
async def test_the_index_shows_the_subject_as_written_and_the_mail_is_kept(
    tmp_path: Path, subject: str
) -> None:
    mail = MIMEText("тело", "plain", "utf-8")
    encoded = subject if subject.isascii() else Header(subject, "utf-8", header_name="Subject")
    mail["Subject"] = encoded  # type: ignore[assignment]  # compat32 takes a Header
    mail["Message-ID"] = "<n-1@careline.local>"
    mail["X-Careline-Kind"] = "manager_escalation"
    envelope = Envelope()
    envelope.mail_from = "support@careline.example"
    envelope.rcpt_tos = ["o.petrova@careline.example"]
    envelope.original_content = flatten_message(mail)

    reply = await MailDirHandler(tmp_path).handle_DATA(None, None, envelope)  # type: ignore[arg-type]

    [record] = read_mail_index(tmp_path)
    assert reply.startswith("250")
    assert record["subject"] == subject
    assert record["message_id"] == "n-1@careline.local"
    assert record["kind"] == "manager_escalation"
    assert record["in_reply_to"] == ""
    assert (tmp_path / record["file"]).read_bytes() == envelope.original_content


@pytest.mark.parametrize(
    ("subject_line", "shown"),
    [
        ("Subject: Привет мир".encode(), "Привет мир"),  # raw UTF-8, not encoded words
        (b"Subject: =?x-unknown?q?abc?=", "=?x-unknown?q?abc?="),  # a charset nobody knows
    ],
)
async def test_a_mail_with_headers_it_cannot_decode_properly_is_still_kept(
    tmp_path: Path, subject_line: bytes, shown: str
) -> None:
    envelope = Envelope()
    envelope.mail_from = "someone@example.org"
    envelope.rcpt_tos = ["support@careline.example"]
    envelope.original_content = b"\r\n".join(
        [subject_line, b"Message-ID: <odd@example.org>", b"", b"body"]
    )

    reply = await MailDirHandler(tmp_path).handle_DATA(None, None, envelope)  # type: ignore[arg-type]

    [record] = read_mail_index(tmp_path)
    assert reply.startswith("250")
    assert record["subject"] == shown
    assert record["message_id"] == "odd@example.org"

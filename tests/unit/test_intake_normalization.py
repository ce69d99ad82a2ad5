"""Intake normalization: raw channel input in, the parts of a NormalizedMessage out.

Email sources are real RFC 5322 messages, built with the standard library's `email` package
(or read from tests/unit/emails/) and handed to the domain as the `str` a publisher sends.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.intake.domain import (
    Normalized,
    auth_results,
    detect_language,
    extract_entities,
    normalize,
    normalize_email,
    parse_email,
    split_reply,
    to_e164,
)
from services.intake.service import normalized_event
from services.intake.settings import IntakeSettings
from shared.contracts import AuthResults, Entity, InboundMessage, SenderIdentifiers
from shared.errors import PermanentError

pytestmark = pytest.mark.unit

EMAILS = Path(__file__).parent / "emails"
# The authserv-id of our own MX in these emails, as the settings give it: lower-case.
OURS = frozenset({"mx.careline.example"})


# --- helpers -------------------------------------------------------------------------


def as_source(msg: EmailMessage | MIMEMultipart) -> str:
    """The str a publisher sends: CRLF lines, 8-bit bytes kept as surrogate escapes."""
    return msg.as_bytes(policy=policy.SMTP).decode("utf-8", "surrogateescape")


def plain_email(
    body: str = "Здравствуйте! Не могу войти в личный кабинет.\n",
    *,
    sender: str = "Ivan Petrov <Ivan.Petrov@Example.RU>",
    subject: str = "Не работает вход",
    message_id: str | None = "<msg-1@example.ru>",
    charset: str = "utf-8",
    cte: str | None = None,
    subtype: str = "plain",
    **headers: str,
) -> str:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@careline.example"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 25 Nov 2024 12:31:05 +0300"
    if message_id is not None:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, subtype=subtype, charset=charset, cte=cte)
    return as_source(msg)


def fixture_email(name: str) -> str:
    return (EMAILS / name).read_bytes().decode("utf-8", "surrogateescape")


def entities_of(text: str, kind: str) -> list[Entity]:
    return [e for e in extract_entities(text) if e.kind == kind]


def spans(text: str, kind: str) -> list[tuple[str, str]]:
    """(value, the characters of `text` the entity points at) for every entity of `kind`."""
    return [(e.value, text[e.start : e.end]) for e in entities_of(text, kind)]


def text_message(**fields: object) -> InboundMessage:
    data: dict[str, object] = {
        "channel": "chat",
        "sender": SenderIdentifiers(email="Client@Example.COM"),
        "text": "Здравствуйте, не приходит код подтверждения на телефон.",
    }
    data.update(fields)
    return InboundMessage.model_validate(data)


# --- plain, multipart and HTML bodies ------------------------------------------------


def test_plain_utf8_email_is_normalized() -> None:
    result = normalize_email(plain_email())

    assert isinstance(result, Normalized)
    assert result.channel == "email"
    assert result.sender == SenderIdentifiers(
        email="ivan.petrov@example.ru", display_name="Ivan Petrov"
    )
    assert result.subject == "Не работает вход"
    assert result.text == "Здравствуйте! Не могу войти в личный кабинет."
    assert result.quoted_text == ""
    assert result.signature == ""
    assert result.external_id == "msg-1@example.ru"
    assert result.thread_id == "msg-1@example.ru"
    assert result.in_reply_to is None
    assert result.language == "ru"
    assert result.sent_at == datetime.fromisoformat("2024-11-25T12:31:05+03:00")


def test_sender_without_display_name_has_none() -> None:
    result = normalize_email(plain_email(sender="Client@Example.com"))

    assert result.sender.email == "client@example.com"
    assert result.sender.display_name is None


def test_unparseable_date_leaves_sent_at_empty() -> None:
    source = plain_email().replace("Mon, 25 Nov 2024 12:31:05 +0300", "yesterday, around noon")

    assert normalize_email(source).sent_at is None


NOW = datetime.fromisoformat("2026-12-07T00:30:00+00:00")


@pytest.mark.parametrize(
    "date_header",
    [
        "Sat, 26 Mar 2022 11:02:00 +0300",  # a client's clock years off (or an old mail resent)
        "Tue, 07 Dec 2027 09:00:00 +0000",  # one in the future
    ],
)
def test_an_emails_date_header_is_when_it_was_sent_not_when_we_received_it(
    date_header: str,
) -> None:
    """The history, its windows and retention count from received_at: a Date header on the
    sender's clock would hide the message from them (or keep it for good)."""
    source = plain_email().replace("Mon, 25 Nov 2024 12:31:05 +0300", date_header)

    event = normalized_event(InboundMessage(channel="email", raw_email=source), NOW)

    assert event.received_at == NOW
    assert event.sent_at == parsedate_to_datetime(date_header)


def test_multipart_alternative_prefers_the_plain_part() -> None:
    msg = MIMEMultipart("alternative")
    msg["From"] = "client@example.com"
    msg["Subject"] = "Dashboard"
    msg["Message-ID"] = "<alt-1@example.com>"
    msg.attach(MIMEText("The dashboard is down since this morning.\n", "plain", "utf-8"))
    msg.attach(MIMEText("<p>HTML <b>version</b> of the message</p>", "html", "utf-8"))

    result = normalize_email(as_source(msg))

    assert result.text == "The dashboard is down since this morning."
    assert "HTML" not in result.text


def test_html_only_email_is_converted_to_plain_text() -> None:
    html = (
        "<html><head><style>p { color: red; }</style></head><body>"
        "<p>Hello, the <b>export</b> fails &amp; shows an error.</p>"
        "<p>Invoice INV-2024-0042 is affected.<br>Call me at +7 (495) 123-45-67.</p>"
        "<img src='cid:logo'></body></html>"
    )
    result = normalize_email(plain_email(html, subtype="html", subject="Export"))

    assert "<" not in result.text and "&amp;" not in result.text
    assert "color: red" not in result.text
    assert "shows an error." in result.text
    assert "& shows" in result.text
    assert "export" in result.text
    assert "Invoice INV-2024-0042 is affected.\nCall me at +7 (495) 123-45-67." in result.text
    assert result.language == "en"
    kinds = {(e.kind, e.value) for e in result.entities}
    assert {("invoice", "INV-2024-0042"), ("phone", "+74951234567")} <= kinds


def test_html_reply_keeps_signature_and_outlook_quote_markers() -> None:
    # html2text escapes "-- " and "-----Original Message-----" as markdown; they must still
    # split the reply, and "1." must not come out as "1\.".
    html = (
        "<p>The report is still empty.</p><p>1. open Reports<br>2. click Export</p>"
        "<p>-- <br>John Smith<br>ACME Ltd</p>"
        "<div><p>-----Original Message-----<br>From: Careline Support<br>Sent: Monday</p>"
        "<p>Please try again.</p></div>"
    )
    result = normalize_email(plain_email(html, subtype="html", subject="Report"))

    assert result.text == "The report is still empty.\n\n1. open Reports\n2. click Export"
    assert result.signature == "--\nJohn Smith\nACME Ltd"
    assert result.quoted_text.startswith("-----Original Message-----")
    assert "Please try again." in result.quoted_text
    assert "\\" not in result.text + result.signature + result.quoted_text


def test_html_blockquote_reply_goes_to_quoted_text() -> None:
    html = (
        "<div>Still broken after the update.</div>"
        "<div class='gmail_quote'>On Mon, 25 Nov 2024 at 10:00, Support "
        "&lt;<a href='mailto:support@careline.example'>support@careline.example</a>&gt; "
        "wrote:<br><blockquote>Please update the app.</blockquote></div>"
    )
    result = normalize_email(plain_email(html, subtype="html", subject="Update"))

    assert result.text == "Still broken after the update."
    assert result.quoted_text.startswith("On Mon, 25 Nov 2024")
    assert "> Please update the app." in result.quoted_text


def test_attachment_is_not_inlined_into_the_text() -> None:
    msg = EmailMessage()
    msg["From"] = "client@example.com"
    msg["Subject"] = "Logs"
    msg["Message-ID"] = "<att-1@example.com>"
    msg.set_content("Logs attached.\n")
    msg.add_attachment(
        "ATTACHED-LOG-LINE secret=1 +7 495 765-43-21\n", filename="app.log", subtype="plain"
    )
    msg.add_attachment(b"%PDF-1.4 binary", maintype="application", subtype="pdf", filename="a.pdf")

    result = normalize_email(as_source(msg))

    assert result.text == "Logs attached."
    assert "ATTACHED-LOG-LINE" not in result.text + result.quoted_text + result.signature
    assert [e for e in result.entities if e.kind == "phone"] == []


def test_message_with_only_an_attachment_has_empty_text() -> None:
    msg = EmailMessage()
    msg["From"] = "client@example.com"
    msg["Subject"] = "Scan"
    msg.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="scan.png")

    result = normalize_email(as_source(msg))

    assert result.text == ""
    assert result.subject == "Scan"


# --- legacy charsets and transfer encodings ------------------------------------------

RUSSIAN_BODY = "Добрый день! Оплатил счёт 4512, но доступ так и не открыли.\n"


@pytest.mark.parametrize("charset", ["koi8-r", "windows-1251"])
@pytest.mark.parametrize("cte", ["quoted-printable", "base64", "8bit"])
def test_legacy_charset_bodies_are_decoded(charset: str, cte: str) -> None:
    source = plain_email(RUSSIAN_BODY, charset=charset, cte=cte)
    assert f'charset="{charset}"' in source
    assert f"Content-Transfer-Encoding: {cte}" in source
    assert "Добрый" not in source  # really encoded, not utf-8 text

    result = normalize_email(source)

    assert result.text == RUSSIAN_BODY.strip()
    assert result.language == "ru"
    assert [(e.kind, e.value) for e in result.entities] == [("invoice", "4512")]


def test_literal_windows_1251_quoted_printable_source() -> None:
    source = (
        "From: client@example.ru\r\n"
        "Subject: =?windows-1251?Q?=CE=EF=EB=E0=F2=E0?=\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="windows-1251"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "=C4=EE=E1=F0=FB=E9 =E4=E5=ED=FC! =CE=EF=EB=E0=F2=E0 =ED=E5 =EF=F0=EE=F8=EB=E0=\r\n"
        ".\r\n"
    )
    result = normalize_email(source)

    assert result.subject == "Оплата"
    assert result.text == "Добрый день! Оплата не прошла."


def test_8bit_koi8r_source_without_message_id_gets_a_hash_id() -> None:
    # The 8-bit body travels as surrogate escapes; hashing the source must not choke on them.
    source = plain_email(RUSSIAN_BODY, charset="koi8-r", cte="8bit", message_id=None)

    first, second = normalize_email(source), normalize_email(source)

    assert first.text == RUSSIAN_BODY.strip()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.external_id)
    assert first.external_id == second.external_id


def test_unknown_body_charset_is_a_permanent_error() -> None:
    source = (
        "From: client@example.com\r\n"
        'Content-Type: text/plain; charset="x-no-such-charset"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "0J/RgNC40LLQtdGC\r\n"
    )
    with pytest.raises(PermanentError, match="cannot be decoded"):
        normalize_email(source)


@pytest.mark.parametrize(
    ("name", "subject", "charset", "language"),
    [
        ("Иван Петров", "Не работает личный кабинет", "koi8-r", "ru"),
        ("Пётр Сидоров", "Срочно: возврат платежа", "windows-1251", "ru"),
        ("Оксана Коваленко", "Не працює особистий кабінет", "utf-8", "uk"),
        ("Ґрицько Їжаченко", "Рахунок не сплачено, будь ласка, перевірте", "utf-8", "uk"),
    ],
)
def test_rfc2047_encoded_display_name_and_subject(
    name: str, subject: str, charset: str, language: str
) -> None:
    encoded_name = Header(name, charset).encode()
    encoded_subject = Header(subject, charset).encode()
    source = (
        f"From: {encoded_name} <Client@Example.UA>\r\n"
        f"Subject: {encoded_subject}\r\n"
        "Message-ID: <enc-1@example.ua>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "OK\r\n"
    )
    assert encoded_name.startswith(f"=?{charset}?")
    assert encoded_subject.startswith(f"=?{charset}?")

    result = normalize_email(source)

    assert result.sender.display_name == name
    assert result.sender.email == "client@example.ua"
    assert result.subject == subject
    # The subject is part of what the language is detected on.
    assert result.language == language


def test_encoded_display_name_with_a_comma_stays_one_name() -> None:
    encoded = Header("Петров, Иван", "koi8-r").encode()
    result = normalize_email(plain_email(sender=f"{encoded} <ivan@example.ru>"))

    assert result.sender == SenderIdentifiers(email="ivan@example.ru", display_name="Петров, Иван")


# --- real-looking client replies -----------------------------------------------------


def test_outlook_windows_1251_reply_fixture() -> None:
    result = normalize_email(fixture_email("outlook_reply_cp1251.eml"), authserv_ids=OURS)

    assert result.sender == SenderIdentifiers(
        email="i.petrov@romashka.example", display_name="Петров Иван"
    )
    assert result.subject == "RE: Ваше обращение"
    assert result.text == (
        "Добрый день!\n\n"
        "Платёж по счёту № 4512 на 12 000 руб. так и не зачислен, доступ к кабинету закрыт.\n"
        "Перезвоните мне, пожалуйста: 8 (912) 345-67-89."
    )
    assert result.signature == 'С уважением,\nИван Петров\nООО "Ромашка"'
    assert result.quoted_text.startswith("-----Original Message-----\nFrom: Support")
    assert result.external_id == "000001db3f1a$5e2c1b40$1a8451c0@romashka.example"
    assert result.thread_id == "case-1001.1@careline.example"
    assert result.in_reply_to == "case-1001.2@careline.example"
    assert result.auth == AuthResults(
        spf="pass", dkim="fail", dmarc="fail", spf_domain="romashka.example"
    )
    assert result.language == "ru"
    assert [(e.kind, e.value) for e in result.entities] == [
        ("invoice", "4512"),
        ("money", "12000 RUB"),
        ("phone", "+79123456789"),
    ]
    assert [result.text[e.start : e.end] for e in result.entities] == [
        "счёту № 4512",
        "12 000 руб.",
        "8 (912) 345-67-89",
    ]


def test_gmail_ukrainian_base64_reply_fixture() -> None:
    result = normalize_email(fixture_email("gmail_reply_uk.eml"), authserv_ids=OURS)

    assert result.sender == SenderIdentifiers(
        email="oksana.kovalenko@gmail.com", display_name="Оксана Коваленко"
    )
    assert result.subject == "Re: Не можу увійти в кабінет"
    assert result.text == (
        "Добрий день!\n\n"
        "Досі не можу увійти в особистий кабінет, рахунок № 77 на 500 грн сплачено вчора.\n"
        "Мій номер: +380 (67) 123-45-67."
    )
    assert result.signature == "З повагою,\nОксана Коваленко"
    assert result.quoted_text.endswith("> Доброго дня! Спробуйте, будь ласка, ще раз.")
    assert "пише:" in result.quoted_text
    assert result.auth == AuthResults(spf="pass", dkim="pass", dmarc="pass", spf_domain="gmail.com")
    assert result.thread_id == "case-2002.1@careline.example"
    assert result.language == "uk"
    assert result.language_confidence > 0.5
    assert [(e.kind, e.value) for e in result.entities] == [
        ("invoice", "77"),
        ("money", "500 UAH"),
        ("date", "day:-1"),
        ("phone", "+380671234567"),
    ]


def test_fixture_emails_stay_small() -> None:
    for path in EMAILS.glob("*.eml"):
        assert path.stat().st_size < 4096, path.name


# --- Authentication-Results ----------------------------------------------------------


def _auth(*headers: str, trusted: frozenset[str] = OURS) -> AuthResults:
    extra = "".join(f"Authentication-Results: {h}\r\n" for h in headers)
    return auth_results(parse_email(f"{extra}From: client@example.com\r\n\r\nhi\r\n"), trusted)


def test_authentication_results_all_pass() -> None:
    assert _auth(
        "mx.careline.example; spf=pass smtp.mailfrom=example.com; "
        "dkim=pass header.d=example.com; dmarc=pass header.from=example.com"
    ) == AuthResults(spf="pass", dkim="pass", dmarc="pass", spf_domain="example.com")


def test_authentication_results_failures() -> None:
    assert _auth(
        "mx.careline.example; spf=fail smtp.mailfrom=example.com; "
        "dkim=fail (signature did not verify) header.d=example.com; "
        "dmarc=fail (p=reject) header.from=example.com"
    ) == AuthResults(spf="fail", dkim="fail", dmarc="fail", spf_domain="example.com")


def test_authentication_results_mixed_verdicts_and_case() -> None:
    assert _auth(
        "mx.careline.example; SPF=SoftFail smtp.mailfrom=example.com; DKIM=None; DMARC=Pass"
    ) == AuthResults(spf="softfail", dkim="none", dmarc="pass", spf_domain="example.com")


def test_authentication_results_missing_header_gives_none() -> None:
    assert _auth() == AuthResults(spf="none", dkim="none", dmarc="none")
    assert normalize_email(plain_email(), authserv_ids=OURS).auth == AuthResults()


def test_authentication_results_partial_header_leaves_the_rest_none() -> None:
    assert _auth("mx.careline.example; spf=pass smtp.mailfrom=example.com") == AuthResults(
        spf="pass", spf_domain="example.com"
    )


@pytest.mark.parametrize(
    ("header", "domain"),
    [
        (
            "spf=pass smtp.mailfrom=Bounce@Mail.Example.COM smtp.helo=mx.example.com",
            "mail.example.com",
        ),
        ("spf=pass (ip 192.0.2.1) smtp.mailfrom=example.org.", "example.org"),
        ("spf=none smtp.mailfrom=<> smtp.helo=relay.example.net", "relay.example.net"),  # bounce
        ("spf=pass", None),  # not said: an SPF pass of no known domain aligns with nothing
        ("dkim=pass header.d=example.com", None),
        # The envelope's local part is the sender's to write, quoted: never the domain.
        ('spf=pass smtp.mailfrom="ceo@victim.example"@forger.test', "forger.test"),
        ('spf=pass smtp.mailfrom="a smtp.mailfrom=b@victim.example"@forger.test', "forger.test"),
        ("spf=pass smtp.mailfrom=x@localhost", None),  # no domain one could align with
        # A second review: an escaped quote ends no quoted string; the sender's HELO name
        # stands in only for an empty envelope, never for an unreadable one.
        ('spf=pass smtp.mailfrom="a\\"@victim.example"@forger.test', "forger.test"),
        ("spf=pass smtp.mailfrom=x@forger-домен.рф smtp.helo=victim.example", None),
        ("spf=pass smtp.mailfrom=x@[192.0.2.1] smtp.helo=victim.example", None),
        ('spf=pass smtp.mailfrom="x@forger.test" smtp.helo=victim.example', None),
        ("spf=pass smtp.helo=relay.example.net", "relay.example.net"),
    ],
)
def test_authentication_results_say_which_domain_spf_checked(header: str, domain: str) -> None:
    """What an SPF verdict is about: the envelope's domain, which a forger chooses; only
    aligned with the From does a pass say anything of it (escalator.spf_aligned)."""
    assert _auth(f"mx.careline.example; {header}").spf_domain == domain


def test_authentication_results_unknown_verdict_is_ignored() -> None:
    assert _auth("mx.careline.example; dmarc=bestguesspass header.from=x.com").dmarc == "none"


def test_authentication_results_of_another_authserv_id_is_not_believed() -> None:
    # What a forger writes into the mail it sends, or a relay on the way added: not ours.
    assert _auth("mx.example; spf=pass; dkim=pass; dmarc=pass") == AuthResults()
    assert _auth("mx.careline.example.evil.test; dmarc=pass").dmarc == "none"
    assert _auth("careline.example; dmarc=pass").dmarc == "none"


def test_authentication_results_with_no_trusted_ids_believes_none() -> None:
    # CARELINE_INTAKE_AUTHSERV_IDS unset: even our own id's header is not read.
    header = "mx.careline.example; spf=pass; dkim=pass; dmarc=pass"
    assert _auth(header, trusted=frozenset()) == AuthResults()
    assert normalize_email(plain_email(Authentication_Results=header)).auth == AuthResults()


def test_authentication_results_authserv_id_case_and_version() -> None:
    assert _auth("MX.Careline.Example; dmarc=pass").dmarc == "pass"
    # authserv-id [CFWS authres-version] (RFC 8601 section 2.2)
    assert _auth("mx.careline.example 1; spf=pass; dmarc=fail") == AuthResults(
        spf="pass", dmarc="fail"
    )
    assert _auth("mx.careline.example (our MX) 1; dmarc=pass").dmarc == "pass"
    assert _auth("mx.careline.example 1 ; none") == AuthResults()  # no result at all


def test_authentication_results_forged_header_below_ours_is_not_read() -> None:
    # Our MX prepends its own; the forger's, further down, fills in nothing (not even a
    # method ours does not mention).
    assert _auth(
        "mx.careline.example; spf=fail smtp.mailfrom=example.com",
        "mx.example; spf=pass; dkim=pass; dmarc=pass",
    ) == AuthResults(spf="fail", spf_domain="example.com")


def test_authentication_results_topmost_trusted_header_wins() -> None:
    # A forged header of another id on top is skipped; of two with our id (one a forger
    # wrote, which the MX should have removed), the top-most is the MX's own.
    assert _auth(
        "mx.example; dmarc=pass",
        "mx.careline.example; spf=fail; dmarc=fail",
        "mx.careline.example; spf=pass; dmarc=pass",
    ) == AuthResults(spf="fail", dmarc="fail")


def test_authentication_results_sender_chosen_values_are_not_results() -> None:
    # The envelope sender and comments are the sender's words our MX quotes: a result in
    # them, or a ';' in a quoted local-part, must not pass for one of the MX's.
    assert _auth(
        "mx.careline.example; spf=fail smtp.mailfrom=dmarc=pass@evil.test; dmarc=fail"
    ) == AuthResults(spf="fail", dmarc="fail", spf_domain="evil.test")
    assert (
        _auth(
            'mx.careline.example; spf=fail smtp.mailfrom="x;dmarc=pass"@evil.test; dmarc=fail'
        ).dmarc
        == "fail"
    )
    assert _auth("mx.careline.example; spf=fail (x; dmarc=pass) smtp.mailfrom=e.test").dmarc == (
        "none"
    )
    # Nor does a comment before the id make it ours.
    assert _auth("(mx.careline.example;) mx.example; dmarc=pass").dmarc == "none"


def test_authentication_results_a_value_without_results_is_ignored() -> None:
    assert _auth("mx.careline.example dmarc=pass") == AuthResults()  # no ';': no id either
    assert _auth("; dmarc=pass") == AuthResults()


def test_authentication_results_spoofed_fixture_with_a_forged_pass_below() -> None:
    # The phpmailer forgery of the CEO's address (fixture 17) with the forger's own
    # "passed" header: our MX's failures stand.
    source = (
        EMAILS.parent.parent / "fixtures" / "emails" / "17_phpmailer_ru_spoofed_ceo_auth_fail.eml"
    )
    raw = source.read_bytes().replace(
        b"Date:", b"Authentication-Results: mx.careline.example; spf=pass; dmarc=pass\nDate:", 1
    )
    raw = b"Authentication-Results: mx.stroymontazh.ru; spf=pass; dkim=pass; dmarc=pass\n" + raw
    assert normalize_email(raw, authserv_ids=OURS).auth == AuthResults(
        spf="fail", dkim="none", dmarc="fail", spf_domain="stroymontazh.ru"
    )


def test_an_ignored_header_is_logged_by_its_id_alone(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="services.intake.mail"):
        _auth("MX.Forger.test; dmarc=pass header.from=ceo@stroymontazh.ru")
    (record,) = caplog.records
    assert "'mx.forger.test'" in record.getMessage()
    assert "dmarc" not in record.getMessage() and "stroymontazh" not in record.getMessage()


def test_authserv_ids_setting_is_comma_separated_and_unset_trusts_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CARELINE_INTAKE_AUTHSERV_IDS", " MX.Careline.example, mx2.example ,")
    assert IntakeSettings().authserv_ids == {"mx.careline.example", "mx2.example"}
    monkeypatch.delenv("CARELINE_INTAKE_AUTHSERV_IDS")
    assert IntakeSettings().authserv_ids == frozenset()


def test_authentication_results_through_normalize() -> None:
    source = plain_email(
        Authentication_Results="mx.careline.example; spf=pass; dkim=fail; dmarc=fail"
    )
    assert normalize_email(source, authserv_ids=OURS).auth == AuthResults(
        spf="pass", dkim="fail", dmarc="fail"
    )
    inbound = InboundMessage(channel="email", raw_email=source)
    assert normalized_event(inbound, NOW, authserv_ids=OURS).auth.dmarc == "fail"
    assert normalized_event(inbound, NOW).auth.dmarc == "none"


# --- Message-ID, In-Reply-To, References ---------------------------------------------


def test_thread_id_is_the_first_references_id() -> None:
    source = plain_email(
        message_id="<m3@example.com>",
        In_Reply_To="<m2@example.com>",
        References="<root@careline.example> <m1@example.com> <m2@example.com>",
    )
    result = normalize_email(source)

    assert result.external_id == "m3@example.com"
    assert result.thread_id == "root@careline.example"
    assert result.in_reply_to == "m2@example.com"


def test_thread_id_from_folded_references() -> None:
    source = plain_email().replace(
        "Message-ID:",
        "References: <root@careline.example>\r\n\t<m1@example.com>\r\n <m2@example.com>\r\n"
        "Message-ID:",
    )
    assert normalize_email(source).thread_id == "root@careline.example"


def test_thread_id_from_references_written_without_spaces() -> None:
    source = plain_email(References="<root@careline.example><m1@example.com>")
    assert normalize_email(source).thread_id == "root@careline.example"


def test_thread_id_falls_back_to_in_reply_to() -> None:
    result = normalize_email(plain_email(In_Reply_To="<parent@careline.example>"))

    assert result.thread_id == "parent@careline.example"
    assert result.in_reply_to == "parent@careline.example"
    assert result.external_id == "msg-1@example.ru"


def test_in_reply_to_with_a_trailing_comment() -> None:
    source = plain_email(In_Reply_To="<parent@careline.example> (Support's message of Monday)")
    result = normalize_email(source)

    assert result.in_reply_to == "parent@careline.example"
    assert result.thread_id == "parent@careline.example"


def test_thread_id_falls_back_to_own_message_id() -> None:
    result = normalize_email(plain_email(message_id="<only@example.com>"))

    assert result.thread_id == result.external_id == "only@example.com"
    assert result.in_reply_to is None


def test_missing_message_id_gives_a_stable_hash_id() -> None:
    source = plain_email(message_id=None)
    other = plain_email("Другой текст.\n", message_id=None)

    first = normalize_email(source)

    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.external_id)
    assert normalize_email(source).external_id == first.external_id
    assert normalize_email(other).external_id != first.external_id
    assert first.thread_id == first.external_id


# --- split_reply ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fresh", "quoted"),
    [
        pytest.param(
            "Still failing.\n\n> Have you tried again?\n> Support",
            "Still failing.",
            "> Have you tried again?\n> Support",
            id="gt-quoted",
        ),
        pytest.param(
            "Still failing.\n\nOn Mon, 25 Nov 2024 at 10:00, Careline Support "
            "<support@careline.example> wrote:\n> Have you tried again?",
            "Still failing.",
            "On Mon, 25 Nov 2024 at 10:00, Careline Support <support@careline.example> wrote:\n"
            "> Have you tried again?",
            id="gmail-wrote",
        ),
        pytest.param(
            "Всё ещё не работает.\n\n25.11.2024, 10:00, Careline Support "
            "<support@careline.example> пишет:\n> Попробуйте ещё раз.",
            "Всё ещё не работает.",
            "25.11.2024, 10:00, Careline Support <support@careline.example> пишет:\n"
            "> Попробуйте ещё раз.",
            id="russian-pishet",
        ),
        pytest.param(
            "Досі не працює.\n\nпн, 25 лист. 2024 р. о 10:00 Careline Support "
            "<support@careline.example> пише:\n> Спробуйте ще раз.",
            "Досі не працює.",
            "пн, 25 лист. 2024 р. о 10:00 Careline Support <support@careline.example> пише:\n"
            "> Спробуйте ще раз.",
            id="ukrainian-pyshe",
        ),
        pytest.param(
            "Still failing.\n\n-----Original Message-----\nFrom: Careline Support\n"
            "Sent: Monday, November 25, 2024 10:00 AM\n\nHave you tried again?",
            "Still failing.",
            "-----Original Message-----\nFrom: Careline Support\n"
            "Sent: Monday, November 25, 2024 10:00 AM\n\nHave you tried again?",
            id="outlook-original-message",
        ),
    ],
)
def test_split_reply_separates_quoted_history(body: str, fresh: str, quoted: str) -> None:
    assert split_reply(body) == (fresh, quoted, "")


@pytest.mark.parametrize(
    ("body", "fresh", "signature"),
    [
        pytest.param(
            "Не работает вход.\n\nС уважением,\nИван Петров\n+7 495 123-45-67",
            "Не работает вход.",
            "С уважением,\nИван Петров\n+7 495 123-45-67",
            id="s-uvazheniem",
        ),
        pytest.param(
            "Не працює вхід.\n\nЗ повагою,\nОксана",
            "Не працює вхід.",
            "З повагою,\nОксана",
            id="z-povagoyu",
        ),
        pytest.param(
            "Login is broken.\n\nBest regards,\nJohn Smith\nACME Ltd",
            "Login is broken.",
            "Best regards,\nJohn Smith\nACME Ltd",
            id="best-regards",
        ),
        pytest.param(
            "Login is broken.\n-- \nJohn Smith\nACME Ltd",
            "Login is broken.",
            "-- \nJohn Smith\nACME Ltd",
            id="dash-dash-space",
        ),
        # Acceptance: no sign-off, a name alone on a last short paragraph signs it; the
        # text keeps it (the same shape may be the client's words: below).
        pytest.param(
            "Счёт мы оплатили вчера.\n\nАндрей Соколов\nгенеральный директор ООО «СтройМонтаж»",
            "Счёт мы оплатили вчера.\n\nАндрей Соколов\nгенеральный директор ООО «СтройМонтаж»",
            "Андрей Соколов\nгенеральный директор ООО «СтройМонтаж»",
            id="bare-name-ru",
        ),
        pytest.param(
            "Рахунок двічі.\n\nО. Шевчук\nТОВ «Квітка»",
            "Рахунок двічі.\n\nО. Шевчук\nТОВ «Квітка»",
            "О. Шевчук\nТОВ «Квітка»",
            id="bare-initial-uk",
        ),
        pytest.param(
            "The export is broken.\n\nJames Miller\nOperations Director, Northwind Logistics",
            "The export is broken.\n\nJames Miller\nOperations Director, Northwind Logistics",
            "James Miller\nOperations Director, Northwind Logistics",
            id="bare-name-en",
        ),
        # A closing courtesy, a last sentence or a name alone is no signature.
        pytest.param(
            "Экспорт не работает.\n\nСпасибо Вам",
            "Экспорт не работает.\n\nСпасибо Вам",
            "",
            id="thanks",
        ),
        pytest.param(
            "Not working.\n\nPlease Help Me Now",
            "Not working.\n\nPlease Help Me Now",
            "",
            id="please",
        ),
        pytest.param("Андрей Соколов", "Андрей Соколов", "", id="name-only"),
        pytest.param(
            "Добрый день.\n\nВсё Сломалось\nверните деньги или подам в суд",
            "Добрый день.\n\nВсё Сломалось\nверните деньги или подам в суд",
            "Всё Сломалось\nверните деньги или подам в суд",
            id="words-kept",
        ),
    ],
)
def test_split_reply_moves_the_signature_out_of_the_text(
    body: str, fresh: str, signature: str
) -> None:
    assert split_reply(body) == (fresh, "", signature)


def test_split_reply_with_signature_and_quote() -> None:
    body = (
        "Всё ещё не работает.\r\n\r\nС уважением,\r\nИван\r\n\r\n"
        "-----Original Message-----\r\nFrom: support@careline.example\r\nПопробуйте ещё раз."
    )
    fresh, quoted, signature = split_reply(body)

    assert fresh == "Всё ещё не работает."
    assert signature == "С уважением,\nИван"
    assert quoted == (
        "-----Original Message-----\nFrom: support@careline.example\nПопробуйте ещё раз."
    )
    assert "\r" not in fresh + quoted + signature


def test_split_reply_without_markers_keeps_everything_as_text() -> None:
    body = "  Первая строка.\nВторая строка, в ней слово regards не одно.\n"
    assert split_reply(body) == (
        "Первая строка.\nВторая строка, в ней слово regards не одно.",
        "",
        "",
    )


def test_normalized_email_text_excludes_quote_and_signature() -> None:
    body = (
        "Прошу вернуть 500 грн.\n\nЗ повагою,\nОксана\n+380 67 123 45 67\n\n"
        "пн, 25 лист. 2024 р. о 10:00 Support <support@careline.example> пише:\n"
        "> Рахунок № 99 сплачено?\n"
    )
    result = normalize_email(plain_email(body, subject="Повернення"))

    assert result.text == "Прошу вернуть 500 грн."
    assert result.signature.startswith("З повагою,")
    assert "Рахунок № 99" in result.quoted_text
    # Entities point into `text`, so nothing from the signature or the quote is extracted.
    assert [(e.kind, e.value) for e in result.entities] == [("money", "500 UAH")]


# --- language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Здравствуйте! Уже второй день не могу войти в личный кабинет, помогите.", "ru"),
        ("Добрий день! Вже другий день не можу увійти в особистий кабінет, допоможіть.", "uk"),
        ("Hello! For two days now I cannot log in to my account, please help.", "en"),
        ("Верните деньги, иначе я обращусь в суд.", "ru"),
        ("Поверніть гроші, інакше я звернуся до суду.", "uk"),
        ("Please refund the payment or I will contact my lawyer.", "en"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    detected, confidence = detect_language(text)

    assert detected == language
    assert 0.5 < confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   \n\t", "12345 678", "!!! ??? ...", "__ -- ++", "+7 495"])
def test_detect_language_without_words_is_unknown(text: str) -> None:
    assert detect_language(text) == ("unknown", 0.0)


# --- entities ------------------------------------------------------------------------


def test_emails_are_lower_cased_with_spans() -> None:
    text = "Пишите на Ivan.Petrov@Example.COM или billing+ru@romashka.example."

    assert spans(text, "email") == [
        ("ivan.petrov@example.com", "Ivan.Petrov@Example.COM"),
        ("billing+ru@romashka.example", "billing+ru@romashka.example"),
    ]


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("+7 (495) 123-45-67", "+74951234567"),
        ("8 (912) 345-67-89", "+79123456789"),
        ("+7 912 345 67 89", "+79123456789"),
        ("8-912-345-67-89", "+79123456789"),
        ("+380 (44) 123-45-67", "+380441234567"),
        ("+380 67 123 45 67", "+380671234567"),
        ("+380-67-123-45-67", "+380671234567"),
    ],
)
def test_phones_are_extracted_in_e164_with_spans(written: str, e164: str) -> None:
    text = f"Перезвоните мне: {written}, после обеда."

    assert spans(text, "phone") == [(e164, written)]


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("+7 (495) 123-45-67", "+74951234567"),
        ("8 (912) 345-67-89", "+79123456789"),
        ("+380 (67) 123-45-67", "+380671234567"),
        ("not a phone", None),
        ("123", None),
    ],
)
def test_to_e164(written: str, e164: str | None) -> None:
    assert to_e164(written) == e164


@pytest.mark.parametrize(
    ("text", "value", "written"),
    [
        ("Оплатил счёт № 4512 вчера.", "4512", "счёт № 4512"),
        ("Оплатил счет №4512 вчера.", "4512", "счет №4512"),
        ("По счёту 4512 нет оплаты.", "4512", "счёту 4512"),
        ("Сплатив рахунок № 77 вчора.", "77", "рахунок № 77"),
        ("Please check invoice INV-2024-0042 again.", "INV-2024-0042", "invoice INV-2024-0042"),
        ("Invoice #5531 is overdue.", "5531", "Invoice #5531"),
        ("See INV-2024-0043 attached.", "INV-2024-0043", "INV-2024-0043"),
    ],
)
def test_invoice_numbers(text: str, value: str, written: str) -> None:
    assert spans(text, "invoice") == [(value, written)]


@pytest.mark.parametrize(
    "text",
    [
        "Расчёт 2024 года сделан верно.",  # "счёт" inside "расчёт"
        "Лицевой счёт № 555 заблокирован.",  # an account, not an invoice
        "Счёт ещё не выставили.",
    ],
)
def test_no_invoice_where_there_is_none(text: str) -> None:
    assert entities_of(text, "invoice") == []


def test_personal_account_is_an_account() -> None:
    text = "Лицевой счёт № 555 заблокирован, аккаунт № 42 тоже."
    assert spans(text, "account") == [("555", "Лицевой счёт № 555"), ("42", "аккаунт № 42")]


@pytest.mark.parametrize(
    ("text", "value", "written"),
    [
        ("Согласно договору 17/2024 вы обязаны ответить.", "17/2024", "договору 17/2024"),
        ("Согласно договор 17/2024 вы обязаны ответить.", "17/2024", "договор 17/2024"),
        ("Договор № 88-К от 01.02.2024.", "88-К", "Договор № 88-К"),
        ("Відповідно до договору № 12/24.", "12/24", "договору № 12/24"),
        ("Under contract No. 2024/15 you must reply.", "2024/15", "contract No. 2024/15"),
    ],
)
def test_contract_numbers(text: str, value: str, written: str) -> None:
    assert spans(text, "contract") == [(value, written)]


def test_order_numbers_need_a_marker_and_a_whole_word() -> None:
    assert spans("Заказ № 9001 не доставлен.", "order") == [("9001", "Заказ № 9001")]
    assert spans("Order #9001 is late.", "order") == [("9001", "Order #9001")]
    assert entities_of("Across the border #5 checkpoint.", "order") == []


@pytest.mark.parametrize(
    ("text", "value", "written"),
    [
        ("Списали $400 без предупреждения.", "400 USD", "$400"),
        ("Списали $ 1,500.00 без предупреждения.", "1,500.00 USD", "$ 1,500.00"),
        ("Списали 12 000 руб. без предупреждения.", "12000 RUB", "12 000 руб."),
        ("Списали 500 грн без попередження.", "500 UAH", "500 грн"),
        ("Списали 120 000 ₽ без предупреждения.", "120000 RUB", "120 000 ₽"),
        ("Списали 120\u00a0000\u00a0₽ без предупреждения.", "120000 RUB", "120\u00a0000\u00a0₽"),
        ("Списали 120\u202f000 ₽ без предупреждения.", "120000 RUB", "120\u202f000 ₽"),
        ("Списали 500 рублей без предупреждения.", "500 RUB", "500 рублей"),
        ("Списали 300 гривень без попередження.", "300 UAH", "300 гривень"),
        ("Charged 99 EUR twice.", "99 EUR", "99 EUR"),
        ("Charged €250 twice.", "250 EUR", "€250"),
        ("Charged 75 usd twice.", "75 USD", "75 usd"),
        ("Списали 1 234 567,89 руб без предупреждения.", "1234567,89 RUB", "1 234 567,89 руб"),
    ],
)
def test_money_with_currency(text: str, value: str, written: str) -> None:
    assert spans(text, "money") == [(value, written)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Купил 500 рубашек.", []),  # "руб" starting another word is no currency
        ("Bought 3 rubber ducks.", []),
        ("Платёж от 25.11.2024 500 руб.", [("500 RUB", "500 руб.")]),  # not "2024 500"
        ("Списали $400\n2 раза подряд.", [("400 USD", "$400")]),  # no number across lines
        ("Позиции 3, 500 грн за штуку.", [("500 UAH", "500 грн")]),  # "3, 500" is two numbers
        ("Заказ на 15 штук, без оплаты.", []),
    ],
)
def test_money_edges(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text, "money") == expected


def test_entities_in_one_text_are_sorted_and_point_at_their_characters() -> None:
    text = (
        "По договору 17/2024 выставлен счёт № 4512 на 12 000 руб. "
        "Звоните +7 (495) 123-45-67 или пишите Buh@Romashka.Example. Итого $400."
    )
    entities = extract_entities(text)

    assert [(e.kind, e.value, text[e.start : e.end]) for e in entities] == [
        ("contract", "17/2024", "договору 17/2024"),
        ("invoice", "4512", "счёт № 4512"),
        ("money", "12000 RUB", "12 000 руб."),
        ("phone", "+74951234567", "+7 (495) 123-45-67"),
        ("email", "buh@romashka.example", "Buh@Romashka.Example"),
        ("money", "400 USD", "$400"),
    ]
    assert [e.start for e in entities] == sorted(e.start for e in entities)
    for entity in entities:
        assert 0 <= entity.start < entity.end <= len(text)


def test_text_without_entities() -> None:
    assert extract_entities("Просто спасибо за помощь!") == []
    assert extract_entities("") == []


# --- text channels -------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["chat", "phone", "social", "web_form"])
def test_text_channel_is_normalized(channel: str) -> None:
    inbound = text_message(
        channel=channel,
        external_id=f"{channel}-7781",
        sender=SenderIdentifiers(
            email="Client@Example.COM",
            phone="8 (912) 345-67-89",
            handle="@client",
            display_name="Клиент",
        ),
        subject="Код",
        thread_ref=f"{channel}-thread-42",
    )
    result = normalize(inbound)

    assert result.channel == channel
    assert result.external_id == f"{channel}-7781"
    assert result.sender == SenderIdentifiers(
        email="client@example.com",
        phone="+79123456789",
        handle="@client",
        display_name="Клиент",
    )
    assert result.subject == "Код"
    assert result.text == "Здравствуйте, не приходит код подтверждения на телефон."
    assert result.thread_id == f"{channel}-thread-42"
    assert result.in_reply_to is None
    assert result.auth == AuthResults()
    assert result.language == "ru"


@pytest.mark.parametrize(
    ("phone", "e164"),
    [
        ("+7 (495) 123-45-67", "+74951234567"),
        ("8-912-345-67-89", "+79123456789"),
        ("+380 (44) 123-45-67", "+380441234567"),
        ("+380 67 123 45 67", "+380671234567"),
    ],
)
def test_text_channel_sender_phone_in_e164(phone: str, e164: str) -> None:
    result = normalize(text_message(channel="phone", sender=SenderIdentifiers(phone=phone)))

    assert result.sender.phone == e164
    assert result.sender.email is None


def test_text_channel_keeps_received_at() -> None:
    """The channel that passed it on says when it received it: that time stands."""
    when = datetime.fromisoformat("2024-11-25T09:30:00+00:00")
    event = normalized_event(text_message(received_at=when), NOW)

    assert (event.received_at, event.sent_at) == (when, None)
    assert normalized_event(text_message(), NOW).received_at == NOW


def test_text_channel_without_thread_ref_threads_on_its_own_id() -> None:
    result = normalize(text_message(external_id="chat-1"))
    assert result.thread_id == "chat-1"


def test_text_channel_without_external_id_gets_a_stable_hash_id() -> None:
    first = normalize(text_message(received_at=datetime.fromisoformat("2024-11-25T09:30:00Z")))
    # Same message delivered again later, with another correlation id: same id.
    again = normalize(
        text_message(
            received_at=datetime.fromisoformat("2024-11-25T09:31:00Z"), correlation_id="c-2"
        )
    )
    other = normalize(text_message(text="Другое сообщение."))

    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.external_id)
    assert again.external_id == first.external_id
    assert other.external_id != first.external_id
    assert first.thread_id == first.external_id


def test_text_channel_splits_quote_and_signature() -> None:
    text = (
        "Вже третій день без доступу, рахунок № 77.\n\nЗ повагою,\nОксана\n\n> Дякуємо за звернення"
    )
    result = normalize(text_message(channel="social", text=text))

    assert result.text == "Вже третій день без доступу, рахунок № 77."
    assert result.signature == "З повагою,\nОксана"
    assert result.quoted_text == "> Дякуємо за звернення"
    assert result.language == "uk"
    assert [(e.kind, e.value) for e in result.entities] == [("invoice", "77")]


def test_email_inbound_goes_through_the_email_parser() -> None:
    source = plain_email()
    result = normalize(InboundMessage(channel="email", raw_email=source))

    assert result == normalize_email(source)


def test_email_channel_with_text_only_is_treated_as_a_text_message() -> None:
    result = normalize(text_message(channel="email", external_id="form-1"))

    assert result.channel == "email"
    assert result.sender.email == "client@example.com"
    assert result.auth == AuthResults()


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param("Subject: no sender\r\n", id="no-from-header"),
        pytest.param("From: \r\nSubject: empty from\r\n", id="empty-from"),
    ],
)
def test_email_without_from_header_is_permanent(headers: str) -> None:
    with pytest.raises(PermanentError, match="no From header"):
        normalize_email(f"{headers}Content-Type: text/plain\r\n\r\nHello\r\n")


@pytest.mark.parametrize(
    "from_value",
    ["Ivan Petrov", "undisclosed-recipients:;", "<>", "=?utf-8?b?0JjQstCw0L0=?="],
)
def test_email_from_without_address_is_permanent(from_value: str) -> None:
    with pytest.raises(PermanentError, match="no address"):
        normalize_email(f"From: {from_value}\r\nSubject: x\r\n\r\nHello\r\n")


def test_email_without_from_is_permanent_through_normalize() -> None:
    inbound = InboundMessage(channel="email", raw_email="Subject: x\r\n\r\nHello\r\n")
    with pytest.raises(PermanentError):
        normalize(inbound)


def test_text_channel_with_only_raw_email_is_permanent() -> None:
    inbound = InboundMessage(channel="chat", raw_email=plain_email())
    with pytest.raises(PermanentError, match="needs text"):
        normalize(inbound)


def test_text_message_without_sender_is_rejected() -> None:
    with pytest.raises(ValidationError, match="needs a sender"):
        InboundMessage(channel="chat", text="Здравствуйте")


@pytest.mark.parametrize("text", [None, "", "  \n "])
def test_message_without_raw_email_or_text_is_rejected(text: str | None) -> None:
    with pytest.raises(ValidationError, match="raw_email or a non-empty text"):
        InboundMessage(channel="chat", sender=SenderIdentifiers(handle="@client"), text=text)


def test_inbound_message_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        InboundMessage.model_validate(
            {"channel": "chat", "text": "hi", "sender": {"handle": "@c"}, "body": "extra"}
        )

"""A local SMTP server that keeps every outgoing mail under a directory (the embedded default).

Each message is stored as `<n>-<message-id>.eml`, and a line with its envelope and headers is
appended to `index.jsonl`, so the demo, tests and people can read what Careline sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import uuid
from datetime import UTC, datetime
from email import policy
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class MailDirHandler:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        # The index needs only headers: parsing the bodies too cost most of a mail's CPU,
        # and the header registry (policy.default) most of the rest: the few headers the
        # index shows are decoded one by one instead.
        msg = _HEADERS.parsebytes(raw)
        message_id = _header(msg, "Message-ID").strip("<>") or str(uuid.uuid4())
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", message_id)[:80]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{safe}.eml"
        path.write_bytes(raw)
        record = {
            "file": path.name,
            "received_at": datetime.now(UTC).isoformat(),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "message_id": message_id,
            "subject": _header(msg, "Subject"),
            "in_reply_to": _header(msg, "In-Reply-To"),
            "kind": _header(msg, "X-Careline-Kind"),
            "notification_id": _header(msg, "X-Careline-Notification-Id"),
        }
        with (self.directory / "index.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 Message accepted for delivery"


_HEADERS = BytesHeaderParser(policy=policy.compat32)
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def _header(msg: Message, name: str) -> str:
    """The header's text, its RFC 2047 encoded words decoded and its folding undone.

    A header with raw 8-bit bytes comes back from compat32 as a `Header` (its bytes are
    read as UTF-8); one that cannot be decoded (an unknown charset) is shown as it came:
    the index must never cost a mail."""
    value = msg.get(name)
    if value is None:
        return ""
    try:
        if isinstance(value, Header):  # raw bytes: taken as UTF-8, what senders mean today
            return "".join(
                part.decode("utf-8", "replace") if isinstance(part, bytes) else part
                for part, _ in decode_header(value)
            ).strip()
        unfolded = _FOLD.sub("", value)  # RFC 5322: a line break before white space goes
        return str(make_header(decode_header(unfolded))).strip()
    except (LookupError, UnicodeError, ValueError):
        return str(value).strip()


def read_mail_index(directory: Path) -> list[dict[str, Any]]:
    index = directory / "index.jsonl"
    if not index.exists():
        return []
    with index.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def serve(directory: Path, port: int, host: str = "127.0.0.1") -> None:
    controller = Controller(MailDirHandler(directory), hostname=host, port=port)
    controller.start()
    stop = asyncio.Event()

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait())
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    serve(args.dir, args.port)


if __name__ == "__main__":
    main()

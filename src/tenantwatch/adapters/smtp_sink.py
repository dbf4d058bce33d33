"""An SMTP server on loopback that records every message (the demo's email receiver).

It needs the `demo` extra (aiosmtpd: pip install 'tenantwatch[demo]')."""

from __future__ import annotations

import email
import email.policy
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tenantwatch.adapters.extras import require

if TYPE_CHECKING:
    from aiosmtpd.smtp import SMTP, Envelope, Session

Record = Callable[[dict[str, Any]], None]


def parse_message(raw: bytes) -> dict[str, Any]:
    """Headers and the text and HTML parts of a message."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts: dict[str, str] = {}
    for part in msg.walk() if msg.is_multipart() else [msg]:
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html") and kind not in parts:
            parts[kind] = str(part.get_content())
    return {
        "subject": str(msg.get("Subject", "")),
        "from": str(msg.get("From", "")),
        "to": str(msg.get("To", "")),
        "text": parts.get("text/plain", ""),
        "html": parts.get("text/html", ""),
    }


class _Handler:
    def __init__(self, record: Record) -> None:
        self.record = record

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.record(
            {
                "at": time.time(),
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                **parse_message(raw),
            }
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, port: int, record: Record, host: str = "127.0.0.1") -> None:
        """Raise MissingExtra when aiosmtpd is not installed."""
        require("aiosmtpd", extra="demo", feature="The inspector's SMTP sink (inspector.smtp_port)")
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every session
        self.controller = Controller(_Handler(record), hostname=host, port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

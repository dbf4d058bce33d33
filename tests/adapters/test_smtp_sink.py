"""The inspector's SMTP sink records what it receives; it needs the demo extra."""

from __future__ import annotations

import smtplib
import sys
import time
from typing import Any

import pytest

from tenantwatch.adapters.extras import MissingExtra
from tenantwatch.adapters.smtp_sink import SmtpSink
from tests.support import free_port


def test_a_message_sent_to_the_sink_is_recorded() -> None:
    got: list[dict[str, Any]] = []
    port = free_port()
    sink = SmtpSink(port, got.append)
    sink.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nbody\r\n")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        sink.stop()
    [message] = got
    assert (message["subject"], message["rcpt_tos"]) == ("hi", ["b@example.com"])
    assert message["text"].strip() == "body"


def test_without_aiosmtpd_it_names_the_demo_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiosmtpd", None)
    with pytest.raises(MissingExtra, match=r"pip install 'tenantwatch\[demo\]'") as caught:
        SmtpSink(free_port(), lambda _: None)
    assert str(caught.value).startswith("The inspector's SMTP sink (inspector.smtp_port) needs")

"""The demo's request inspector: local HTTP and SMTP receivers that record what they got."""

from __future__ import annotations

import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import pytest

from tenantwatch.adapters.smtp_sink import SmtpSink
from tenantwatch.config.model import Config
from tenantwatch.runtime import Runtime, build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tenantwatch.web.inspector import Inspector
from tests.support import free_port


@pytest.fixture
async def inspected(settings: Settings) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    rt = build_runtime(settings, Config.model_validate({"inspector": {"enabled": True}}))
    await prepare(rt)
    app = create_app(settings, runtime=rt)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tw.test") as c:
        yield rt, c
    await rt.close()


async def test_requests_are_recorded_per_bin_with_secrets_masked(
    inspected: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, client = inspected
    answer = await client.post(
        "/inspector/slack/services/T1",
        json={"text": "hello"},
        headers={"Authorization": "Bearer sekrit"},
    )
    assert answer.status_code == 200 and answer.text == "ok"
    pd = await client.post("/inspector/pagerduty/v2/enqueue", json={"event_action": "trigger"})
    assert pd.status_code == 202 and pd.json()["status"] == "success"
    got = (await client.get("/inspector/requests?bin=slack")).json()
    assert [(r["path"], r["body"]) for r in got] == [("/services/T1", {"text": "hello"})]
    assert got[0]["headers"]["authorization"] == "***"
    page = await client.get("/inspector")
    assert "slack: 1" in page.text and "pagerduty: 1" in page.text and "sekrit" not in page.text


async def test_the_inspector_is_off_unless_enabled(client: httpx.AsyncClient) -> None:
    assert (await client.post("/inspector/x/y", json={})).status_code == 404


def test_the_smtp_sink_records_text_and_html() -> None:
    got: list[dict[str, object]] = []
    port = free_port()
    sink = SmtpSink(port, got.append)
    sink.start()
    try:
        msg = EmailMessage()
        msg["Subject"] = "[FIRING:1] CheckDown"
        msg["From"] = "tw@example.com"
        msg["To"] = "ops@example.com"
        msg.set_content("plain body")
        msg.add_alternative("<p>html body</p>", subtype="html")
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(msg)
    finally:
        sink.stop()
    (mail,) = got
    assert mail["subject"] == "[FIRING:1] CheckDown"
    assert mail["rcpt_tos"] == ["ops@example.com"]
    assert str(mail["text"]).strip() == "plain body"
    assert str(mail["html"]).strip() == "<p>html body</p>"


def test_the_inspector_keeps_the_latest_requests_only() -> None:
    from tenantwatch.web.inspector import Captured

    inspector = Inspector(limit=2)
    for i in range(3):
        inspector.record(Captured(float(i), "b", "POST", "/", {}, i))
    assert [c.body for c in inspector.requests()] == [1, 2]

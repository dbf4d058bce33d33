"""The demo's request inspector: local HTTP and SMTP receivers that record what they got."""

from __future__ import annotations

import asyncio
import smtplib
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tenantwatch.adapters.smtp_sink import SmtpSink
from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import Role, Runtime, build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.live_server import live_app
from tests.support import free_port

T0 = 1_767_225_600.0


@pytest.fixture
async def inspected(settings: Settings) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    rt = build_runtime(settings, Config.model_validate({"inspector": {"enabled": True}}))
    await prepare(rt)
    app = create_app(settings, runtime=rt)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tw.test") as c:
        yield rt, c
    await rt.stop()


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


async def test_a_bin_without_a_path_is_a_receiver_not_a_redirect(
    inspected: tuple[Runtime, httpx.AsyncClient],
) -> None:
    """The demo's Slack URL is /inspector/slack: it used to answer 307 to .../slack/."""
    _, client = inspected
    answer = await client.post("/inspector/slack", json={"text": "hi"})
    assert (answer.status_code, answer.text) == (200, "ok")
    got = (await client.get("/inspector/requests?bin=slack")).json()
    assert [(r["method"], r["path"], r["body"]) for r in got] == [("POST", "/", {"text": "hi"})]


async def test_failed_and_dead_deliveries_are_shown_with_the_reason(
    inspected: tuple[Runtime, httpx.AsyncClient],
) -> None:
    rt, client = inspected
    assert rt.outbox is not None
    base = {
        "tenant_id": "alpha",
        "receiver": "team",
        "integration": "webhook/0",
        "kind": "webhook",
        "target": "https://hooks.example/***",
        "group_key": '{}:{alertname="Down"}',
        "fingerprints": ["1d4f2f7a8e0c9b35"],
        "alert_status": "firing",
        "request": {"url": "https://hooks.example/T0SECRETTOKEN0000000"},
        "next_attempt_at": T0,
        "created_at": T0,
        "last_attempt_at": T0,
    }
    await rt.outbox.repo.enqueue_many(
        [
            {
                **base,
                "idempotency_key": "ok",
                "status": "sent",
                "attempts": 1,
                "last_status_code": 200,
                "last_error": None,
            },
            {
                **base,
                "idempotency_key": "dead",
                "status": "dead",
                "attempts": 1,
                "last_status_code": 404,
                "last_error": "not retryable: HTTP 404: no such hook",
            },
            {
                **base,
                "idempotency_key": "retry",
                "status": "pending",
                "attempts": 3,
                "receiver": "chat",
                "last_status_code": None,
                "last_error": "https://hooks.example/***: no response within 15s",
            },
        ]
    )
    page = await client.get("/inspector")
    assert "Failed deliveries" in page.text and "T0SECRETTOKEN" not in page.text
    assert "not retryable: HTTP 404: no such hook" in page.text and "HTTP 404" in page.text
    assert "retrying, attempt 3" in page.text and "no response within 15s" in page.text
    assert "1 alert(s) of group {}:{alertname=&quot;Down&quot;}" in page.text
    first = (await client.get("/inspector/failures?limit=1")).json()
    [dead_or_retry] = first["items"]
    second = (await client.get(f"/inspector/failures?limit=1&cursor={first['next_cursor']}")).json()
    got = {dead_or_retry["receiver"]: dead_or_retry, **{i["receiver"]: i for i in second["items"]}}
    assert second["next_cursor"] is None
    assert (got["team"]["status"], got["team"]["last_status_code"]) == ("dead", 404)
    assert (got["chat"]["status"], got["chat"]["last_status_code"]) == ("pending", None)
    assert got["team"]["fingerprints"] == ["1d4f2f7a8e0c9b35"]


async def test_the_inspector_is_off_unless_enabled(client: httpx.AsyncClient) -> None:
    assert (await client.post("/inspector/x/y", json={})).status_code == 404
    assert (await client.get("/inspector/failures")).status_code == 404


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


def test_the_demo_s_slack_url_gets_its_message_and_a_dead_one_is_shown(tmp_path: Path) -> None:
    """End to end on loopback, as `make run` wires it: Slack at /inspector/slack (no
    trailing slash) is delivered on the first attempt; a webhook to a missing path is
    dead, and the inspector says why."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    am = {
        "route": {
            "receiver": "slack",
            "group_by": ["alertname"],
            "group_wait": "0s",
            "routes": [{"matchers": ['alertname="Broken"'], "receiver": "broken"}],
        },
        "receivers": [
            {"name": "slack", "slack_configs": [{"api_url": f"{url}/inspector/slack"}]},
            {"name": "broken", "webhook_configs": [{"url": f"{url}/nowhere"}]},
        ],
    }
    config = Config.model_validate(
        {
            "inspector": {"enabled": True},
            "alertmanager": {"config": am, "allow_private_targets": ["127.0.0.1/32"]},
        }
    )
    settings = Settings(data_dir=tmp_path / "var", log_level="warning")
    boot = build_runtime(settings, config)

    async def admin_key() -> str:
        await prepare(boot)
        issued = await boot.api_keys.issue(SYSTEM, name="t", scopes=[Scope.ADMIN])
        await boot.stop()
        return issued.secret

    headers = {"Authorization": f"Bearer {asyncio.run(admin_key())}"}
    with (
        live_app(create_app(settings, build_runtime(settings, config), roles={Role.API}), port),
        httpx.Client(base_url=url, headers=headers, timeout=10) as c,
    ):
        alerts = [{"labels": {"alertname": name}} for name in ("Latency", "Broken")]
        assert c.post("/api/v2/alerts", json=alerts).status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            log = {n["receiver"]: n for n in c.get("/api/v1/notifications").json()["items"]}
            if {n["status"] for n in log.values()} == {"sent", "dead"}:
                break
            time.sleep(0.1)
        assert (log["slack"]["status"], log["slack"]["attempts"]) == ("sent", 1)
        assert (log["broken"]["status"], log["broken"]["last_status_code"]) == ("dead", 404)
        got = c.get("/inspector/requests?bin=slack").json()
        assert [r["path"] for r in got] == ["/"]
        assert got[0]["body"]["attachments"][0]["title"].startswith("[FIRING:1] Latency")
        [failed] = c.get("/inspector/failures").json()["items"]
        assert (failed["receiver"], failed["status"]) == ("broken", "dead")
        assert "HTTP 404" in failed["last_error"]
        assert "HTTP 404" in c.get("/inspector").text

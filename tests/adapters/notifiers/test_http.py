"""HTTP channels against a loopback receiver: exact bodies, and what counts as retryable."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qsl

from tenantwatch.adapters.notifiers import Notifiers
from tenantwatch.adapters.notifiers.http import parse_retry_after
from tenantwatch.alertmanager.notify_data import webhook_payload
from tenantwatch.alertmanager.notify_payloads import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    build_msteams,
    build_pagerduty,
    build_pagerduty_ack,
    build_slack,
    build_twilio,
    build_webhook,
    verify_webhook_signature,
)
from tests.adapters.notifiers.conftest import Receiver
from tests.alertmanager.test_notify_payloads import GROUP_KEY, alert, go_render, group


def _data(status: str = "firing"):  # type: ignore[no-untyped-def]
    return group(alert(status=status), alert(tenant="acme", severity="critical", status=status))


async def test_webhook_receives_the_exact_v4_payload(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    data = _data()
    settings = {"url": f"{receiver.url}/hook", "http_config": {"bearer_token": "token123"}}
    req = build_webhook(settings, data, go_render(data), idempotency_key="idem-1")
    result = await notifiers.deliver(req, timeout=5)
    assert result.ok and result.status_code == 200 and result.error is None
    assert result.latency_ms > 0
    [got] = receiver.requests
    assert (got.method, got.path) == ("POST", "/hook")
    assert json.loads(got.body) == webhook_payload(data)
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Authorization"] == "Bearer token123"
    assert got.headers["X-Tenantwatch-Idempotency-Key"] == "idem-1"
    assert SIGNATURE_HEADER not in got.headers


async def test_a_signed_webhook_can_be_verified(receiver: Receiver, notifiers: Notifiers) -> None:
    data = _data()
    req = build_webhook(
        {"url": receiver.url, "hmac_secret": "s3cret"}, data, go_render(data), idempotency_key="k"
    )
    assert (await notifiers.deliver(req, timeout=5)).ok
    [got] = receiver.requests
    stamp, sig = got.headers[TIMESTAMP_HEADER], got.headers[SIGNATURE_HEADER]
    assert verify_webhook_signature("s3cret", got.body, stamp, sig, now=time.time())
    assert not verify_webhook_signature("wrong", got.body, stamp, sig, now=time.time())


async def test_slack_receives_the_seed_layout(receiver: Receiver, notifiers: Notifiers) -> None:
    data = _data()
    settings = {"api_url": f"{receiver.url}/slack", "layout": "seed002"}
    req = build_slack(settings, data, go_render(data), idempotency_key="k")
    assert (await notifiers.deliver(req, timeout=5)).ok
    assert json.loads(receiver.requests[0].body) == {
        "attachments": [
            {
                "color": "danger",
                "title": "[FIRING:2] HighLatency - acme",
                "text": "p99 > 2s",
                "fields": [
                    {"title": "Tenant", "value": "acme", "short": True},
                    {"title": "Severity", "value": "CRITICAL", "short": True},
                    {"title": "Time", "value": "2023-11-14 22:13:20", "short": True},
                ],
                "footer": "tenantwatch",
                "ts": 1700000000,
            }
        ]
    }


async def test_pagerduty_trigger_resolve_and_ack(receiver: Receiver, notifiers: Notifiers) -> None:
    settings = {"routing_key": "RKEY", "url": f"{receiver.url}/v2/enqueue", "description": "d"}
    receiver.status, receiver.body = 202, b'{"status":"success","message":"Event processed"}'
    for build, data in (
        (build_pagerduty, _data()),
        (build_pagerduty, _data("resolved")),
        (build_pagerduty_ack, _data()),
    ):
        result = await notifiers.deliver(
            build(settings, data, go_render(data), idempotency_key="k"), timeout=5
        )
        assert result.ok and result.status_code == 202
    bodies = [json.loads(r.body) for r in receiver.requests]
    dedup = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    assert [(b["event_action"], b["dedup_key"], b["routing_key"]) for b in bodies] == [
        ("trigger", dedup, "RKEY"),
        ("resolve", dedup, "RKEY"),
        ("acknowledge", dedup, "RKEY"),
    ]
    assert bodies[0]["payload"]["summary"] == "d" and bodies[0]["payload"]["severity"] == "error"
    assert bodies[2] == {"routing_key": "RKEY", "dedup_key": dedup, "event_action": "acknowledge"}


async def test_teams_receives_a_message_card(receiver: Receiver, notifiers: Notifiers) -> None:
    data = _data()
    settings = {"webhook_url": receiver.url, "title": "T", "summary": "S", "text": "{{ .Status }}"}
    assert (
        await notifiers.deliver(
            build_msteams(settings, data, go_render(data), idempotency_key="k"), timeout=5
        )
    ).ok
    assert json.loads(receiver.requests[0].body) == {
        "@context": "http://schema.org/extensions",
        "type": "MessageCard",
        "title": "T",
        "summary": "S",
        "text": "firing",
        "themeColor": "8C1A1A",
    }


async def test_twilio_receives_form_fields_and_basic_auth(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    data = _data()
    settings = {
        "account_sid": "AC42",
        "auth_token": "tok",
        "from": "+15550199",
        "to": "+15550100",
        "url": receiver.url,
        "message": "{{ .GroupLabels.alertname }} is {{ .Status }}",
    }
    receiver.status = 201
    assert (
        await notifiers.deliver(
            build_twilio(settings, data, go_render(data), idempotency_key="k"), timeout=5
        )
    ).ok
    [got] = receiver.requests
    assert got.path == "/2010-04-01/Accounts/AC42/Messages.json"
    assert got.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert got.headers["Authorization"] == "Basic " + base64.b64encode(b"AC42:tok").decode()
    assert parse_qsl(got.body.decode()) == [
        ("To", "+15550100"),
        ("From", "+15550199"),
        ("Body", "HighLatency is firing"),
    ]


def _webhook(receiver: Receiver):  # type: ignore[no-untyped-def]
    data = _data()
    return build_webhook({"url": receiver.url}, data, go_render(data), idempotency_key="k")


async def test_429_is_retryable_after_the_servers_delay(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    receiver.status, receiver.headers = 429, {"Retry-After": "7"}
    result = await notifiers.deliver(_webhook(receiver), timeout=5)
    assert (result.ok, result.retryable, result.status_code, result.retry_after_s) == (
        False,
        True,
        429,
        7.0,
    )
    assert result.error is not None and "HTTP 429" in result.error


async def test_retry_after_as_an_http_date(receiver: Receiver, notifiers: Notifiers) -> None:
    when = datetime.fromtimestamp(time.time() + 120, UTC)
    receiver.status, receiver.headers = 503, {"Retry-After": format_datetime(when, usegmt=True)}
    result = await notifiers.deliver(_webhook(receiver), timeout=5)
    assert result.retryable and result.retry_after_s is not None
    assert 100 < result.retry_after_s <= 120


def test_parse_retry_after() -> None:
    assert parse_retry_after("30", 0) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490.0) == 0.0
    assert parse_retry_after("soon", 0) is None
    assert parse_retry_after(None, 0) is None


async def test_500_is_retryable_and_400_is_not(receiver: Receiver, notifiers: Notifiers) -> None:
    receiver.status, receiver.body = 500, b"boom"
    result = await notifiers.deliver(_webhook(receiver), timeout=5)
    assert (result.ok, result.retryable, result.status_code) == (False, True, 500)
    assert (
        result.error
        == f"{receiver.url.removeprefix('http://').join(['http://', ''])}: HTTP 500: boom"
    )
    receiver.status, receiver.body = 400, b'{"message":"invalid_payload"}'
    result = await notifiers.deliver(_webhook(receiver), timeout=5)
    assert (result.ok, result.retryable, result.status_code) == (False, False, 400)
    assert "invalid_payload" in (result.error or "")
    receiver.status = 408
    assert (await notifiers.deliver(_webhook(receiver), timeout=5)).retryable


async def test_a_slow_receiver_times_out_as_retryable(
    receiver: Receiver, notifiers: Notifiers
) -> None:
    receiver.delay = 2.0
    result = await notifiers.deliver(_webhook(receiver), timeout=0.3)
    assert (result.ok, result.retryable, result.status_code) == (False, True, None)
    assert result.error is not None and "no response within 0.3s" in result.error
    assert 250 < result.latency_ms < 1500


async def test_a_closed_port_is_retryable(notifiers: Notifiers) -> None:
    from tests.support import free_port

    data = _data()
    req = build_webhook(
        {"url": f"http://127.0.0.1:{free_port()}/"}, data, go_render(data), idempotency_key="k"
    )
    result = await notifiers.deliver(req, timeout=2)
    assert (result.ok, result.retryable) == (False, True)
    assert "Cannot connect" in (result.error or "") or "Connect" in (result.error or "")


async def test_the_response_body_is_capped(receiver: Receiver) -> None:
    capped = Notifiers(allow_private=["127.0.0.1"], max_body_bytes=10)
    try:
        receiver.status, receiver.body = 400, b"0123456789" * 1000
        result = await capped.deliver(_webhook(receiver), timeout=5)
        assert result.error is not None and result.error.endswith(": HTTP 400: 0123456789")
    finally:
        await capped.close()


async def test_one_session_serves_many_deliveries(receiver: Receiver, notifiers: Notifiers) -> None:
    for _ in range(3):
        assert (await notifiers.deliver(_webhook(receiver), timeout=5)).ok
    assert len(receiver.requests) == 3
    assert len(notifiers._http._sessions) == 1

"""Channel payload builders: exact bodies, headers, targets without secrets."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tenantwatch.alertmanager.notify_data import NotifyAlert, NotifyData, build_notify_data
from tenantwatch.alertmanager.notify_payloads import (
    IDEMPOTENCY_HEADER,
    MSTEAMS_DEFAULT_TEXT,
    PAGERDUTY_DEFAULT_DETAILS,
    OutboundRequest,
    build_apprise,
    build_email,
    build_msteams,
    build_pagerduty,
    build_pagerduty_ack,
    build_request,
    build_slack,
    build_twilio,
    build_webhook,
    go_json,
    notify_data_from_payload,
    redact_url,
    truncate_alerts,
    truncate_runes,
    verify_webhook_signature,
    webhook_signature,
)
from tenantwatch.gotext.template import execute, parse
from tenantwatch.rules.template_funcs import FUNCTIONS

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
GROUP_KEY = '{}/{severity="critical"}:{alertname="HighLatency", tenant="acme"}'


def alert(
    name: str = "HighLatency",
    tenant: str = "acme",
    severity: str = "critical",
    status: str = "firing",
    starts_at: float = T0,
    **annotations: str,
) -> NotifyAlert:
    return NotifyAlert(
        status=status,
        labels={"alertname": name, "tenant": tenant, "severity": severity},
        annotations=annotations or {"summary": f"{name} on {tenant}", "description": "p99 > 2s"},
        starts_at=starts_at,
        ends_at=0.0 if status == "firing" else starts_at + 600,
        generator_url="http://prom.example/graph?g0.expr=up",
        fingerprint="1a30ba71cca2921f",
    )


def group(*alerts: NotifyAlert) -> NotifyData:
    return build_notify_data(
        "team-x",
        {"alertname": alerts[0].labels["alertname"], "tenant": alerts[0].labels["tenant"]},
        alerts,
        "http://tw.example:8000",
        GROUP_KEY,
    )


def go_render(data: NotifyData) -> Callable[[str], str]:
    """Runs templates on the NotifyData with the Go template subset we already have. Calls to
    named templates (`{{ template "x" . }}`, defined by the template set) come back marked
    as «text», so a test sees which default the builder asked for."""
    dot = {
        "Receiver": data.receiver,
        "Status": data.status,
        "GroupLabels": dict(data.group_labels),
        "CommonLabels": dict(data.common_labels),
        "CommonAnnotations": dict(data.common_annotations),
        "ExternalURL": data.external_url,
        "Alerts": [
            {"Status": a.status, "Labels": dict(a.labels), "Annotations": dict(a.annotations)}
            for a in data.alerts
        ],
    }
    # Our Go subset reads fields of maps only; .Alerts.Firing is a method in Alertmanager.
    dot["AlertsFiring"] = [a for a in dot["Alerts"] if a["Status"] == "firing"]
    dot["AlertsResolved"] = [a for a in dot["Alerts"] if a["Status"] == "resolved"]

    def render(text: str) -> str:
        if "{{ template " in text or "{{template " in text:
            return f"«{text}»"
        text = text.replace(".Alerts.Firing", ".AlertsFiring")
        return execute(parse(text.replace(".Alerts.Resolved", ".AlertsResolved")), dot, FUNCTIONS)

    return render


def build_with(
    fn: Callable[..., OutboundRequest], settings: dict[str, Any], data: NotifyData
) -> OutboundRequest:
    return fn(settings, data, go_render(data), idempotency_key="key-1")


# --- OutboundRequest ------------------------------------------------------------------


def test_a_request_survives_a_json_round_trip() -> None:
    data = group(alert())
    req = build_with(build_webhook, {"url": "https://h.example/x", "hmac_secret": "s3"}, data)
    stored = json.loads(json.dumps(req.to_json()))
    assert OutboundRequest.from_json(stored) == req
    assert OutboundRequest.from_json(json.dumps(stored)) == req


def test_a_binary_body_round_trips_as_base64() -> None:
    req = OutboundRequest("webhook", "POST", "https://h/x", (), b"\xff\x00", None, None, "h")
    assert req.to_json()["body_encoding"] == "base64"
    assert OutboundRequest.from_json(req.to_json()) == req


def test_an_email_request_round_trips() -> None:
    data = group(alert())
    req = build_email(
        {
            "to": "a@x.org",
            "from": "tw@x.org",
            "smarthost": "mail.x.org:587",
            "text": "t",
            "html": "h",
        },
        data,
        go_render(data),
        idempotency_key="k",
    )
    assert OutboundRequest.from_json(json.loads(json.dumps(req.to_json()))) == req


# --- webhook --------------------------------------------------------------------------


def test_the_webhook_body_is_alertmanagers_v4_payload() -> None:
    data = group(alert(), alert(tenant="acme", name="HighLatency", severity="critical"))
    req = build_with(build_webhook, {"url": "http://127.0.0.1:9/hook"}, data)
    from tenantwatch.alertmanager.notify_data import webhook_payload

    assert json.loads(req.body or b"") == webhook_payload(data)
    assert req.json == webhook_payload(data)
    assert req.method == "POST" and req.url == "http://127.0.0.1:9/hook"
    assert ("Content-Type", "application/json") in req.headers
    assert (IDEMPOTENCY_HEADER, "key-1") in req.headers
    assert req.hmac_secret is None


def test_the_webhook_body_is_encoded_as_go_encodes_json() -> None:
    data = group(alert(summary="a < b & c > d"))
    body = build_with(build_webhook, {"url": "http://h/x"}, data).body or b""
    assert body.endswith(b"}\n") and b"\\u003c" in body and b"\\u0026" in body
    assert b'"labels":{"alertname":"HighLatency","severity":"critical","tenant":"acme"}' in body


def test_max_alerts_truncates_and_counts_the_rest() -> None:
    a1 = alert(tenant="acme")
    a2 = alert(tenant="beta", status="resolved")
    a3 = alert(tenant="gamma")
    data = group(a1, a2, a3)
    payload = build_with(build_webhook, {"url": "http://h/x", "max_alerts": 2}, data).json
    assert [a["labels"]["tenant"] for a in payload["alerts"]] == ["acme", "beta"]
    assert payload["truncatedAlerts"] == 1
    assert payload["commonLabels"] == {"alertname": "HighLatency", "severity": "critical"}
    assert truncate_alerts(data, 0) is data


def test_webhook_auth_comes_from_http_config() -> None:
    data = group(alert())
    bearer = build_with(
        build_webhook, {"url": "http://h/x", "http_config": {"bearer_token": "tok"}}, data
    )
    assert ("Authorization", "Bearer tok") in bearer.headers
    basic = build_with(
        build_webhook,
        {"url": "http://h/x", "http_config": {"basic_auth": {"username": "u", "password": "p"}}},
        data,
    )
    assert ("Authorization", "Basic " + base64.b64encode(b"u:p").decode()) in basic.headers
    custom = build_with(
        build_webhook,
        {
            "url": "http://h/x",
            "http_config": {"authorization": {"type": "Token", "credentials": "c"}},
        },
        data,
    )
    assert ("Authorization", "Token c") in custom.headers


def test_two_ways_to_authenticate_is_an_error() -> None:
    with pytest.raises(ValueError, match="only one way"):
        build_with(
            build_webhook,
            {
                "url": "http://h/x",
                "http_config": {"bearer_token": "t", "basic_auth": {"username": "u"}},
            },
            group(alert()),
        )


def test_a_webhook_without_url_says_how_to_fix_it() -> None:
    with pytest.raises(ValueError, match=r"'url' is required; e\.g\. url: https://"):
        build_with(build_webhook, {}, group(alert()))
    with pytest.raises(ValueError, match="http:// or https://"):
        build_with(build_webhook, {"url": "ftp://h/x"}, group(alert()))


def test_the_hmac_signature_is_verifiable() -> None:
    body = b'{"a":1}\n'
    sig = webhook_signature("s3cret", "1700000000", body)
    assert (
        sig
        == "sha256="
        + __import__("hmac").new(b"s3cret", b"1700000000." + body, "sha256").hexdigest()
    )
    assert verify_webhook_signature("s3cret", body, "1700000000", sig, now=1_700_000_100)
    assert not verify_webhook_signature("s3cret", body + b" ", "1700000000", sig, now=1_700_000_100)
    assert not verify_webhook_signature("other", body, "1700000000", sig, now=1_700_000_100)
    assert not verify_webhook_signature("s3cret", body, "1700000000", sig, now=1_700_001_000)


# --- slack ----------------------------------------------------------------------------


def test_slack_defaults_are_alertmanagers() -> None:
    data = group(alert(severity="info", description="Latency above 2s"))
    req = build_with(build_slack, {"api_url": "https://hooks.slack.com/services/T0/B0/XYZ"}, data)
    assert req.json == {
        "username": '«{{ template "slack.default.username" . }}»',
        "icon_emoji": '«{{ template "slack.default.iconemoji" . }}»',
        "icon_url": '«{{ template "slack.default.iconurl" . }}»',
        "attachments": [
            {
                "title": '«{{ template "slack.default.title" . }}»',
                "title_link": '«{{ template "slack.default.titlelink" . }}»',
                "pretext": '«{{ template "slack.default.pretext" . }}»',
                "text": '«{{ template "slack.default.text" . }}»',
                "fallback": '«{{ template "slack.default.fallback" . }}»',
                "callback_id": '«{{ template "slack.default.callbackid" . }}»',
                "footer": '«{{ template "slack.default.footer" . }}»',
                "color": "danger",
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ],
    }
    assert req.target == "https://hooks.slack.com/services/***"


@pytest.mark.parametrize(
    ("severity", "status", "color"),
    [
        ("info", "firing", "danger"),
        ("warning", "firing", "danger"),
        ("critical", "resolved", "good"),
    ],
)
def test_an_unset_slack_color_is_danger_while_firing_and_good_once_resolved(
    severity: str, status: str, color: str
) -> None:
    data = group(alert(severity=severity, status=status))
    att = build_with(build_slack, {"api_url": "https://h/x"}, data).json["attachments"][0]
    assert att["color"] == color


def test_slack_empty_fields_keep_alertmanagers_always_present_keys() -> None:
    data = group(alert())
    settings = {"api_url": "https://h/x", "username": ""}
    settings |= dict.fromkeys(
        ("title", "title_link", "pretext", "text", "fallback", "callback_id", "footer"), ""
    )
    settings |= {"color": "", "icon_emoji": "", "icon_url": ""}
    assert build_with(build_slack, settings, data).json == {
        "attachments": [
            {
                "text": "",
                "fallback": "",
                "callback_id": "",
                "footer": "",
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ]
    }


def test_slack_fields_and_actions_as_alertmanager_writes_them() -> None:
    data = group(alert(runbook_url="https://rb/1"))
    settings = {
        "api_url": "https://h/x",
        "short_fields": True,
        "fields": [
            {"title": "Who", "value": "{{ .CommonLabels.tenant }}"},
            {"title": "Empty", "value": "{{ .CommonLabels.nothing }}", "short": False},
        ],
        "actions": [
            {
                "type": "button",
                "text": "Runbook",
                "url": "{{ .CommonAnnotations.runbook_url }}",
                "name": "dropped",
                "confirm": {"text": "dropped"},
            },
            {
                "type": "button",
                "text": "Ack",
                "name": "ack",
                "value": "v",
                "confirm": {"title": "T", "text": "Sure?", "ok_text": "", "dismiss_text": "No"},
            },
        ],
    }
    att = build_with(build_slack, settings, data).json["attachments"][0]
    assert att["fields"] == [
        {"title": "Who", "value": "acme", "short": True},
        {"title": "Empty", "short": False},
    ]
    assert att["actions"] == [
        {"type": "button", "text": "Runbook", "url": "https://rb/1"},
        {
            "type": "button",
            "text": "Ack",
            "name": "ack",
            "value": "v",
            "confirm": {"text": "Sure?", "title": "T", "dismiss_text": "No"},
        },
    ]
    assert list(att) == [
        "title",
        "title_link",
        "pretext",
        "text",
        "fallback",
        "callback_id",
        "fields",
        "actions",
        "footer",
        "color",
        "mrkdwn_in",
    ]


def test_slack_seed_002_layout_on_request() -> None:
    data = group(alert(severity="warning", description="Latency above 2s"))
    settings = {"api_url": "https://hooks.slack.com/services/T0/B0/XYZ", "layout": "seed002"}
    assert build_with(build_slack, settings, data).json == {
        "attachments": [
            {
                "color": "warning",
                "title": "[FIRING:1] HighLatency - acme",
                "text": "Latency above 2s",
                "fields": [
                    {"title": "Tenant", "value": "acme", "short": True},
                    {"title": "Severity", "value": "WARNING", "short": True},
                    {"title": "Time", "value": "2023-11-14 22:13:20", "short": True},
                ],
                "footer": "tenantwatch",
                "ts": 1700000000,
            }
        ]
    }


@pytest.mark.parametrize(
    ("severity", "status", "color"),
    [
        ("info", "firing", "good"),
        ("warning", "firing", "warning"),
        ("error", "firing", "danger"),
        ("critical", "firing", "danger"),
        ("critical", "resolved", "good"),
    ],
)
def test_seed_002_color_follows_severity_and_resolution(
    severity: str, status: str, color: str
) -> None:
    data = group(alert(severity=severity, status=status))
    settings = {"api_url": "https://h/x", "layout": "seed002"}
    att = build_with(build_slack, settings, data).json["attachments"][0]
    assert att["color"] == color


def test_seed_002_layout_takes_the_fields_the_config_sets() -> None:
    data = group(alert(severity="warning", description="slow", runbook_url="https://rb/1"))
    settings = {
        "api_url": "https://h/x",
        "layout": "seed002",
        "channel": "#alerts-warning",
        "username": "tw",
        "color": "warning",
        "title": "Warning: {{ .GroupLabels.alertname }}",
        "text": "{{ .CommonAnnotations.description }}",
        "actions": [
            {"type": "button", "text": "Runbook", "url": "{{ .CommonAnnotations.runbook_url }}"}
        ],
        "fields": [{"title": "Who", "value": "{{ .CommonLabels.tenant }}"}],
        "short_fields": True,
    }
    assert build_with(build_slack, settings, data).json == {
        "channel": "#alerts-warning",
        "username": "tw",
        "attachments": [
            {
                "color": "warning",
                "title": "Warning: HighLatency",
                "text": "slow",
                "fields": [{"title": "Who", "value": "acme", "short": True}],
                "footer": "tenantwatch",
                "ts": 1700000000,
                "actions": [{"type": "button", "text": "Runbook", "url": "https://rb/1"}],
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ],
    }


def test_an_unknown_slack_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="the one layout is 'seed002'"):
        build_with(build_slack, {"api_url": "https://h/x", "layout": "fancy"}, group(alert()))


def test_slack_title_is_cut_at_1024_characters() -> None:
    data = group(alert())
    att = build_with(build_slack, {"api_url": "https://h/x", "title": "x" * 2000}, data).json[
        "attachments"
    ][0]
    assert len(att["title"]) == 1024 and att["title"].endswith("…")


# --- pagerduty ------------------------------------------------------------------------


def test_pagerduty_trigger_has_alertmanagers_fields() -> None:
    data = group(alert())
    settings = {
        "routing_key": "R0UTING",
        "url": "http://127.0.0.1:9/pd",
        "links": [{"href": "https://rb", "text": "Runbook"}, {"href": ""}],
    }
    req = build_with(build_pagerduty, settings, data)
    mark = '«{{ template "pagerduty.default.%s" .}}»'
    assert req.json == {
        "routing_key": "R0UTING",
        "dedup_key": hashlib.sha256(GROUP_KEY.encode()).hexdigest(),
        "event_action": "trigger",
        "payload": {
            "summary": mark % "description",
            "source": '«{{ template "pagerduty.default.client" . }}»',
            "severity": "error",
            "custom_details": {
                "firing": f"«{PAGERDUTY_DEFAULT_DETAILS['firing']}»",
                "num_firing": "1",
                "num_resolved": "0",
                "resolved": f"«{PAGERDUTY_DEFAULT_DETAILS['resolved']}»",
            },
        },
        "client": '«{{ template "pagerduty.default.client" . }}»',
        "client_url": '«{{ template "pagerduty.default.clientURL" . }}»',
        "links": [{"href": "https://rb", "text": "Runbook"}],
    }
    assert req.target == "http://127.0.0.1:9/pd (routing_key ***)"
    assert "R0UTING" not in req.target


def test_pagerduty_resolves_when_all_resolved_with_the_same_dedup_key() -> None:
    firing = build_with(build_pagerduty, {"routing_key": "k"}, group(alert())).json
    resolved = build_with(
        build_pagerduty, {"routing_key": "k"}, group(alert(status="resolved"))
    ).json
    assert resolved["event_action"] == "resolve"
    assert resolved["dedup_key"] == firing["dedup_key"]
    assert (
        build_with(build_pagerduty, {"routing_key": "k"}, group(alert())).url
        == "https://events.pagerduty.com/v2/enqueue"
    )


def test_pagerduty_ack_is_minimal() -> None:
    req = build_with(
        build_pagerduty_ack, {"routing_key": "k", "url": "http://h/pd"}, group(alert())
    )
    assert req.json == {
        "routing_key": "k",
        "dedup_key": hashlib.sha256(GROUP_KEY.encode()).hexdigest(),
        "event_action": "acknowledge",
    }


@pytest.mark.parametrize("label", ["critical", "warning", "info", "bogus"])
def test_an_unset_pagerduty_severity_is_error_whatever_the_labels(label: str) -> None:
    req = build_with(build_pagerduty, {"routing_key": "k"}, group(alert(severity=label)))
    assert req.json["payload"]["severity"] == "error"


def test_pagerduty_templated_fields_and_details() -> None:
    data = group(alert())
    settings = {
        "routing_key": "k",
        "description": "{{ .GroupLabels.alertname }}: {{ .CommonAnnotations.summary }}",
        "severity": "{{ .CommonLabels.severity }}",
        "source": "{{ .CommonLabels.tenant }}",
        "component": "api",
        "details": {"tenant": "{{ .CommonLabels.tenant }}"},
    }
    payload = build_with(build_pagerduty, settings, data).json["payload"]
    assert payload["summary"] == "HighLatency: HighLatency on acme"
    assert payload["source"] == "acme" and payload["component"] == "api"
    assert payload["custom_details"]["tenant"] == "acme"
    assert set(payload["custom_details"]) == {"tenant", *PAGERDUTY_DEFAULT_DETAILS}


def test_pagerduty_summary_is_cut_and_huge_details_are_dropped() -> None:
    data = group(alert())
    settings = {"routing_key": "k", "description": "y" * 3000, "details": {"big": "z" * 600_000}}
    payload = build_with(build_pagerduty, settings, data).json["payload"]
    assert len(payload["summary"]) == 1024
    assert payload["custom_details"] == {
        "error": "Custom details have been removed because the original event exceeds the maximum size of 512kB"
    }


def test_pagerduty_v1_service_key_sends_alertmanagers_v1_event() -> None:
    settings = {"service_key": "SVC", "url": "http://ignored/for/v1"}
    req = build_with(build_pagerduty, settings, group(alert()))
    key = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    assert req.url == "https://events.pagerduty.com/generic/2010-04-15/create_event.json"
    assert req.json == {
        "service_key": "SVC",
        "incident_key": key,
        "event_type": "trigger",
        "description": '«{{ template "pagerduty.default.description" .}}»',
        "event_action": "",
        "payload": None,
        "client": '«{{ template "pagerduty.default.client" . }}»',
        "client_url": '«{{ template "pagerduty.default.clientURL" . }}»',
        "details": {
            "firing": f"«{PAGERDUTY_DEFAULT_DETAILS['firing']}»",
            "num_firing": "1",
            "num_resolved": "0",
            "resolved": f"«{PAGERDUTY_DEFAULT_DETAILS['resolved']}»",
        },
    }
    assert "SVC" not in req.target
    resolved = build_with(build_pagerduty, settings, group(alert(status="resolved"))).json
    assert resolved["event_type"] == "resolve" and "client" not in resolved
    ack = build_with(build_pagerduty_ack, settings, group(alert())).json
    assert ack == {"service_key": "SVC", "incident_key": key, "event_type": "acknowledge"}


# --- teams, twilio, apprise -----------------------------------------------------------


def test_msteams_message_card() -> None:
    data = group(alert(status="resolved"))
    req = build_with(
        build_msteams,
        {"webhook_url": "https://x.webhook.office.com/webhookb2/abc", "text": "{{ .Status }}"},
        data,
    )
    assert req.json == {
        "@context": "http://schema.org/extensions",
        "type": "MessageCard",
        "title": '«{{ template "msteams.default.title" . }}»',
        "text": "resolved",
        "themeColor": "2DC72D",
    }
    firing = build_with(
        build_msteams, {"webhook_url": "https://h/x", "summary": "s"}, group(alert())
    ).json
    assert firing == {
        "@context": "http://schema.org/extensions",
        "type": "MessageCard",
        "title": '«{{ template "msteams.default.title" . }}»',
        "summary": "s",
        "text": '«{{ template "msteams.default.text" . }}»',
        "themeColor": "8C1A1A",
    }
    assert "# Alerts Firing:" in MSTEAMS_DEFAULT_TEXT


def test_twilio_posts_a_form_with_basic_auth() -> None:
    data = group(alert())
    settings = {
        "account_sid": "AC123",
        "auth_token": "tok",
        "from": "+15550199",
        "to": "+15550100",
        "url": "http://127.0.0.1:9",
        "message": "{{ .Status | toUpper }} {{ .GroupLabels.alertname }} " + "x" * 2000,
    }
    req = build_with(build_twilio, settings, data)
    assert req.url == "http://127.0.0.1:9/2010-04-01/Accounts/AC123/Messages.json"
    form = dict(parse_qsl((req.body or b"").decode()))
    assert form["To"] == "+15550100" and form["From"] == "+15550199"
    assert form["Body"].startswith("FIRING HighLatency xxx") and len(form["Body"]) == 1600
    assert ("Authorization", "Basic " + base64.b64encode(b"AC123:tok").decode()) in req.headers
    assert "tok" not in req.target


def test_twilio_wants_one_number() -> None:
    with pytest.raises(ValueError, match="one config per number"):
        build_with(
            build_twilio,
            {"account_sid": "a", "auth_token": "t", "from": "+1", "to": ["+2", "+3"]},
            group(alert()),
        )


def test_apprise_request_and_masked_target() -> None:
    data = group(alert())
    req = build_with(
        build_apprise,
        {"urls": ["json://127.0.0.1:9/hook", "tgram://123:SECRET/chat"], "body": "{{ .Status }}"},
        data,
    )
    assert req.json == {
        "urls": ["json://127.0.0.1:9/hook", "tgram://123:SECRET/chat"],
        "title": '«{{ template "__subject" . }}»',
        "body": "firing",
    }
    assert req.target == "json://127.0.0.1:9/hook, tgram://***"


# --- email ----------------------------------------------------------------------------


def fake_templates(name: str, data: NotifyData) -> tuple[str, str]:
    return f"<p>{name} {data.status}</p>", f"{name} {data.status}"


def test_email_from_seed_000_subject_and_body() -> None:
    data = group(alert())
    settings = {
        "to": "ops-team@ai-shifu.com",
        "from": "alerts@ai-shifu.com",
        "smarthost": "127.0.0.1:2525",
        "auth_username": "alerts",
        "auth_password": "secret",
        "subject": "[AI-Shifu] {{ .GroupLabels.alertname }}",
        "body": "{{ range .Alerts }}Alert: {{ .Annotations.summary }}\n{{ end }}",
    }
    req = build_email(
        settings, data, go_render(data), idempotency_key="k", render_email=fake_templates
    )
    smtp = req.smtp or {}
    assert smtp["headers"] == [
        ["To", "ops-team@ai-shifu.com"],
        ["From", "alerts@ai-shifu.com"],
        ["Subject", "[AI-Shifu] HighLatency"],
    ]
    assert smtp["text"] == "Alert: HighLatency on acme\n"
    assert smtp["html"] == '«{{ template "email.default.html" . }}»'
    assert (smtp["host"], smtp["port"], smtp["from"], smtp["to"]) == (
        "127.0.0.1",
        2525,
        "alerts@ai-shifu.com",
        ["ops-team@ai-shifu.com"],
    )
    assert smtp["require_tls"] is True
    assert req.target == "ops-team@ai-shifu.com via 127.0.0.1:2525"
    assert "secret" not in req.target


def test_email_headers_win_and_are_canonical() -> None:
    data = group(alert())
    settings = {
        "to": "a@x.org, B <b@x.org>",
        "from": "tw@x.org",
        "smarthost": "mail.x.org:465",
        "headers": {"subject": "S {{ .Status }}", "x-team": "ops"},
        "html": "",
        "text": "plain",
        "require_tls": False,
        "tls_config": {"insecure_skip_verify": True},
    }
    smtp = build_email(settings, data, go_render(data), idempotency_key="k").smtp or {}
    assert smtp["headers"] == [
        ["Subject", "S firing"],
        ["X-Team", "ops"],
        ["To", "a@x.org, B <b@x.org>"],
        ["From", "tw@x.org"],
    ]
    assert smtp["to"] == ["a@x.org", "b@x.org"]
    assert smtp["html"] is None and smtp["text"] == "plain"
    assert smtp["require_tls"] is False and smtp["insecure_skip_verify"] is True


def test_email_defaults_are_alertmanagers_subject_and_page_without_text() -> None:
    data = group(alert())
    settings = {"to": "a@x.org", "from": "tw@x.org", "smarthost": "h:25"}
    smtp = (
        build_email(
            settings, data, go_render(data), idempotency_key="k", render_email=fake_templates
        ).smtp
        or {}
    )
    assert smtp["headers"] == [
        ["To", "a@x.org"],
        ["From", "tw@x.org"],
        ["Subject", '«{{ template "email.default.subject" . }}»'],
    ]
    assert (smtp["text"], smtp["html"]) == (None, '«{{ template "email.default.html" . }}»')
    assert "default_parts" not in smtp


def test_email_tenantwatch_layout_fills_unset_parts_from_its_templates() -> None:
    data = group(alert())
    settings = {"to": "a@x.org", "from": "tw@x.org", "smarthost": "h:25", "layout": "tenantwatch"}
    now = (
        build_email(
            settings, data, go_render(data), idempotency_key="k", render_email=fake_templates
        ).smtp
        or {}
    )
    assert (now["text"], now["html"]) == ("default firing", "<p>default firing</p>")
    later = build_email(settings, data, go_render(data), idempotency_key="k").smtp or {}
    assert (later["text"], later["html"], later["default_parts"]) == (None, None, ["html", "text"])
    assert notify_data_from_payload(later["template_data"]) == data
    with pytest.raises(ValueError, match="the one layout is 'tenantwatch'"):
        build_email({**settings, "layout": "x"}, data, go_render(data), idempotency_key="k")


def test_email_errors_say_what_to_write() -> None:
    data = group(alert())
    with pytest.raises(ValueError, match="host:port"):
        build_email(
            {"to": "a@x", "from": "b@x", "smarthost": "nohost"},
            data,
            go_render(data),
            idempotency_key="k",
        )
    with pytest.raises(ValueError, match="'to' is required"):
        build_email(
            {"from": "b@x", "smarthost": "h:25"}, data, go_render(data), idempotency_key="k"
        )


def test_the_message_id_is_stable_per_idempotency_key() -> None:
    data = group(alert())
    settings = {"to": "a@x.org", "from": "tw@x.org", "smarthost": "h:25", "text": "t", "html": "h"}
    one = build_email(settings, data, go_render(data), idempotency_key="k1").smtp or {}
    again = build_email(settings, data, go_render(data), idempotency_key="k1").smtp or {}
    other = build_email(settings, data, go_render(data), idempotency_key="k2").smtp or {}
    assert one["message_id"] == again["message_id"] != other["message_id"]


def test_the_html_part_goes_through_the_html_renderer_and_the_rest_does_not() -> None:
    data = group(alert())
    settings = {
        "to": "a@x.org",
        "from": "tw@x.org",
        "smarthost": "h:25",
        "subject": "S <1>",
        "text": "T <2>",
        "html": "H <3>",
    }
    smtp = (
        build_email(
            settings,
            data,
            lambda text: text,
            idempotency_key="k",
            render_html=lambda text: f"html({text})",
        ).smtp
        or {}
    )
    assert (smtp["html"], smtp["text"]) == ("html(H <3>)", "T <2>")
    assert ["Subject", "S <1>"] in smtp["headers"]


# --- helpers --------------------------------------------------------------------------


def test_build_dispatches_by_kind() -> None:
    data = group(alert())
    assert (
        build_request(
            "slack", {"api_url": "https://h/x"}, data, go_render(data), idempotency_key="k"
        ).kind
        == "slack"
    )
    with pytest.raises(ValueError, match="unknown notification kind 'fax'; use one of"):
        build_request("fax", {}, data, go_render(data), idempotency_key="k")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/services/***"),
        ("http://user:pw@127.0.0.1:5001/webhook", "http://127.0.0.1:5001/webhook"),
        ("https://h.example/a1b2c3d4e5f6g7h8", "https://h.example/***"),
        ("https://h.example/hook?token=abc", "https://h.example/hook?***"),
    ],
)
def test_redact_url_hides_credentials_and_tokens(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_truncate_runes_as_alertmanager() -> None:
    assert truncate_runes("abcdef", 6) == "abcdef"
    assert truncate_runes("abcdef", 5) == "abcd…"
    assert truncate_runes("abcdef", 3) == "abc"


def test_go_json_escapes_like_go() -> None:
    assert go_json({"a": "<&>\u2028é"}) == b'{"a":"\\u003c\\u0026\\u003e\\u2028\xc3\xa9"}\n'

"""Every receiver kind Alertmanager 0.25 and tenantwatch share (webhook, Slack, PagerDuty,
email), once with every field left to its default and once with every field set: the
same alert sequence through a real Alertmanager and through tenantwatch must produce the
same requests, byte for byte, and the same emails (headers and bodies; only Message-Id,
Date and the MIME boundary may differ)."""

from __future__ import annotations

import asyncio
import base64
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tenantwatch.gotext.times import format_rfc3339_nano
from tests.alertmanager_server import require_alertmanager
from tests.am_compare import Clock, Mailbox, Sides, both

CONFIG = """
route:
  receiver: all
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
receivers:
  - name: all
    webhook_configs:
      - url: URL/hook
      - url: URL/hook-max
        max_alerts: 2
        http_config: {basic_auth: {username: am, password: s3cret}}
    slack_configs:
      - api_url: URL/slack-default
      - api_url: URL/slack-set
        send_resolved: true
        channel: '#ops'
        username: 'bot {{ .Receiver }}'
        icon_emoji: ':fire:'
        icon_url: 'http://icons/{{ .Status }}.png'
        color: '{{ if eq .CommonLabels.severity "critical" }}danger{{ else }}warning{{ end }}'
        title: '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}'
        title_link: 'http://grafana/d/{{ .GroupLabels.alertname }}'
        pretext: pre
        text: '{{ range .Alerts }}{{ .Annotations.description }} {{ end }}'
        footer: f
        fallback: fb
        callback_id: cb
        image_url: 'http://img/x.png'
        thumb_url: 'http://img/t.png'
        link_names: true
        short_fields: true
        mrkdwn_in: [text]
        fields:
          - {title: severity, value: '{{ .CommonLabels.severity }}'}
          - {title: count, value: '{{ len .Alerts }}', short: false}
        actions:
          - type: button
            text: Runbook
            url: 'http://rb/{{ .GroupLabels.alertname }}'
            style: primary
            name: dropped-because-of-url
          - type: button
            text: Ack
            name: ack
            value: '{{ .GroupLabels.alertname }}'
            confirm: {text: 'Sure?', title: Ack, ok_text: 'Yes', dismiss_text: 'No'}
    pagerduty_configs:
      - routing_key: key-default
        url: URL/pd-default
      - routing_key: 'key-{{ .GroupLabels.alertname }}'
        url: URL/pd-set
        client: tw
        client_url: 'http://client/{{ .Receiver }}'
        description: '{{ .CommonAnnotations.summary }}'
        severity: '{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}{{ else }}warning{{ end }}'
        source: src
        class: cls
        component: '{{ .GroupLabels.alertname }}'
        group: grp
        details: {firing: '{{ .Alerts.Firing | len }} firing', team: db}
        images: [{src: 'http://img/a.png', alt: a, href: 'http://a'}, {src: '', alt: none}]
        links: [{href: 'http://l', text: l}, {text: 'no href'}]
    email_configs:
      - to: ops@example.com
        from: am@example.com
        smarthost: SMTP
        require_tls: false
      - to: 'Ops <ops@example.com>, dev@example.com'
        from: 'Alerts <am@example.com>'
        smarthost: SMTP
        require_tls: false
        send_resolved: true
        text: '{{ template "__subject" . }}{{ range .Alerts }} {{ .Labels.instance }}{{ end }}'
        headers:
          subject: 'Alert: {{ .GroupLabels.alertname }} ({{ .Status }})'
          X-Team: db
          Reply-To: noreply@example.com
"""
# Message-Id and Date are the sender's own; Content-Type carries a random boundary
OWN_HEADERS = ("Message-Id", "Date", "Content-Type")


def _alert(start: str, end: str | None = None, **labels: str) -> dict[str, Any]:
    name, instance = labels["alertname"], labels.get("instance", "")
    body: dict[str, Any] = {
        "labels": labels,
        "annotations": {
            "summary": f'<b>{name}</b> & "quotes" on {instance}',
            "description": f"{name} on {instance} in Zürich",
        },
        "startsAt": start,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up%3D%3D0&g0.tab=1",
    }
    if end:
        body["endsAt"] = end
    return body


async def _record(tmp_path: Path) -> Sides:
    """A group of three that loses one alert, and a group of one that resolves."""
    async with both(tmp_path, CONFIG) as (sides, send):
        clock = Clock()
        t0 = format_rfc3339_nano(round(time.time() - 10))
        a1 = {"alertname": "HighLatency", "severity": "warning", "instance": "a", "dc": "zü"}
        a2 = {"alertname": "HighLatency", "severity": "critical", "instance": "b", "dc": "zü"}
        a3 = {"alertname": "HighLatency", "severity": "warning", "instance": "c", "dc": "zü"}
        b1 = {"alertname": "DiskFull", "severity": "critical", "instance": "d"}
        await send([_alert(t0, **a1), _alert(t0, **a2), _alert(t0, **a3), _alert(t0, **b1)])
        # flushes at about 1 s, 4 s and 7 s; each change lands 1.5 s from a flush
        await clock.at(2.5)
        await send([_alert(t0, format_rfc3339_nano(round(time.time(), 3)), **a2)])
        await clock.at(5.5)
        await send([_alert(t0, format_rfc3339_nano(round(time.time(), 3)), **b1)])
        await clock.at(9.5)
    return sides


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Sides:
    require_alertmanager()
    return asyncio.run(_record(tmp_path_factory.mktemp("payloads")))


def _bodies(sides: Sides, path: str) -> tuple[list[bytes], list[bytes]]:
    """The bodies each side posted to path, in a stable order (groups interleave by timing)."""
    theirs = sorted(r.body for r in sides.theirs.requests if r.path == path)
    ours = sorted(r.body for r in sides.ours.requests if r.path == path)
    return theirs, ours


def _headers(sides: Sides, path: str, name: str) -> tuple[set[str], set[str]]:
    theirs = {r.headers.get(name, "") for r in sides.theirs.requests if r.path == path}
    ours = {r.headers.get(name, "") for r in sides.ours.requests if r.path == path}
    return theirs, ours


@pytest.mark.parametrize(
    ("path", "count"),
    [
        ("/hook", 4),  # two groups firing, one losing an alert, one resolved
        ("/hook-max", 4),
        ("/slack-default", 2),  # send_resolved is off by default
        ("/slack-set", 4),
        ("/pd-default", 4),
        ("/pd-set", 4),
    ],
)
def test_http_receivers_get_alertmanagers_bodies_byte_for_byte(
    sides: Sides, path: str, count: int
) -> None:
    theirs, ours = _bodies(sides, path)
    assert len(theirs) == count
    assert ours == theirs
    assert _headers(sides, path, "Content-Type") == ({"application/json"}, {"application/json"})


def test_an_unset_slack_color_is_danger_for_any_firing_alert(sides: Sides) -> None:
    theirs, ours = _bodies(sides, "/slack-default")
    assert ours == theirs
    colors = {b'"color":"danger"' in body for body in ours}
    assert colors == {True}


def test_webhook_http_config_authenticates_as_alertmanager_does(sides: Sides) -> None:
    basic = "Basic " + base64.b64encode(b"am:s3cret").decode()
    assert _headers(sides, "/hook-max", "Authorization") == ({basic}, {basic})


def _mail(message: tuple[str, list[str], EmailMessage]) -> tuple[Any, ...]:
    sender, rcpts, msg = message
    headers = sorted((k, str(v)) for k, v in msg.items() if k not in OWN_HEADERS)
    parts = [
        (p.get_content_type(), p["Content-Transfer-Encoding"], str(p.get_content()))
        for p in msg.iter_parts()
    ]
    return sender, sorted(rcpts), msg.get_content_type(), headers, parts


def _mails(box: Mailbox) -> list[tuple[Any, ...]]:
    pairs = zip(box.messages, box.parsed(), strict=True)
    return sorted(_mail((sender, rcpts, msg)) for (sender, rcpts, _), msg in pairs)


def test_emails_match_alertmanagers_headers_and_bodies(sides: Sides) -> None:
    theirs = _mails(sides.their_mail)
    ours = _mails(sides.our_mail)
    # the default config: two firing groups; the other: two firing, one update, one resolved
    assert len(theirs) == 6
    for mine, want in zip(ours, theirs, strict=True):
        assert mine[:4] == want[:4]
        assert [p[:2] for p in mine[4]] == [p[:2] for p in want[4]]
        for (kind, _, got), (_, _, expected) in zip(mine[4], want[4], strict=True):
            assert got == expected, f"{kind} part differs"
    assert len(ours) == len(theirs)


def test_an_email_without_html_gets_alertmanagers_page_and_no_text_part(sides: Sides) -> None:
    box = sides.our_mail
    defaults = [
        msg
        for (_, rcpts, _), msg in zip(box.messages, box.parsed(), strict=True)
        if rcpts == ["ops@example.com"]
    ]
    assert len(defaults) == 2
    for msg in defaults:
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/html"]
        assert "View in Alertmanager" in str(next(msg.iter_parts()).get_content())

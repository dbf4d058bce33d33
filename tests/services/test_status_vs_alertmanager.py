"""`/api/v2/status` shows the configuration as Alertmanager 0.25 does: the same YAML (after
parsing) for the same configuration, with Alertmanager's defaults filled in and secrets
as `<secret>`, so amtool can load it back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from tests.alertmanager_server import require_alertmanager
from tests.am_compare import Sides, both

CONFIG = """
global:
  resolve_timeout: 90s
  smtp_from: 'Alerts <am@example.com>'
  smtp_smarthost: SMTP
  smtp_auth_username: am
  smtp_auth_password: smtp-secret
  smtp_require_tls: false
  slack_api_url: 'URL/slack-global'
  http_config:
    follow_redirects: false
    tls_config: {insecure_skip_verify: true}
route:
  receiver: default
  group_by: [alertname, tenant]
  group_wait: 45s
  group_interval: 1h30m
  repeat_interval: 8d
  routes:
    - matchers: ['severity="critical"', '{team=~"db|infra", env!="dev"}']
      receiver: pager
      continue: true
    - match: {team: web}
      match_re: {service: 'api|front.*'}
      receiver: chat
      group_by: ['...']
      mute_time_intervals: [nights]
      routes:
        - matchers: [instance!~"test.*"]
          receiver: mail
          active_time_intervals: [office]
          group_wait: 0s
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity=~"warning|info"']
    equal: [alertname, instance]
  - source_match: {severity: page}
    target_match_re: {severity: 'low|info'}
receivers:
  - name: default
    webhook_configs:
      - url: 'URL/hook?token=abc'
      - url: 'URL/hook2'
        send_resolved: false
        max_alerts: 10
        http_config:
          basic_auth: {username: u, password: p}
  - name: pager
    pagerduty_configs:
      - routing_key: rk-7f3a
        url: 'URL/pd'
      - service_key: sk-91c2
        client: tw
        severity: '{{ .CommonLabels.severity }}'
        details: {extra: x}
        images: [{src: 'http://img', alt: a}]
        links: [{href: 'http://l'}]
        http_config: {bearer_token: tok-5d1e}
  - name: chat
    slack_configs:
      - channel: '#ops'
      - api_url: 'URL/slack'
        send_resolved: true
        title: T
        short_fields: true
        fields: [{title: a, value: b}, {title: c, value: d, short: false}]
        actions:
          - {type: button, text: Go, url: 'http://go', name: dropped}
          - {type: button, text: Ack, name: ack, value: v, confirm: {text: 'Sure?'}}
        mrkdwn_in: [text]
        link_names: true
  - name: mail
    email_configs:
      - to: ops@example.com
      - to: dev@example.com
        from: dev-alerts@example.com
        smarthost: SMTP
        require_tls: true
        auth_password: own-pw-3
        headers: {subject: 'S {{ .Status }}', x-team: db}
        text: 'plain'
        html: ''
        tls_config: {server_name: mail.example.com}
time_intervals:
  - name: office
    time_intervals:
      - times: [{start_time: '09:00', end_time: '17:30'}]
        weekdays: ['monday:friday', saturday]
        days_of_month: ['1:10', '-1']
        months: ['january:march', december]
        years: ['2024:2030']
        location: Europe/Berlin
templates: ['/nonexistent/tenantwatch-test/*.tmpl']
mute_time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: '00:00', end_time: '06:00'}]
"""


async def _statuses(tmp_path: Path) -> Sides:
    async with both(tmp_path, CONFIG) as (sides, _):
        return sides


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Sides:
    require_alertmanager()
    return asyncio.run(_statuses(tmp_path_factory.mktemp("status")))


def _texts(sides: Sides) -> tuple[str, str]:
    """Both config.original texts, each side's own receiver URL and SMTP port (the one
    legitimate difference) written as URL and SMTP."""
    theirs = sides.am_status["config"]["original"]
    ours = sides.our_status["config"]["original"]
    theirs = theirs.replace(sides.theirs.url, "URL").replace(
        f"127.0.0.1:{sides.their_mail.port}", "SMTP"
    )
    ours = ours.replace(sides.ours.url, "URL").replace(f"127.0.0.1:{sides.our_mail.port}", "SMTP")
    return theirs, ours


def test_status_config_is_alertmanagers_after_parsing(sides: Sides) -> None:
    theirs, ours = (yaml.safe_load(text) for text in _texts(sides))
    for section in theirs:
        assert ours.get(section) == theirs[section], section
    assert ours == theirs


def test_status_config_keeps_alertmanagers_key_order(sides: Sides) -> None:
    theirs, ours = _texts(sides)
    keys = [line.split(":")[0] for line in theirs.splitlines() if line.rstrip().endswith(":")]
    mine = [line.split(":")[0] for line in ours.splitlines() if line.rstrip().endswith(":")]
    assert mine == keys


def test_secrets_are_masked_and_webhook_urls_are_not(sides: Sides) -> None:
    text = sides.our_status["config"]["original"]
    for secret in ("smtp-secret", "rk-7f3a", "sk-91c2", "tok-5d1e", "own-pw-3", "slack-global"):
        assert secret not in text.replace("<secret>", "")
    assert "hook?token=abc" in text  # a plain URL in Alertmanager 0.25, as there

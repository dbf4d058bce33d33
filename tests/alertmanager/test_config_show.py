"""The configuration as /api/v2/status shows it: Alertmanager 0.25's form (its defaults,
its secrets, nothing only tenantwatch reads) and a tenant's cut of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tenantwatch.alertmanager.config import (
    load_alertmanager_config,
    parse_alertmanager_config,
    with_tenant_routes,
)
from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.alertmanager.config_show import matcher_lines
from tenantwatch.alertmanager.config_show_values import go_duration

CONFIG = """
global:
  smtp_smarthost: 'mail.example.com:587'
  smtp_from: ops@example.com
  smtp_auth_username: ops
  smtp_auth_password: smtp-pass-0001
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['tenant=~"bravo|charlie"']
      receiver: shared-bc
      mute_time_intervals: [nights]
    - match: {team: db}
      receiver: db
receivers:
  - name: default
    webhook_configs: [{url: 'https://hooks.example.com/default/abc123def456ghi789'}]
    msteams_configs: [{webhook_url: 'https://x.webhook.office.com/hook'}]
  - name: pager
    pagerduty_configs: [{routing_key: pd-key-0001}]
    twilio_configs: [{account_sid: AC1, auth_token: tw-0001, from: '+1', to: '+2'}]
  - name: db
    slack_configs: [{api_url: 'https://hooks.slack.com/services/T/B/X', layout: seed002}]
    email_configs: [{to: db@example.com, layout: tenantwatch}]
  - name: shared-bc
    apprise_configs: [{urls: ['json://127.0.0.1:9/x']}]
  - name: alpha-hook
    webhook_configs: [{url: 'https://alpha.example.com/in/secret-path', hmac_secret: s3}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
  - source_matchers: ['tenant="bravo"']
    target_matchers: ['tenant="alpha"']
time_intervals:
  - name: nights
    time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]
"""


def _config(tenant_routes: dict[str, dict[str, object]] | None = None) -> AlertmanagerConfig:
    config = parse_alertmanager_config(CONFIG, "alertmanager.yml")
    return with_tenant_routes(config, tenant_routes or {})


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("300s", "5m"),
        ("90m", "1h30m"),
        ("8d", "8d"),
        ("14d", "2w"),
        ("0", "0s"),
        ("1500ms", "1s500ms"),
    ],
)
def test_durations_print_as_prometheus_model_duration(text: str, shown: str) -> None:
    assert go_duration(text) == shown


def test_matchers_are_split_sorted_and_quoted_as_alertmanager_prints_them() -> None:
    assert matcher_lines(['{b=~"x|y", a!=1}', 'a="1"', 'c="q\\"uote"']) == [
        'a="1"',
        'a!="1"',
        'b=~"x|y"',
        'c="q\\"uote"',
    ]


def test_defaults_are_filled_and_tenantwatch_only_fields_left_out() -> None:
    shown = _config().public()
    assert shown["global"]["resolve_timeout"] == "5m"
    assert shown["global"]["smtp_auth_password"] == "<secret>"
    by_name = {r["name"]: r for r in shown["receivers"]}
    assert set(by_name["default"]) == {"name", "webhook_configs"}  # no msteams_configs
    assert set(by_name["pager"]) == {"name", "pagerduty_configs"}  # no twilio_configs
    assert by_name["shared-bc"] == {"name": "shared-bc"}  # apprise only
    slack = by_name["db"]["slack_configs"][0]
    email = by_name["db"]["email_configs"][0]
    assert "layout" not in slack and "layout" not in email
    assert slack["color"] == '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    assert email["smarthost"] == "mail.example.com:587" and email["auth_password"] == "<secret>"
    assert email["headers"]["Subject"] == '{{ template "email.default.subject" . }}'
    hook = by_name["alpha-hook"]["webhook_configs"][0]
    assert "hmac_secret" not in hook and hook["url"] == "https://alpha.example.com/in/secret-path"
    assert by_name["pager"]["pagerduty_configs"][0]["routing_key"] == "<secret>"
    text = _config().public_yaml()
    for secret in ("smtp-pass-0001", "pd-key-0001", "tw-0001"):
        assert secret not in text
    assert yaml.safe_load(text) == shown


def test_tenant_routes_show_first_under_the_root_with_their_tenant_matcher() -> None:
    shown = _config({"alpha": {"receiver": "alpha-hook", "group_wait": "10s"}}).public()
    first = shown["route"]["routes"][0]
    assert first == {
        "receiver": "alpha-hook",
        "matchers": ['tenant="alpha"'],
        "continue": False,
        "group_wait": "10s",
    }


def test_a_tenant_with_its_own_route_sees_that_route_its_receiver_and_nothing_else() -> None:
    view = _config({"alpha": {"receiver": "alpha-hook"}}).public("alpha")
    assert view["route"] == {
        "receiver": "alpha-hook",
        "group_by": ["alertname"],
        "continue": False,
        "routes": [{"receiver": "alpha-hook", "matchers": ['tenant="alpha"'], "continue": False}],
    }
    [receiver] = view["receivers"]
    assert receiver["webhook_configs"][0]["url"] == "https://alpha.example.com/in/***"
    assert view["global"]["resolve_timeout"] == "5m"
    assert "smtp_smarthost" not in view["global"] and "smtp_from" not in view["global"]
    assert view["templates"] == []
    # the cross-tenant rule names bravo; the severity rule applies to everyone
    assert view["inhibit_rules"] == [
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"']}
    ]
    assert "time_intervals" not in view


def test_a_tenant_without_its_own_route_sees_the_shared_routes_it_can_reach() -> None:
    config = _config()
    view = config.public("bravo")
    # tenant=~"bravo|charlie" takes all of bravo's alerts: what follows it and the root's
    # own receiver are out of reach
    assert [r["receiver"] for r in view["route"]["routes"]] == ["pager", "shared-bc"]
    assert view["route"]["receiver"] == "shared-bc"
    assert [r["name"] for r in view["receivers"]] == ["pager", "shared-bc"]
    assert [i["name"] for i in view["time_intervals"]] == ["nights"]
    alpha = config.public("alpha")
    assert [r["receiver"] for r in alpha["route"]["routes"]] == ["pager", "db"]
    assert "time_intervals" not in alpha
    assert config.receiver_names("alpha") == ["default", "pager", "db"]
    assert config.receiver_names() == ["default", "pager", "db", "shared-bc", "alpha-hook"]


def test_relative_paths_show_joined_to_the_files_directory(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("")
    text = """
route: {receiver: r}
receivers:
  - name: r
    webhook_configs:
      - url: 'https://h.example/x'
        http_config: {tls_config: {ca_file: ca.pem}, basic_auth: {username: u, password_file: pw}}
templates: ['tmpl/*.tmpl', '/etc/am/*.tmpl']
"""
    (tmp_path / "pw").write_text("secret\n")
    (tmp_path / "am.yml").write_text(text)
    shown = load_alertmanager_config(tmp_path / "am.yml").public()
    assert shown["templates"] == [f"{tmp_path}/tmpl/*.tmpl", "/etc/am/*.tmpl"]
    http = shown["receivers"][0]["webhook_configs"][0]["http_config"]
    assert http["tls_config"] == {"ca_file": f"{tmp_path}/ca.pem", "insecure_skip_verify": False}
    assert http["basic_auth"] == {"username": "u", "password_file": f"{tmp_path}/pw"}

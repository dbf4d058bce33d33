"""A group's flush planned from the alert manager's state: notifications, log entries,
and keys that stay the same for the same notification."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tenantwatch.alertmanager import nflog
from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.config import parse_alertmanager_config
from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.alertmanager.dispatch import Dispatcher, Flush
from tenantwatch.alertmanager.flush_plan import (
    AlertState,
    LogEntry,
    flush_key,
    idempotency_key,
    nflog_key,
    plan_flushes,
)
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.routing import LabelMatcher
from tenantwatch.alertmanager.silences import Silence

NOW = 1_700_000_000.0
AM = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: "http://127.0.0.1:9/hook"
      - url: "http://127.0.0.1:9/quiet"
        send_resolved: false
"""


def config(text: str = AM) -> AlertmanagerConfig:
    return parse_alertmanager_config(text, "am.yml")


def alert(name: str = "Down", ends_at: float = NOW + 300, **labels: str) -> AmAlert:
    return AmAlert.of(
        labels={"alertname": name, **labels},
        annotations={"summary": "down"},
        starts_at=NOW - 60,
        ends_at=ends_at,
        updated_at=NOW - 60,
    )


def records(*alerts: AmAlert) -> dict[str, AlertRecord]:
    return {a.fingerprint: AlertRecord(a, "api", NOW - 60, NOW - 60) for a in alerts}


def flushes(cfg: AlertmanagerConfig, *alerts: AmAlert) -> list[Flush]:
    d = Dispatcher(cfg.route)
    for a in alerts:
        d.insert(a, NOW)
    return d.due(NOW)


def state(
    recs: dict[str, AlertRecord],
    silences: dict[str, Silence] | None = None,
    log: dict[str, nflog.Entry] | None = None,
) -> AlertState:
    return AlertState(recs, silences or {}, log or {})


def body(request_body: bytes | None) -> dict[str, Any]:
    assert request_body is not None
    parsed: dict[str, Any] = json.loads(request_body)
    return parsed


def test_a_firing_group_goes_to_each_integration_and_each_gets_a_log_entry() -> None:
    cfg = config()
    a = alert()
    [flush] = flushes(cfg, a)
    plan = plan_flushes([flush], cfg, state(records(a)), "http://tw", NOW)
    assert [o.integration for o in plan.outgoing] == ["webhook/0", "webhook/1"]
    for o in plan.outgoing:
        assert (o.receiver, o.group_key, o.alert_status, o.role) == (
            "hook",
            flush.group_key,
            "firing",
            "state",
        )
        assert o.fingerprints == (a.fingerprint,)
        assert body(o.request.body)["alerts"][0]["labels"]["alertname"] == "Down"
    expected_entry = nflog.Entry(frozenset({a.fingerprint}), frozenset(), NOW, NOW + 7200)
    assert plan.log == [
        LogEntry(nflog_key("hook", name, flush.group_key), "hook", name, flush.group_key, entry)
        for name, entry in (("webhook/0", expected_entry), ("webhook/1", expected_entry))
    ]
    assert plan.failures == []


def test_the_idempotency_key_is_that_of_the_log_entry_alerts_and_time() -> None:
    cfg = config()
    a = alert()
    [flush] = flushes(cfg, a)
    plan = plan_flushes([flush], cfg, state(records(a)), "http://tw", NOW)
    first = plan.outgoing[0]
    key = nflog_key("hook", "webhook/0", flush.group_key)
    assert first.idempotency_key == flush_key(key, {a.fingerprint}, set(), NOW)
    assert first.request.idempotency_key == first.idempotency_key
    again = plan_flushes([flush], cfg, state(records(a)), "http://tw", NOW)
    assert [o.idempotency_key for o in again.outgoing] == [o.idempotency_key for o in plan.outgoing]
    later = plan_flushes([flush], cfg, state(records(a)), "http://tw", NOW + 1)
    assert later.outgoing[0].idempotency_key != first.idempotency_key


def test_keys_are_stable_digests_of_their_parts() -> None:
    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    assert idempotency_key("ack", "{}:{}", "pagerduty/0", 1.5) == sha("ack:{}:{}:pagerduty/0:1.5")
    assert nflog_key("hook", "webhook/0", "{}:{}") == sha('["hook","webhook/0","{}:{}"]')
    assert flush_key("k", {"b", "a"}, {"c"}, 1.23456) == sha('["k",["a","b"],["c"],1.235]')


def test_only_resolved_alerts_reach_just_the_integrations_that_send_resolved() -> None:
    cfg = config()
    a = alert(ends_at=NOW - 1)
    [flush] = flushes(cfg, a)
    key = nflog_key("hook", "webhook/0", flush.group_key)
    quiet = nflog_key("hook", "webhook/1", flush.group_key)
    notified = nflog.Entry(frozenset({a.fingerprint}), frozenset(), NOW - 100, NOW + 7000)
    plan = plan_flushes(
        [flush], cfg, state(records(a), log={key: notified, quiet: notified}), "http://tw", NOW
    )
    assert [(o.integration, o.alert_status) for o in plan.outgoing] == [("webhook/0", "resolved")]
    # the one without send_resolved logs the resolution without sending it
    assert [(e.integration, e.entry.resolved) for e in plan.log] == [
        ("webhook/0", frozenset({a.fingerprint})),
        ("webhook/1", frozenset({a.fingerprint})),
    ]


def test_nothing_new_within_the_repeat_interval_plans_nothing() -> None:
    cfg = config()
    a = alert()
    [flush] = flushes(cfg, a)
    log = {
        nflog_key("hook", name, flush.group_key): nflog.Entry(
            frozenset({a.fingerprint}), frozenset(), NOW - 60, NOW + 7000
        )
        for name in ("webhook/0", "webhook/1")
    }
    plan = plan_flushes([flush], cfg, state(records(a), log=log), "http://tw", NOW)
    assert (plan.outgoing, plan.log) == ([], [])


def test_silenced_acknowledged_and_flapping_alerts_are_held_back() -> None:
    cfg = config()
    a, b, c = alert("Silenced"), alert("Acked"), alert("Other")
    silence = Silence(
        id="s1",
        matchers=(LabelMatcher.of("alertname", "=", "Silenced"),),
        starts_at=NOW - 1,
        ends_at=NOW + 60,
        updated_at=NOW - 1,
        created_by="ops",
        comment="",
    )
    recs = records(a, b, c)
    recs[b.fingerprint] = AlertRecord(b, "api", NOW, NOW, ack_at=NOW - 5, ack_by="bob")
    plan = plan_flushes(
        flushes(cfg, a, b, c), cfg, state(recs, silences={"s1": silence}), "http://tw", NOW
    )
    assert {body(o.request.body)["groupLabels"]["alertname"] for o in plan.outgoing} == {"Other"}
    assert {e.entry.firing for e in plan.log} == {frozenset({c.fingerprint})}


def test_a_request_that_cannot_be_built_is_reported_and_still_logged() -> None:
    cfg = config(
        AM
        + """    slack_configs:
      - api_url: "http://127.0.0.1:9/slack"
        text: '{{ (index .Alerts 5).Labels }}'
"""
    )
    a = alert()
    [flush] = flushes(cfg, a)
    plan = plan_flushes([flush], cfg, state(records(a)), "http://tw", NOW)
    assert [o.integration for o in plan.outgoing] == ["webhook/0", "webhook/1"]
    [failure] = plan.failures
    assert (failure.receiver, failure.integration) == ("hook", "slack")
    assert failure.error
    assert len(plan.log) == 3


def test_a_log_entry_lives_twice_the_repeat_interval_within_the_retention() -> None:
    cfg = config(AM.replace("repeat_interval: 1h", "repeat_interval: 1000h"))
    a = alert()
    plan = plan_flushes(flushes(cfg, a), cfg, state(records(a)), "http://tw", NOW)
    assert {e.entry.expires_at for e in plan.log} == {NOW + nflog.DEFAULT_RETENTION_S}

"""Flapping notices, escalation steps and PagerDuty acknowledgements planned for one alert."""

from __future__ import annotations

import json
from typing import Any

from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.config import parse_alertmanager_config
from tenantwatch.alertmanager.dispatch import Dispatcher
from tenantwatch.alertmanager.flush_plan import idempotency_key
from tenantwatch.alertmanager.notice_plan import (
    plan_escalation,
    plan_flap_notice,
    plan_pagerduty_acks,
)
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.domain.flapping import FlapState

NOW = 1_700_000_000.0
AM = parse_alertmanager_config(
    """
route:
  receiver: pd
  group_by: [alertname]
  group_wait: 0s
receivers:
  - name: pd
    pagerduty_configs: [{routing_key: "0123456789abcdef0123456789abcdef", url: "http://127.0.0.1:9/pd"}]
    webhook_configs: [{url: "http://127.0.0.1:9/pd-hook"}]
  - name: team
    webhook_configs: [{url: "http://127.0.0.1:9/team"}]
""",
    "am.yml",
)


def record(**kw: Any) -> AlertRecord:
    a = AmAlert.of(
        labels={"alertname": "Down", "tenant": "alpha"},
        annotations={"summary": "down"},
        starts_at=NOW - 60,
        ends_at=NOW + 300,
        updated_at=NOW - 60,
    )
    return AlertRecord(a, "api", NOW - 60, NOW - 60, **kw)


def body(raw: bytes | None) -> dict[str, Any]:
    assert raw is not None
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


def test_an_escalation_step_goes_to_each_integration_of_its_receivers_with_a_note() -> None:
    r = record()
    outgoing, failures = plan_escalation(r, 2, ["slack", "oncall:primary"], ["team"], AM, "", NOW)
    [o] = outgoing
    assert failures == []
    assert (o.receiver, o.group_key, o.role, o.tenant_id) == (
        "team",
        f"escalation/{r.fingerprint}",
        "notice",
        "alpha",
    )
    note = body(o.request.body)["alerts"][0]["annotations"]["escalation"]
    assert note == "escalation step 2: slack, oncall:primary"
    assert o.idempotency_key == idempotency_key(
        "escalation", r.fingerprint, r.alert.starts_at, 2, "team", "webhook/0"
    )


def test_a_flap_notice_names_the_change_and_is_keyed_by_its_time() -> None:
    r = record(flap=FlapState(transitions=(1.0, 2.0, 3.0), flapping=True, percent=40.0))
    outgoing, _ = plan_flap_notice(r, "page_flapping", ["team"], AM, "", NOW)
    [o] = outgoing
    text = body(o.request.body)["alerts"][0]["annotations"]["flapping"]
    assert text.startswith("started flapping: 3 state changes recently (40% state change)")
    assert o.idempotency_key == idempotency_key(
        "flap", r.fingerprint, "page_flapping", NOW, "team", "webhook/0"
    )


def test_unknown_receivers_get_nothing() -> None:
    assert plan_escalation(record(), 1, ["x"], ["nobody"], AM, "", NOW) == ([], [])


def test_an_acknowledgement_reaches_pagerduty_for_each_group_holding_the_alert() -> None:
    r = record()
    d = Dispatcher(AM.route)
    d.insert(r.alert, NOW)
    [group] = d.groups()
    [ack] = plan_pagerduty_acks(r, d.groups(), AM, "", NOW)
    assert (ack.receiver, ack.integration, ack.group_key) == ("pd", "pagerduty/0", group.key)
    assert (ack.alert_status, ack.role) == ("acknowledged", "acknowledge")
    assert body(ack.request.body)["event_action"] == "acknowledge"
    assert ack.idempotency_key == idempotency_key("ack", group.key, "pagerduty/0", NOW)
    other = record(escalated=frozenset())
    assert plan_pagerduty_acks(other, [], AM, "", NOW) == []

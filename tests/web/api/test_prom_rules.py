"""/api/v1/rules and /api/v1/alerts in Prometheus' shape, tenant-scoped."""

from __future__ import annotations

import httpx

from tenantwatch.adapters.db.repos.rule_alerts import SqlRuleStateStore
from tenantwatch.domain.apikeys import Scope
from tenantwatch.metrics.backend import EmbeddedBackend
from tenantwatch.metrics.head import Head
from tenantwatch.promql.model import labels_of
from tenantwatch.rules.alerting import OutgoingAlert
from tenantwatch.rules.files import parse_rule_file
from tenantwatch.rules.status import ManagedGroup
from tenantwatch.runtime.root import Runtime
from tenantwatch.workers.rules import RuleManager
from tests.conftest import KeyMaker
from tests.support import bearer

RULES = """
groups:
  - name: errors
    interval: 15s
    rules:
      - record: tenant:errors:sum
        expr: sum by (tenant) (errors)
      - alert: Errors
        expr: errors > 5
        for: 1m
        labels: {severity: warning}
        annotations: {summary: "{{ $labels.tenant }} errors"}
"""


async def _manager(runtime: Runtime) -> RuleManager:
    head = Head()
    for tenant, value in (("alpha", 9.0), ("bravo", 7.0)):
        head.append(labels_of({"__name__": "errors", "tenant": tenant}), 1_000_000, value)

    async def send(alerts: list[OutgoingAlert], tenant: str | None) -> None:
        return None

    group = parse_rule_file(RULES, "/etc/rules.yml").groups[0]
    manager = RuleManager(
        [ManagedGroup(group)],
        EmbeddedBackend(head),
        lambda samples: None,
        send,
        SqlRuleStateStore(runtime.engine),
    )
    await manager.evaluate_group(ManagedGroup(group).key, 1000.0)
    runtime.rules = manager
    return manager


async def test_rules_answer_in_prometheus_shape(
    runtime: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    await _manager(runtime)
    key = await make_key(Scope.READ)
    body = (await client.get("/api/v1/rules", headers=bearer(key))).json()
    assert body["status"] == "success"
    (group,) = body["data"]["groups"]
    assert (group["name"], group["file"], group["interval"]) == ("errors", "/etc/rules.yml", 15.0)
    record, alert = group["rules"]
    assert record["type"] == "recording" and record["health"] == "ok"
    assert alert["type"] == "alerting" and alert["state"] == "pending"
    assert alert["duration"] == 60 and alert["labels"] == {"severity": "warning"}
    assert sorted((a["labels"]["tenant"], a["value"]) for a in alert["alerts"]) == [
        ("alpha", "9e+00"),
        ("bravo", "7e+00"),
    ]
    only_alerts = (await client.get("/api/v1/rules?type=alert", headers=bearer(key))).json()
    assert [r["type"] for r in only_alerts["data"]["groups"][0]["rules"]] == ["alerting"]
    flat = (await client.get("/api/v1/alerts", headers=bearer(key))).json()["data"]["alerts"]
    assert len(flat) == 2 and flat[0]["activeAt"] == "1970-01-01T00:16:40Z"


async def test_a_tenant_key_sees_only_its_alerts(
    runtime: Runtime,
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    two_tenants: tuple[str, str],
) -> None:
    await _manager(runtime)
    key = await make_key(Scope.READ, tenant="bravo")
    flat = (await client.get("/api/v1/alerts", headers=bearer(key))).json()["data"]["alerts"]
    assert [a["labels"]["tenant"] for a in flat] == ["bravo"]

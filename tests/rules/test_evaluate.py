"""One evaluation of a rule group: recording rules, alert steps and rule health, no I/O."""

from __future__ import annotations

from tenantwatch.metrics.backend import EmbeddedBackend
from tenantwatch.metrics.head import Head
from tenantwatch.promql.model import labels_of
from tenantwatch.rules.alerting import AlertState
from tenantwatch.rules.evaluate import AlertSettings, evaluate_group, generator_url, recorded
from tenantwatch.rules.files import parse_rule_file
from tenantwatch.rules.status import GroupStatus, ManagedGroup, RuleStatus

RULES = """
groups:
  - name: g
    labels: {team: core}
    rules:
      - record: job:errors:sum
        expr: sum by (job) (errors)
      - alert: Errors
        expr: errors > 5
        labels: {severity: page}
      - alert: Broken
        expr: errors[1m]
"""


def _status(text: str = RULES, tenant: str | None = None) -> GroupStatus:
    group = parse_rule_file(text, "rules.yml").groups[0]
    return GroupStatus(ManagedGroup(group, tenant), 60.0, rules=[RuleStatus() for _ in group.rules])


def _head(*points: tuple[str, float]) -> Head:
    head = Head()
    for instance, value in points:
        labels = {"__name__": "errors", "job": "api", "instance": instance, "tenant": "alpha"}
        head.append(labels_of(labels), 1_000_000, value)
    return head


def test_a_recording_rule_names_its_samples_and_adds_the_labels() -> None:
    rule = parse_rule_file(RULES, "rules.yml").groups[0].rules[0]
    samples = recorded(rule, [({"job": "api"}, 7.0)], {"team": "core"}, 5000)
    assert samples == [
        ((("__name__", "job:errors:sum"), ("job", "api"), ("team", "core")), 5000, 7.0)
    ]


def test_the_generator_url_links_the_expression_in_the_graph_page() -> None:
    assert (
        generator_url("http://tw:8080/", "a > 1")
        == "http://tw:8080/graph?g0.expr=a%20%3E%201&g0.tab=1"
    )


async def test_a_group_evaluation_records_fires_and_marks_a_failing_rule() -> None:
    status = _status()
    settings = AlertSettings({"cluster": "eu1"}, "http://tw", 60.0)
    result = await evaluate_group(
        status, EmbeddedBackend(_head(("a", 9), ("b", 1))), 1000.0, settings
    )
    names = sorted({dict(labels)["__name__"] for labels, _, _ in result.samples})
    assert names == ["ALERTS", "ALERTS_FOR_STATE", "job:errors:sum"]
    (alert,) = status.alerts[1].values()
    assert alert.state is AlertState.FIRING  # no `for:`: fires at once
    (sent,) = result.outgoing
    assert sent.labels["cluster"] == "eu1" and sent.labels["team"] == "core"
    assert [r.health for r in status.rules] == ["ok", "ok", "err"]
    assert "instant vector or a scalar" in status.rules[2].last_error
    assert status.rules[2].last_evaluation == 1000.0


async def test_a_tenants_group_sees_and_labels_only_its_tenant() -> None:
    status = _status(tenant="beta")
    result = await evaluate_group(status, EmbeddedBackend(_head(("a", 9))), 1000.0, AlertSettings())
    assert status.alerts[1] == {}
    assert result.outgoing == [] and result.samples == []

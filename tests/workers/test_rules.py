"""The rule manager: recording rules, alert timers, resends and state across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.repos.rule_alerts import SqlRuleStateStore
from tenantwatch.metrics.backend import EmbeddedBackend
from tenantwatch.metrics.head import Head
from tenantwatch.promql.model import labels_of
from tenantwatch.rules.alerting import AlertState, OutgoingAlert
from tenantwatch.rules.files import parse_rule_file
from tenantwatch.rules.status import ManagedGroup
from tenantwatch.workers.rules import RuleManager, eval_time, group_offset

RULES = """
groups:
  - name: g
    interval: 10s
    rules:
      - record: job:errors:sum
        expr: sum by (job) (errors)
      - alert: Errors
        expr: errors > 5
        for: 20s
        labels: {severity: warning}
        annotations: {summary: "{{ $labels.instance }} has {{ $value }} errors"}
"""


class Harness:
    def __init__(self, engine: AsyncEngine, text: str = RULES, tenant: str | None = None) -> None:
        self.head = Head()
        self.written: list[tuple[dict[str, str], int, float]] = []
        self.sent: list[tuple[list[OutgoingAlert], str | None]] = []
        group = parse_rule_file(text, "rules.yml").groups[0]
        self.key = ManagedGroup(group, tenant).key

        def write(samples: list[tuple[tuple[tuple[str, str], ...], int, float]]) -> None:
            for labels, t, v in samples:
                self.head.append(labels, t, v)
                self.written.append((dict(labels), t, v))

        async def send(alerts: list[OutgoingAlert], tenant: str | None) -> None:
            self.sent.append((alerts, tenant))

        self.manager = RuleManager(
            [ManagedGroup(group, tenant)],
            EmbeddedBackend(self.head),
            write,
            send,
            SqlRuleStateStore(engine),
            external_labels={"cluster": "eu1"},
            external_url="http://tw:8080",
        )

    def put(self, t: float, value: float, instance: str = "a", tenant: str = "alpha") -> None:
        labels = {"__name__": "errors", "job": "api", "instance": instance, "tenant": tenant}
        self.head.append(labels_of(labels), round(t * 1000), value)

    async def at(self, ts: float) -> None:
        await self.manager.evaluate_group(self.key, ts)


async def test_recording_rule_writes_its_series(engine: AsyncEngine) -> None:
    h = Harness(engine)
    h.put(1000, 3, "a")
    h.put(1000, 4, "b")
    await h.at(1000)
    recorded = [(labels, v) for labels, _, v in h.written if labels["__name__"] == "job:errors:sum"]
    assert recorded == [({"__name__": "job:errors:sum", "job": "api"}, 7.0)]


async def test_alert_goes_pending_then_fires_and_is_sent_like_prometheus(
    engine: AsyncEngine,
) -> None:
    h = Harness(engine)
    for t in (1000, 1010):
        h.put(t, 9)
        await h.at(t)
    assert h.sent == []  # pending until 20s have passed: nothing sent
    states = [labels["alertstate"] for labels, t, _ in h.written if labels["__name__"] == "ALERTS"]
    assert states == ["pending", "pending"]
    h.put(1020, 9)
    await h.at(1020)
    assert len(h.sent) == 1
    (alert,) = h.sent[0][0]
    assert alert.labels == {
        "alertname": "Errors",
        "severity": "warning",
        "job": "api",
        "instance": "a",
        "tenant": "alpha",
        "cluster": "eu1",
    }
    assert alert.annotations == {"summary": "a has 9 errors"}
    assert (alert.starts_at, alert.ends_at) == (1020, 1020 + 4 * 60)
    assert alert.generator_url == "http://tw:8080/graph?g0.expr=errors%20%3E%205&g0.tab=1"
    for_state = [v for labels, _, v in h.written if labels["__name__"] == "ALERTS_FOR_STATE"]
    assert for_state == [1000, 1000, 1000]
    # firing alerts are re-sent every resend delay (60s), not every evaluation
    for t in range(1030, 1100, 10):
        h.put(t, 9)
        await h.at(t)
    assert [round(batch[0].ends_at) for batch, _ in h.sent] == [1260, 1320]
    # gone: resolved at once, sent with its resolution time as the end
    await h.at(1500)
    last = h.sent[-1][0][0]
    assert last.ends_at == 1500 and last.starts_at == 1020


async def test_pending_timer_and_firing_state_survive_a_restart(engine: AsyncEngine) -> None:
    h = Harness(engine)
    h.put(1000, 9)
    await h.at(1000)
    h.put(1010, 9)
    await h.at(1010)
    # a new process: same store, empty memory
    again = Harness(engine)
    again.put(1020, 9)
    await again.manager.start()
    await again.manager.stop()
    status = again.manager.status[again.key]
    (alert,) = status.alerts[1].values()
    assert alert.state is AlertState.PENDING and alert.active_at == 1000
    await again.at(1020)  # 1020 - 1000 >= 20s: fires now, not 20s after the restart
    (alert,) = status.alerts[1].values()
    assert alert.state is AlertState.FIRING
    assert len(again.sent) == 1 and again.sent[0][0][0].starts_at == 1020


async def test_a_tenants_group_only_sees_its_tenant(engine: AsyncEngine) -> None:
    h = Harness(engine, tenant="bravo")
    h.put(1000, 9, tenant="alpha")
    h.put(1000, 9, "b", tenant="bravo")
    await h.at(1000)
    alerts = h.manager.status[h.key].alerts[1]
    assert [dict(k)["tenant"] for k in alerts] == ["bravo"]


def test_evaluation_slots_are_stable_and_aligned() -> None:
    offset = group_offset("f;g", 60)
    assert 0 <= offset < 60 and offset == group_offset("f;g", 60)
    slot = eval_time(10_000.5, 60, offset)
    assert slot <= 10_000.5 < slot + 60
    assert (slot - offset) % 60 == pytest.approx(0)


def test_builtin_pack_loads_and_user_rules_replace_it(tmp_path: Path) -> None:
    from tenantwatch.rules.load import builtin_groups

    names = [r.alert for g in builtin_groups([]) for r in g.rules]
    assert names == [
        "CheckDown",
        "CertificateExpiringSoon",
        "CertificateExpiringCritical",
        "HeartbeatLate",
        "ScrapeTargetDown",
    ]
    mine = parse_rule_file(
        "groups: [{name: x, rules: [{alert: CheckDown, expr: vector(1)}]}]", "x.yml"
    ).groups
    assert "CheckDown" not in [r.alert for g in builtin_groups(mine) for r in g.rules]

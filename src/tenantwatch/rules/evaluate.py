"""Evaluate a rule group once at one timestamp, as Prometheus' rule manager does.

Rules run in order: a recording rule's results become samples, an alerting rule steps its
alerts (pending, firing, keep_firing_for) and yields the ALERTS / ALERTS_FOR_STATE series
and the alerts due to be sent under Prometheus' resend rules.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from tenantwatch.metrics.backend import QueryBackend
from tenantwatch.promql.model import Matcher, ScalarResult, Value, VectorResult, labels_of
from tenantwatch.rules.alerting import (
    Alert,
    AlertingRule,
    DuplicateAlertLabels,
    OutgoingAlert,
    alerts_for_state_series,
    alerts_series,
    alerts_to_send,
    evaluate,
)
from tenantwatch.rules.files import Rule
from tenantwatch.rules.status import GroupStatus
from tenantwatch.types import Labels, Sample

Vector = list[tuple[dict[str, str], float]]


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """What every alert of the manager carries and how often firing alerts are re-sent."""

    external_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""
    resend_delay_s: float = 60.0


@dataclass
class Evaluation:
    """What one evaluation of a group produced: samples to write and alerts to send."""

    samples: list[Sample] = field(default_factory=list)
    outgoing: list[OutgoingAlert] = field(default_factory=list)


def generator_url(external_url: str, expr: str) -> str:
    return f"{external_url.rstrip('/')}/graph?g0.expr={quote(expr, safe='')}&g0.tab=1"


def recorded(rule: Rule, vector: Vector, labels: Mapping[str, str], t_ms: int) -> list[Sample]:
    """A recording rule's results as samples at t_ms, named by the rule, with its labels."""
    assert rule.record is not None
    return [
        (labels_of({**metric, **labels, "__name__": rule.record}), t_ms, value)
        for metric, value in vector
    ]


def alerting_rule(rule: Rule, labels: Mapping[str, str]) -> AlertingRule:
    """The alerting rule's state machine settings, with labels as its alerts' labels."""
    return AlertingRule(
        name=rule.name,
        expr=rule.expr,
        for_s=rule.for_s,
        keep_firing_for_s=rule.keep_firing_for_s,
        labels=dict(labels),
        annotations=rule.annotations,
    )


def instant_vector(result: Value) -> Vector:
    """A rule expression's result as (labels, value) pairs. Raise ValueError when it is not an
    instant vector or a scalar."""
    if isinstance(result, VectorResult):
        return [(dict(s.labels), s.v) for s in result.samples]
    if isinstance(result, ScalarResult):
        return [({}, result.v)]
    raise ValueError("a rule's expression must give an instant vector or a scalar")


def step_alerts(
    rule: Rule,
    vector: Vector,
    ts: float,
    previous: Mapping[Labels, Alert],
    labels: dict[str, str],
    interval_s: float,
    settings: AlertSettings,
) -> tuple[dict[Labels, Alert], list[OutgoingAlert]]:
    """An alerting rule's alerts after its result at ts, and those due to be sent (with the
    external labels they lack). Raise DuplicateAlertLabels when two results share labels."""
    alerts = evaluate(
        alerting_rule(rule, labels),
        vector,
        ts,
        previous,
        external_labels=dict(settings.external_labels),
        external_url=settings.external_url,
    )
    alerts, sent = alerts_to_send(
        alerts,
        ts,
        interval_s,
        settings.resend_delay_s,
        generator_url(settings.external_url, rule.expr),
    )
    for alert in sent:
        alert.labels.update(
            {k: v for k, v in settings.external_labels.items() if k not in alert.labels}
        )
    return alerts, sent


def alert_samples(alerts: Mapping[Labels, Alert], t_ms: int) -> list[Sample]:
    """The ALERTS and ALERTS_FOR_STATE series of alerts, at t_ms."""
    return [
        (labels_of(labels), t_ms, value)
        for labels, value in alerts_series(alerts) + alerts_for_state_series(alerts)
    ]


async def evaluate_group(
    status: GroupStatus, queries: QueryBackend, ts: float, settings: AlertSettings
) -> Evaluation:
    """Evaluate every rule of the group once at ts (seconds): record each rule's health and
    the group's alerts in status, and return the samples and alerts it produced. A rule that
    fails is marked so; the rules after it still run."""
    managed = status.managed
    group = managed.group
    t_ms = round((ts - (group.query_offset_s or 0.0)) * 1000)
    enforce = [Matcher.of("tenant", "=", managed.tenant)] if managed.tenant else []
    out = Evaluation()
    out_ms = round(ts * 1000)
    for i, rule in enumerate(group.rules):
        rs = status.rules[i]
        rule_started = time.perf_counter()
        try:
            vector = await _query(queries, rule.expr, t_ms, enforce)
            labels = {**group.labels, **rule.labels}
            if managed.tenant:
                labels["tenant"] = managed.tenant
            if rule.record is not None:
                out.samples.extend(recorded(rule, vector, labels, out_ms))
            else:
                alerts, sent = step_alerts(
                    rule, vector, ts, status.alerts.get(i, {}), labels, status.interval_s, settings
                )
                status.alerts[i] = alerts
                out.samples.extend(alert_samples(alerts, out_ms))
                out.outgoing.extend(sent)
            rs.health, rs.last_error = "ok", ""
        except (DuplicateAlertLabels, ValueError) as exc:
            rs.health, rs.last_error = "err", str(exc)
        except Exception as exc:
            rs.health, rs.last_error = "err", f"{type(exc).__name__}: {exc}"
        rs.last_evaluation = ts
        rs.duration_s = time.perf_counter() - rule_started
    return out


async def _query(queries: QueryBackend, expr: str, t_ms: int, enforce: Sequence[Matcher]) -> Vector:
    return instant_vector((await queries.instant(expr, t_ms, enforce=enforce)).value)

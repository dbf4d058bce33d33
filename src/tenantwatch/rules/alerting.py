"""The alerting-rule state machine, as Prometheus' rules/alerting.go evaluates it.

At each evaluation time `ts` the rule's expression gives a vector. Each sample becomes an
alert with labels = sample labels without `__name__`, overridden by the rule's (templated)
labels, plus `alertname`; annotations are templated. New label sets start `pending` at
`ts`; an alert fires once `ts - active_at >= for`. An alert whose label set is missing is
dropped while pending, kept firing for `keep_firing_for` since it went missing, else
resolved (`inactive`, kept for 15 minutes so the resolution can be sent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from tenantwatch.rules.templates import TemplateData, expand
from tenantwatch.types import Labels

RESOLVED_RETENTION_S = 15 * 60.0


class AlertState(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


@dataclass(frozen=True, slots=True)
class AlertingRule:
    name: str
    expr: str
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alert:
    labels: Labels
    annotations: Mapping[str, str]
    state: AlertState
    active_at: float
    value: float
    fired_at: float | None = None
    resolved_at: float | None = None
    keep_firing_since: float | None = None
    last_sent_at: float | None = None

    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


class DuplicateAlertLabels(ValueError):
    """Two samples gave the same alert labels (Prometheus' ErrDuplicateAlertLabelSet)."""


def evaluate(
    rule: AlertingRule,
    samples: Sequence[tuple[Mapping[str, str], float]],
    ts: float,
    active: Mapping[Labels, Alert],
    *,
    external_labels: Mapping[str, str] | None = None,
    external_url: str = "",
    funcs: Mapping[str, Callable[..., Any]] | None = None,
) -> dict[Labels, Alert]:
    """The rule's alerts after an evaluation at ts (seconds) that returned `samples`."""
    seen: dict[Labels, Alert] = {}
    for metric, value in samples:
        sample_labels = {k: v for k, v in metric.items() if k != "__name__"}
        data = TemplateData(sample_labels, value, external_labels or {}, external_url)
        labels = dict(sample_labels)
        for name, template in rule.labels.items():
            labels[name] = expand(template, data, funcs)
        labels = {k: v for k, v in labels.items() if v != ""}
        labels["alertname"] = rule.name
        key: Labels = tuple(sorted(labels.items()))
        if key in seen:
            raise DuplicateAlertLabels(
                f"vector contains metrics with the same labelset after applying alert labels "
                f"({_show(key)})"
            )
        annotations = {n: expand(t, data, funcs) for n, t in rule.annotations.items()}
        before = active.get(key)
        if before is not None and before.state is not AlertState.INACTIVE:
            seen[key] = replace(
                before, value=value, annotations=annotations, keep_firing_since=None
            )
        else:
            seen[key] = Alert(key, annotations, AlertState.PENDING, active_at=ts, value=value)
    out: dict[Labels, Alert] = {}
    for key, alert in active.items():
        if key in seen:
            continue
        if alert.state is AlertState.PENDING:
            continue  # a pending alert that is gone is dropped
        if alert.state is AlertState.FIRING:
            since = alert.keep_firing_since if alert.keep_firing_since is not None else ts
            if rule.keep_firing_for_s > 0 and ts - since < rule.keep_firing_for_s:
                out[key] = replace(alert, keep_firing_since=since)
                continue
            out[key] = replace(alert, state=AlertState.INACTIVE, resolved_at=ts)
            continue
        # inactive: kept for a while so the resolution can be sent
        if alert.resolved_at is not None and ts - alert.resolved_at < RESOLVED_RETENTION_S:
            out[key] = alert
    for key, alert in seen.items():
        if alert.state is AlertState.PENDING and ts - alert.active_at >= rule.for_s:
            alert = replace(alert, state=AlertState.FIRING, fired_at=ts)
        elif alert.state is AlertState.FIRING and ts - alert.active_at < rule.for_s:
            alert = replace(alert, state=AlertState.PENDING, fired_at=None)  # `for` was raised
        out[key] = alert
    return out


def _show(key: Labels) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in key) + "}"


def alerts_series(alerts: Mapping[Labels, Alert]) -> list[tuple[dict[str, str], float]]:
    """ALERTS{alertstate=...} samples (value 1) for pending and firing alerts."""
    out = []
    for alert in alerts.values():
        if alert.state is AlertState.INACTIVE:
            continue
        labels = {**alert.label_map(), "__name__": "ALERTS", "alertstate": str(alert.state)}
        out.append((labels, 1.0))
    return out


def alerts_for_state_series(
    alerts: Mapping[Labels, Alert],
) -> list[tuple[dict[str, str], float]]:
    """ALERTS_FOR_STATE samples: each active alert's active_at (unix seconds)."""
    return [
        ({**a.label_map(), "__name__": "ALERTS_FOR_STATE"}, a.active_at)
        for a in alerts.values()
        if a.state is not AlertState.INACTIVE
    ]


DEFAULT_RESEND_DELAY_S = 60.0


@dataclass(frozen=True, slots=True)
class OutgoingAlert:
    """An alert as Prometheus sends it to an Alertmanager."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float
    generator_url: str = ""


def needs_sending(alert: Alert, ts: float, resend_delay_s: float) -> bool:
    """Prometheus' needsSending: never pending; a new resolution at once; else every resend_delay."""
    if alert.state is AlertState.PENDING:
        return False
    if alert.resolved_at is not None and (
        alert.last_sent_at is None or alert.resolved_at > alert.last_sent_at
    ):
        return True
    return alert.last_sent_at is None or alert.last_sent_at + resend_delay_s <= ts


def alerts_to_send(
    alerts: Mapping[Labels, Alert],
    ts: float,
    interval_s: float,
    resend_delay_s: float = DEFAULT_RESEND_DELAY_S,
    generator_url: str = "",
) -> tuple[dict[Labels, Alert], list[OutgoingAlert]]:
    """What a rule sends after an evaluation at ts, and its alerts with last_sent_at updated.

    A firing alert is valid for 4 x max(resend delay, group interval); a resolved one ends
    at its resolution time (Prometheus' sendAlerts).
    """
    valid_for = 4 * max(resend_delay_s, interval_s)
    out: list[OutgoingAlert] = []
    updated = dict(alerts)
    for key, alert in alerts.items():
        if not needs_sending(alert, ts, resend_delay_s):
            continue
        updated[key] = replace(alert, last_sent_at=ts)
        ends = alert.resolved_at if alert.resolved_at is not None else ts + valid_for
        out.append(
            OutgoingAlert(
                labels=alert.label_map(),
                annotations=dict(alert.annotations),
                starts_at=alert.fired_at if alert.fired_at is not None else alert.active_at,
                ends_at=ends,
                generator_url=generator_url,
            )
        )
    return updated, out

"""The alerting-rule state machine on its own: pending, firing, keep_firing_for, resolution."""

from __future__ import annotations

import pytest

from tenantwatch.rules.alerting import (
    AlertingRule,
    AlertState,
    DuplicateAlertLabels,
    alerts_for_state_series,
    alerts_series,
    evaluate,
)

RULE = AlertingRule(
    name="Down",
    expr="up == 0",
    for_s=60,
    keep_firing_for_s=120,
    labels={"severity": "page", "owner": "{{ $labels.team }}"},
    annotations={"summary": "{{ $labels.job }} down ({{ $value }})"},
)
SAMPLE = [({"__name__": "up", "job": "api", "team": "core"}, 0.0)]


def states(active: dict) -> list[str]:  # type: ignore[type-arg]
    return [str(a.state) for a in active.values()]


def test_pending_then_firing_then_kept_then_resolved() -> None:
    a = evaluate(RULE, SAMPLE, 0, {})
    assert states(a) == ["pending"]
    [alert] = a.values()
    assert alert.label_map() == {
        "alertname": "Down",
        "job": "api",
        "team": "core",
        "severity": "page",
        "owner": "core",
    }
    assert alert.annotations == {"summary": "api down (0)"}
    a = evaluate(RULE, SAMPLE, 60, a)
    assert states(a) == ["firing"]
    a = evaluate(RULE, [], 120, a)  # gone: kept firing for 120 s
    assert states(a) == ["firing"]
    a = evaluate(RULE, [], 230, a)
    assert states(a) == ["firing"]
    a = evaluate(RULE, [], 240, a)
    assert states(a) == ["inactive"]
    assert alerts_series(a) == []


def test_a_pending_alert_that_goes_away_is_dropped() -> None:
    a = evaluate(RULE, SAMPLE, 0, {})
    assert evaluate(RULE, [], 30, a) == {}


def test_series_and_duplicates() -> None:
    a = evaluate(RULE, SAMPLE, 0, {})
    [(labels, value)] = alerts_series(a)
    assert labels["alertstate"] == "pending" and labels["__name__"] == "ALERTS" and value == 1
    [(labels, value)] = alerts_for_state_series(a)
    assert labels["__name__"] == "ALERTS_FOR_STATE" and value == 0
    twice = [({"job": "api", "team": "core", "x": "1"}, 0.0), ({"job": "api", "team": "core"}, 1)]
    rule = AlertingRule(name="D", expr="x", labels={"x": ""})
    with pytest.raises(DuplicateAlertLabels):
        evaluate(rule, twice, 0, {})


def test_raising_for_demotes_a_firing_alert() -> None:
    quick = AlertingRule(name="Down", expr="up == 0")
    a = evaluate(quick, SAMPLE, 0, {})
    assert states(a) == ["firing"]
    slow = AlertingRule(name="Down", expr="up == 0", for_s=300)
    assert [x.state for x in evaluate(slow, SAMPLE, 60, a).values()] == [AlertState.PENDING]

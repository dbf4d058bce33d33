"""`promtool test rules` unit-test files, run on tenantwatch's own PromQL engine.

For each test: load `input_series` (promqltest's expanding notation) into an in-memory
head; step from 0 to the last `eval_time` by `evaluation_interval`, evaluating every group
in order (recording rules write their samples, alerting rules move their state machine
and write `ALERTS`); check each `alert_rule_test` against the state after the step whose
interval holds its `eval_time` (firing alerts only); run each `promql_expr_test` after the
loop. A test passes when every check holds.
"""

from __future__ import annotations

import glob
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tenantwatch.config.errors import ConfigError
from tenantwatch.domain.durations import parse_duration
from tenantwatch.metrics.head import Head
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import (
    MatrixResult,
    PromQLError,
    labels_of,
)
from tenantwatch.promql.testvalues import Histogram, parse_series_line
from tenantwatch.rules.alerting import Alert, AlertState, evaluate
from tenantwatch.rules.alerting import alerts_series as alerts_samples
from tenantwatch.rules.evaluate import alerting_rule, instant_vector, recorded
from tenantwatch.rules.files import RuleGroup, load_rule_file
from tenantwatch.rules.unittest_report import (
    FILE_KEYS,
    TEST_KEYS,
    alert_failure,
    expr_failure,
    unknown_key_problem,
)
from tenantwatch.types import Labels


@dataclass
class TestOutcome:
    name: str  # the test group's `name`, "" when it has none
    failures: list[str] = field(default_factory=list)
    index: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class FileOutcome:
    path: str
    tests: list[TestOutcome] = field(default_factory=list)
    error: str | None = None  # the file could not be read or its rules not loaded

    @property
    def ok(self) -> bool:
        return self.error is None and all(t.ok for t in self.tests)


def _seconds(value: Any, what: str, default: float | None = None) -> float:
    if value is None:
        if default is None:
            raise ValueError(f"{what} is required")
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return parse_duration(str(value))


def run_file(path: Path) -> FileOutcome:
    """Run every test in one unit-test file."""
    outcome = FileOutcome(str(path))
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(doc, dict):
            raise ValueError("a test file is a mapping with rule_files and tests")
        if problem := unknown_key_problem(doc, FILE_KEYS, "a unit-test file"):
            raise ValueError(problem)
        tests = doc.get("tests") or []
        if not isinstance(tests, list):
            raise ValueError("tests: a list of test groups is expected")
        for test in tests:
            if not isinstance(test, dict):
                raise ValueError("tests: each test group is a mapping (input_series, ...)")
            if problem := unknown_key_problem(test, TEST_KEYS, "a test group"):
                raise ValueError(problem)
        interval = _seconds(doc.get("evaluation_interval"), "evaluation_interval", 60.0)
        groups = _load_groups(path, doc.get("rule_files") or [])
        order = doc.get("group_eval_order") or []
        if order:
            by_name = {g.name: g for g in groups}
            groups = [by_name[n] for n in order if n in by_name] + [
                g for g in groups if g.name not in order
            ]
    except ConfigError as exc:
        outcome.error = str(exc)
        return outcome
    except (OSError, ValueError, yaml.YAMLError) as exc:
        outcome.error = f"{path}: {exc}"
        return outcome
    for i, test in enumerate(tests):
        result = TestOutcome(str(test.get("name") or ""), index=i)
        try:
            _run_test(test, groups, interval, result)
        except (ValueError, PromQLError, KeyError, TypeError) as exc:
            result.failures.append(f"{type(exc).__name__}: {exc}")
        outcome.tests.append(result)
    return outcome


def _load_groups(path: Path, patterns: Sequence[str]) -> list[RuleGroup]:
    groups: list[RuleGroup] = []
    for pattern in patterns:
        full = str(path.parent / pattern)
        matches = sorted(glob.glob(full)) or [full]
        for match in matches:
            groups.extend(load_rule_file(Path(match)).groups)
    return groups


def _load_series(head: Head, series: Sequence[Mapping[str, Any]], step_ms: int) -> None:
    for entry in series:
        labels, values = parse_series_line(f"{entry['series']} {entry.get('values', '')}")
        for i, v in enumerate(values):
            if v is None or isinstance(v, Histogram):
                continue
            head.append(labels, i * step_ms, float(v))


def _run_test(
    test: Mapping[str, Any], groups: Sequence[RuleGroup], interval: float, out: TestOutcome
) -> None:
    step = _seconds(test.get("interval"), "interval", interval)
    head = Head()
    _load_series(head, test.get("input_series") or [], int(step * 1000))
    engine = Engine(head)
    ext_labels = {str(k): str(v) for k, v in (test.get("external_labels") or {}).items()}
    ext_url = str(test.get("external_url") or "")
    alert_tests = list(test.get("alert_rule_test") or [])
    expr_tests = list(test.get("promql_expr_test") or [])
    times = [_seconds(t.get("eval_time"), "eval_time") for t in alert_tests + expr_tests]
    last = max(times, default=0.0)
    active: dict[tuple[str, str], dict[Labels, Alert]] = {}
    ts = 0.0
    while ts <= last + 1e-9:
        t_ms = round(ts * 1000)
        for group in groups:
            for rule in group.rules:
                samples = instant_vector(engine.instant(rule.expr, t_ms).value)
                if rule.record is not None:
                    for series, t, value in recorded(rule, samples, rule.labels, t_ms):
                        head.append(series, t, value)
                    continue
                key = (group.name, rule.name)
                active[key] = evaluate(
                    alerting_rule(rule, rule.labels),
                    samples,
                    ts,
                    active.get(key, {}),
                    external_labels=ext_labels,
                    external_url=ext_url,
                )
                for labels, value in alerts_samples(active[key]):
                    head.append(labels_of(labels), t_ms, value)
        for check in alert_tests:
            at = _seconds(check.get("eval_time"), "eval_time")
            if ts <= at < ts + interval:
                _check_alerts(check, active, at, out)
        ts += interval
    for check in expr_tests:
        _check_expr(check, engine, out)


def _check_alerts(
    check: Mapping[str, Any],
    active: Mapping[tuple[str, str], Mapping[Labels, Alert]],
    at: float,
    out: TestOutcome,
) -> None:
    name = str(check.get("alertname") or "")
    got = sorted(
        (
            tuple(sorted(a.labels)),
            tuple(sorted(a.annotations.items())),
        )
        for (_, rule), alerts in active.items()
        if rule == name
        for a in alerts.values()
        if a.state is AlertState.FIRING
    )
    expected = sorted(
        (
            tuple(
                sorted(
                    {
                        **{str(k): str(v) for k, v in (e.get("exp_labels") or {}).items()},
                        "alertname": name,
                    }.items()
                )
            ),
            tuple(sorted((str(k), str(v)) for k, v in (e.get("exp_annotations") or {}).items())),
        )
        for e in (check.get("exp_alerts") or [])
    )
    if got != expected:
        out.failures.append(
            alert_failure(
                out.name,
                name,
                at,
                [(dict(lb), dict(an)) for lb, an in expected],
                [(dict(lb), dict(an)) for lb, an in got],
            )
        )


def _check_expr(check: Mapping[str, Any], engine: Engine, out: TestOutcome) -> None:
    expr = str(check.get("expr") or "")
    at = _seconds(check.get("eval_time"), "eval_time")
    result = engine.instant(expr, round(at * 1000)).value
    if isinstance(result, MatrixResult):
        raise ValueError(f"expr {expr!r} gives a range vector; a test needs an instant vector")
    got = sorted((tuple(sorted(lbl.items())), v) for lbl, v in instant_vector(result))
    expected = []
    for sample in check.get("exp_samples") or []:
        labels, _ = parse_series_line(f"{sample.get('labels') or '{}'} 0")
        expected.append((tuple(sorted(dict(labels).items())), float(sample.get("value", 0))))
    expected.sort()
    if len(got) != len(expected) or any(
        g[0] != e[0] or not _same(g[1], e[1]) for g, e in zip(got, expected, strict=False)
    ):
        out.failures.append(
            expr_failure(
                expr,
                at,
                [(dict(lb), v) for lb, v in expected],
                [(dict(lb), v) for lb, v in got],
            )
        )


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)

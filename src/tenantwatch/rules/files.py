"""Prometheus rule files: groups of recording and alerting rules, checked as promtool does.

    groups:
      - name: ai-shifu.rules
        interval: 30s
        rules:
          - alert: HighErrorRate
            expr: rate(errors_total[5m]) > 0.05
            for: 2m
            labels: {severity: warning}
            annotations: {summary: "..."}
          - record: job:requests:rate5m
            expr: sum by (job) (rate(requests_total[5m]))

Every problem is reported as file:line with how to fix it. Templates in rules' labels and
annotations are parsed here (syntax and function names) and kept as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenantwatch.config.errors import ConfigError, ConfigIssue, read_text
from tenantwatch.config.yaml_lines import LineMap, issue_at, load_yaml
from tenantwatch.domain.durations import parse_duration
from tenantwatch.domain.tenants import label_name_problem
from tenantwatch.promql.model import PromQLError
from tenantwatch.promql.parse import parse_query
from tenantwatch.rules.templates import template_problem

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
GROUP_KEYS = {"name", "interval", "query_offset", "limit", "labels", "rules"}
ALERT_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
RECORD_KEYS = {"record", "expr", "labels"}


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule; `alert` is set for alerting rules, `record` for recording rules."""

    expr: str
    line: int
    alert: str | None = None
    record: str | None = None
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.alert or self.record or ""


@dataclass(frozen=True, slots=True)
class RuleGroup:
    name: str
    file: str
    line: int
    rules: tuple[Rule, ...]
    interval_s: float | None = None
    query_offset_s: float | None = None
    limit: int = 0
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleFile:
    path: str
    groups: tuple[RuleGroup, ...]

    @property
    def rule_count(self) -> int:
        return sum(len(g.rules) for g in self.groups)


def load_rule_file(path: Path) -> RuleFile:
    """Read and check a rule file. Raise ConfigError listing every problem as file:line."""
    return parse_rule_file(read_text(path), str(path))


def parse_rule_file(text: str, file: str) -> RuleFile:
    data, lines, issues = load_yaml(text, file, None)
    if data is None:
        raise ConfigError(issues)
    checker = _Checker(file, lines, issues)
    groups = checker.file(data)
    if checker.issues:
        raise ConfigError(checker.issues)
    return RuleFile(file, tuple(groups))


class _Checker:
    def __init__(self, file: str, lines: LineMap, issues: list[ConfigIssue]) -> None:
        self.path = file
        self.lines = lines
        self.issues = list(issues)

    def issue(self, where: tuple[str | int, ...], message: str) -> None:
        self.issues.append(issue_at(self.path, self.lines, where, message))

    def file(self, data: Any) -> list[RuleGroup]:
        if data == {} or data is None:
            return []
        if not isinstance(data, dict):
            self.issue((), "a rule file is a mapping with 'groups:'")
            return []
        for key in data:
            if key != "groups":
                self.issue((key,), f"unknown key {key!r}; a rule file has only 'groups:'")
        groups = data.get("groups") or []
        if not isinstance(groups, list):
            self.issue(("groups",), "'groups' must be a list of rule groups")
            return []
        out: list[RuleGroup] = []
        seen: set[str] = set()
        for i, group in enumerate(groups):
            g = self.group(group, ("groups", i))
            if g is None:
                continue
            if g.name in seen:
                self.issue(
                    ("groups", i, "name"),
                    f"group name {g.name!r} is repeated in the same file; give each group "
                    "its own name",
                )
            seen.add(g.name)
            out.append(g)
        return out

    def _duration(self, value: Any, where: tuple[str | int, ...], what: str) -> float | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.issue(where, f"{what} must be a duration string such as '30s' or '5m'")
            return None
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.issue(where, f"{what}: {exc}")
            return None

    def _labels(self, value: Any, where: tuple[str | int, ...], what: str) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.issue(where, f"{what} must be a mapping of names to values")
            return {}
        out: dict[str, str] = {}
        for name, text in value.items():
            problem = label_name_problem(str(name)) if what == "labels" else None
            if what == "annotations" and not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", str(name)):
                problem = f"invalid annotation name {name!r}; use letters, digits and '_'"
            if problem:
                self.issue((*where, name), problem)
                continue
            if isinstance(text, bool) or text is None or isinstance(text, dict | list):
                self.issue((*where, name), f"{what[:-1]} {name!r} must be a text value")
                continue
            text = str(text)
            if where and where[0] == "groups" and "rules" in where:  # a rule's templates
                problem = template_problem(text)
                if problem:
                    self.issue((*where, name), f"{what[:-1]} {name!r}: template: {problem}")
                    continue
            out[str(name)] = text
        return out

    def group(self, data: Any, where: tuple[str | int, ...]) -> RuleGroup | None:
        if not isinstance(data, dict):
            self.issue(where, "a rule group is a mapping with 'name:' and 'rules:'")
            return None
        for key in data:
            if key not in GROUP_KEYS:
                self.issue(
                    (*where, key),
                    f"unknown key {key!r} in a rule group; use {', '.join(sorted(GROUP_KEYS))}",
                )
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            self.issue((*where, "name") if "name" in data else where, "a group needs a 'name'")
            name = ""
        interval = self._duration(data.get("interval"), (*where, "interval"), "interval")
        if interval is not None and interval <= 0:
            self.issue((*where, "interval"), "interval must be longer than 0s")
        offset = self._duration(data.get("query_offset"), (*where, "query_offset"), "query_offset")
        limit = data.get("limit", 0)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            self.issue((*where, "limit"), "limit must be a whole number, 0 for no limit")
            limit = 0
        labels = self._labels(data.get("labels"), (*where, "labels"), "labels")
        rules_data = data.get("rules") or []
        if not isinstance(rules_data, list):
            self.issue((*where, "rules"), "'rules' must be a list of rules")
            rules_data = []
        checked = (self.rule(r, (*where, "rules", i)) for i, r in enumerate(rules_data))
        rules = [r for r in checked if r is not None]
        return RuleGroup(
            name=name,
            file=self.path,
            line=self.lines.line_of(where),
            rules=tuple(rules),
            interval_s=interval,
            query_offset_s=offset,
            limit=limit,
            labels=labels,
        )

    def rule(self, data: Any, where: tuple[str | int, ...]) -> Rule | None:
        if not isinstance(data, dict):
            self.issue(where, "a rule is a mapping with 'alert:' or 'record:' and 'expr:'")
            return None
        alert, record = data.get("alert"), data.get("record")
        if alert is not None and record is not None:
            self.issue(where, "a rule has either 'alert:' or 'record:', not both")
            return None
        if alert is None and record is None:
            self.issue(where, "a rule needs 'alert:' (alerting) or 'record:' (recording)")
            return None
        allowed = ALERT_KEYS if alert is not None else RECORD_KEYS
        for key in data:
            if key not in allowed:
                kind = "an alerting" if alert is not None else "a recording"
                self.issue((*where, key), f"{key!r} is not a field of {kind} rule")
        if record is not None and (not isinstance(record, str) or not METRIC_NAME.match(record)):
            self.issue(
                (*where, "record"),
                f"invalid recording rule name {record!r}; use a metric name such as "
                "'job:requests:rate5m'",
            )
        if alert is not None and (not isinstance(alert, str) or not alert.strip()):
            self.issue((*where, "alert"), "the alert name must not be empty")
        expr = data.get("expr")
        if not isinstance(expr, str | int | float) or isinstance(expr, bool) or str(expr) == "":
            self.issue((*where, "expr") if "expr" in data else where, "a rule needs an 'expr'")
            expr = ""
        expr = str(expr)
        if expr:
            try:
                parse_query(expr)
            except PromQLError as exc:
                self.issue((*where, "expr"), f"rule {str(alert or record)!r}: expr {exc}")
        return Rule(
            expr=expr,
            line=self.lines.line_of(where),
            alert=str(alert) if alert is not None else None,
            record=str(record) if record is not None else None,
            for_s=self._duration(data.get("for"), (*where, "for"), "for") or 0.0,
            keep_firing_for_s=self._duration(
                data.get("keep_firing_for"), (*where, "keep_firing_for"), "keep_firing_for"
            )
            or 0.0,
            labels=self._labels(data.get("labels"), (*where, "labels"), "labels"),
            annotations=self._labels(
                data.get("annotations"), (*where, "annotations"), "annotations"
            ),
        )

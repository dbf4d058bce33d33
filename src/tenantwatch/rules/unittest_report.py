"""How `promtool test rules` words a failed check: label sets, sample values and times as
promtool 2.x prints them, so a failure reads the same from either tool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from tenantwatch.gotext.floats import format_e
from tenantwatch.gotext.quote import quote
from tenantwatch.promql.printer import duration

# the keys promtool's strict YAML decoding accepts (anything else is its "field X not found")
FILE_KEYS = ("rule_files", "evaluation_interval", "group_eval_order", "tests", "fuzzy_compare")
TEST_KEYS = (
    "name",
    "interval",
    "input_series",
    "alert_rule_test",
    "promql_expr_test",
    "external_labels",
    "external_url",
)


def label_set(labels: Mapping[str, str]) -> str:
    """Prometheus' Labels.String(): {a="1", b="2"}, sorted by name, values Go-quoted."""
    return "{" + ", ".join(f"{k}={quote(labels[k])}" for k in sorted(labels)) + "}"


def eval_time(seconds: float) -> str:
    return duration(timedelta(seconds=seconds))


Alert = tuple[Mapping[str, str], Mapping[str, str]]  # labels (with alertname), annotations


def _indent(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


def alerts_text(alerts: Sequence[Alert]) -> str:
    """promtool's list of alerts: [] or an indexed list of Labels:/Annotations: pairs."""
    if not alerts:
        return "[]"
    items = [
        f"{i}:" + _indent(f"\nLabels:{label_set(lb)}\nAnnotations:{label_set(an)}", "  ")
        for i, (lb, an) in enumerate(alerts)
    ]
    return "[\n" + ",\n".join(items) + "\n]"


def alert_failure(
    group: str, name: str, at_s: float, expected: Sequence[Alert], got: Sequence[Alert]
) -> str:
    """An alert_rule_test that failed, worded as promtool words it (the group's name first
    when it has one)."""
    pad = " " * 12
    return (
        (f"    name: {group},\n" if group else "")
        + f"    alertname: {name}, time: {eval_time(at_s)}, \n"
        f"        exp:{_indent(alerts_text(expected), pad)}, \n"
        f"        got:{_indent(alerts_text(got), pad)}"
    )


def samples_text(samples: Sequence[tuple[Mapping[str, str], float]]) -> str:
    if not samples:
        return "nil"
    return ", ".join(f"{label_set(lb)} {format_e(v, upper=True)}" for lb, v in samples)


def expr_failure(
    expr: str,
    at_s: float,
    expected: Sequence[tuple[Mapping[str, str], float]],
    got: Sequence[tuple[Mapping[str, str], float]],
) -> str:
    return (
        f"    expr: {quote(expr)}, time: {eval_time(at_s)},\n"
        f"        exp: {samples_text(expected)}\n"
        f"        got: {samples_text(got)}"
    )


def unknown_key_problem(
    found: Mapping[str, object], allowed: Sequence[str], what: str
) -> str | None:
    """promtool's strict decoding: a key it does not know is an error (with a hint when a
    rule file was given where a test file belongs)."""
    unknown = [str(k) for k in found if k not in allowed]
    if not unknown:
        return None
    hint = ""
    if what == "a unit-test file" and "groups" in unknown:
        hint = (
            "; this looks like a rule file: `tenantwatch rules test` runs unit-test files that "
            "name rule files under rule_files (check a rule file with `tenantwatch rules check`)"
        )
    return f"field {unknown[0]} not found in {what} (it takes {', '.join(allowed)}){hint}"

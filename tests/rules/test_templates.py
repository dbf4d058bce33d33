"""Alert templates expand exactly as Prometheus does: every case below is also run through
`promtool test rules` with our output as the expected annotation, and promtool agrees."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tenantwatch.rules.templates import TemplateData, expand, template_problem

LABELS = {"tenant": "acme", "job": "api", "name": "hello world-foo_bar", "host": "db1.example:5432"}

# (series value, template)
CASES: list[tuple[str, str]] = [
    ("0.123456", "Error rate is {{ $value | humanizePercentage }} for {{ $labels.tenant }}"),
    ("0.6", "{{ $value | humanize }}"),
    ("1234", "{{ humanize $value }}"),
    ("1234567", "{{ $value | humanize }} raw {{ $value }}"),
    ("0.000123", "{{ humanize $value }} / {{ $value }}"),
    ("2.5e21", "{{ humanize $value }} {{ $value }}"),
    ("0", "{{ humanize $value }} {{ humanizeDuration $value }} {{ $value }}"),
    ("3670016", "{{ humanize1024 $value }}"),
    ("0.5", "{{ humanize1024 $value }} {{ humanizePercentage $value }}"),
    ("90061", "{{ humanizeDuration $value }}"),
    ("3661.5", "{{ humanizeDuration $value }}"),
    ("61", "{{ humanizeDuration $value }}"),
    ("3.21", "{{ humanizeDuration $value }}"),
    ("0.0015", "{{ humanizeDuration $value }}"),
    ("1700000000", "{{ humanizeTimestamp $value }}"),
    ("1700000000.25", "{{ humanizeTimestamp $value }}"),
    ("100000", "{{ $value }}"),
    ("0.00001", "{{ $value }}"),
    ("0.30000000000000004", '{{ $value }} {{ printf "%.2f" $value }}'),
    (
        "12.3456",
        '{{ printf "%.1f%%" $value }} {{ printf "%5.1f|%-6s|%q" $value $labels.job $labels.job }}',
    ),
    ("7", '{{ printf "%d" 42 }} {{ printf "%s=%v" $labels.job $value }} {{ printf "%e" $value }}'),
    ("7", '{{ printf "%g %x %t" $value $labels.job true }}'),
    ("1", '{{ title $labels.name }} {{ toUpper $labels.job }} {{ toLower "ABC" }}'),
    ("1", '{{ reReplaceAll "(\\\\w+)-(\\\\w+)" "$2:$1" $labels.name }}'),
    ("1", "{{ stripPort $labels.host }} {{ stripDomain $labels.host }}"),
    ("0.2", "{{ if gt $value 0.1 }}high{{ else }}low{{ end }}"),
    ("0.05", "{{ if gt $value 0.1 }}high{{ else if gt $value 0.01 }}mid{{ else }}low{{ end }}"),
    ("1", "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}"),
    ("1", "{{ .Labels.job }} {{ .Value }} [{{ $labels.missing }}]"),
    ("1", '{{- $x := printf "%s/%s" $labels.tenant $labels.job -}} [{{ $x }}]  '),
    (
        "1",
        "{{ with $labels.tenant }}t={{ . }}{{ end }}{{ with $labels.missing }}no{{ else }}none{{ end }}",
    ),
    (
        "3",
        '{{ if and (gt $value 1.0) (lt $value 5.0) }}in{{ end }} {{ len $labels }} {{ index $labels "job" }}',
    ),
    ("1", '{{ match "^db" $labels.host }} {{ if eq $labels.job "api" "web" }}yes{{ end }}'),
    ("1", "plain text without actions"),
]


def _data(value: str) -> TemplateData:
    return TemplateData(labels={**LABELS}, value=float(value))


def test_some_exact_outputs() -> None:
    assert expand(CASES[0][1], _data("0.123456")) == "Error rate is 12.35% for acme"
    assert expand("{{ $value }}", _data("1234567")) == "1.234567e+06"
    assert expand("[{{ $labels.missing }}]", _data("1")) == "[]"  # missingkey=zero
    assert expand("{{ humanizeDuration $value }}", _data("90061")) == "1d 1h 1m 1s"
    assert expand("{{ nope }}", _data("1")).startswith("<error expanding template:")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{{ nope $value }}", 'function "nope" not defined'),
        ("{{ if }}", "missing value"),
        ("{{ $value", "unclosed action"),
        ("{{ if true }}x", "has no end"),
        ("{{ end }}", "unexpected"),
        ('{{ "\\q" }}', "unknown escape"),
    ],
)
def test_template_problems_at_load(text: str, words: str) -> None:
    problem = template_problem(text)
    assert problem is not None and words in problem


def test_promtool_agrees_with_every_expansion(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian's prometheus package) is not installed")
    rules = []
    series = []
    alerts = []
    for i, (value, template) in enumerate(CASES):
        rules.append(
            {
                "alert": f"T{i}",
                "expr": f'tpl_value{{case="{i}"}} * 1',
                "annotations": {"out": template},
            }
        )
        series.append(
            {
                "series": "tpl_value{"
                + ",".join(f'{k}="{v}"' for k, v in {**LABELS, "case": str(i)}.items())
                + "}",
                "values": f"{value} {value}",
            }
        )
        data = TemplateData(labels={**LABELS, "case": str(i)}, value=float(value))
        alerts.append(
            {
                "eval_time": "1m",
                "alertname": f"T{i}",
                "exp_alerts": [
                    {
                        "exp_labels": {**LABELS, "case": str(i)},
                        "exp_annotations": {"out": expand(template, data)},
                    }
                ],
            }
        )
    (tmp_path / "rules.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "templates", "rules": rules}]})
    )
    (tmp_path / "tests.yml").write_text(
        yaml.safe_dump(
            {
                "rule_files": ["rules.yml"],
                "evaluation_interval": "1m",
                "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": alerts}],
            }
        )
    )
    done = subprocess.run(
        [promtool, "test", "rules", "tests.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr

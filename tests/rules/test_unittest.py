"""`tenantwatch rules test` runs promtool unit-test files; on the same files (the worked
example, variants with wrong expectations, recording-rule chains) its verdicts agree with
`promtool test rules`."""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tenantwatch.cli.main import app
from tenantwatch.rules.unittest import run_file

EXAMPLE = Path(__file__).parent.parent / "fixtures" / "promtool-example"
BASE: dict[str, Any] = yaml.safe_load((EXAMPLE / "tests.yml").read_text())

CHAIN_RULES = {
    "groups": [
        {
            "name": "chain",
            "rules": [
                {"record": "tenant:req:rate1m", "expr": "sum by (tenant) (rate(req_total[2m]))"},
                {
                    "alert": "Busy",
                    "expr": "tenant:req:rate1m > 1",
                    "for": "2m",
                    "labels": {"severity": "warning", "team": "{{ $labels.tenant }}-ops"},
                    "annotations": {"summary": "{{ $labels.tenant }} at {{ $value }}/s"},
                },
            ],
        }
    ]
}


def _alert(case: dict[str, Any], name: str, at: str) -> dict[str, Any]:
    test = case["tests"][0]
    return next(
        t for t in test["alert_rule_test"] if t["alertname"] == name and t["eval_time"] == at
    )


def _mutate(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    case = copy.deepcopy(BASE)
    change(case)
    return case


def _chain(exp_firing_at_3m: bool, value: str) -> dict[str, Any]:
    alerts = (
        [
            {
                "exp_labels": {"tenant": "acme", "severity": "warning", "team": "acme-ops"},
                "exp_annotations": {"summary": f"acme at {value}/s"},
            }
        ]
        if exp_firing_at_3m
        else []
    )
    return {
        "rule_files": ["chain-rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'req_total{tenant="acme",pod="a"}', "values": "0+120x10"},
                    {"series": 'req_total{tenant="acme",pod="b"}', "values": "0+60x10"},
                    {"series": 'req_total{tenant="globex",pod="a"}', "values": "0+6x10"},
                ],
                "alert_rule_test": [
                    {"eval_time": "1m", "alertname": "Busy", "exp_alerts": []},
                    {"eval_time": "3m", "alertname": "Busy", "exp_alerts": alerts},
                ],
                "promql_expr_test": [
                    {
                        "expr": "tenant:req:rate1m",
                        "eval_time": "5m",
                        "exp_samples": [
                            {"labels": 'tenant:req:rate1m{tenant="acme"}', "value": 3},
                            {"labels": 'tenant:req:rate1m{tenant="globex"}', "value": 0.1},
                        ],
                    }
                ],
            }
        ],
    }


CASES: dict[str, dict[str, Any]] = {
    "example": BASE,
    "wrong annotation": _mutate(
        lambda c: _alert(c, "HighErrorRate", "3m")["exp_alerts"][0].update(
            exp_annotations={"summary": "i1 5xx rate 1/s"}
        )
    ),
    "pending is not firing": _mutate(
        lambda c: _alert(c, "HighErrorRate", "1m").update(
            exp_alerts=[{"exp_labels": {"severity": "page", "status": "500", "instance": "i1"}}]
        )
    ),
    "keep_firing_for over": _mutate(
        lambda c: _alert(c, "ApiDown", "8m").update(
            exp_alerts=[{"exp_labels": {"job": "api", "instance": "i1"}}]
        )
    ),
    "still kept firing": _mutate(lambda c: _alert(c, "ApiDown", "7m").update(exp_alerts=[])),
    "wrong sample value": _mutate(
        lambda c: c["tests"][0]["promql_expr_test"][0]["exp_samples"][0].update(value=24)
    ),
    "chain": _chain(True, "3"),
    "chain wrong value": _chain(True, "2.5"),
    "chain not yet": _chain(False, "3"),
}


def _write(tmp: Path, name: str, case: dict[str, Any]) -> Path:
    shutil.copy(EXAMPLE / "rules.yml", tmp / "rules.yml")
    (tmp / "chain-rules.yml").write_text(yaml.safe_dump(CHAIN_RULES))
    path = tmp / f"{name.replace(' ', '-')}.yml"
    path.write_text(yaml.safe_dump(case))
    return path


def test_the_worked_example_passes() -> None:
    outcome = run_file(EXAMPLE / "tests.yml")
    assert outcome.ok, [t.failures for t in outcome.tests]
    assert run_file(EXAMPLE / "onmatch.yml").ok


@pytest.mark.parametrize("name", sorted(CASES))
def test_verdicts(tmp_path: Path, name: str) -> None:
    outcome = run_file(_write(tmp_path, name, CASES[name]))
    expected = name in ("example", "chain")
    assert outcome.ok is expected, [t.failures for t in outcome.tests]


def test_verdicts_agree_with_promtool(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian's prometheus package) is not installed")
    for name, case in CASES.items():
        path = _write(tmp_path, name, case)
        theirs = subprocess.run(
            [promtool, "test", "rules", path.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run_file(path).ok is (theirs.returncode == 0), (name, theirs.stdout)


def test_the_cli_ends_with_counts(tmp_path: Path) -> None:
    good = _write(tmp_path, "example", BASE)
    bad = _write(tmp_path, "wrong sample value", CASES["wrong sample value"])
    result = CliRunner().invoke(app, ["rules", "test", str(good), str(bad)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert result.output.rstrip().endswith("1 passed, 1 failed")
    assert 'expr: "increase(auth_failures_total[5m])", time: 10m,' in result.output
    assert "exp: {} 2.4E+01" in result.output  # values and label sets as promtool prints them


def _failure_block(text: str) -> str:
    return text.split("  FAILED:\n", 1)[1].rsplit("\n\n", 1)[0].strip("\n")


def test_failures_read_exactly_as_promtools(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian's prometheus package) is not installed")
    named = copy.deepcopy(CASES["wrong sample value"])
    named["tests"][0]["name"] = "my group"
    cases = {**CASES, "named group": named}
    compared = 0
    for name, case in cases.items():
        path = _write(tmp_path, name, case)
        theirs = subprocess.run(
            [promtool, "test", "rules", path.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if theirs.returncode == 0:
            continue
        ours = CliRunner().invoke(app, ["rules", "test", str(path)], env={"COLUMNS": "250"})
        assert _failure_block(ours.output) == _failure_block(theirs.stderr), name
        compared += 1
    assert compared >= 4


def test_a_rule_file_given_as_a_test_file_fails_and_says_so(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE / "rules.yml", tmp_path / "rules.yml")
    result = CliRunner().invoke(
        app, ["rules", "test", str(tmp_path / "rules.yml")], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 1
    assert "field groups not found in a unit-test file" in result.output
    assert "this looks like a rule file" in result.output
    assert result.output.rstrip().endswith("0 passed, 1 failed")


def test_an_unknown_key_in_a_test_group_is_an_error_as_in_promtool(tmp_path: Path) -> None:
    case = copy.deepcopy(BASE)
    case["tests"][0]["input_serie"] = []
    outcome = run_file(_write(tmp_path, "typo", case))
    assert outcome.error is not None
    assert "field input_serie not found in a test group" in outcome.error

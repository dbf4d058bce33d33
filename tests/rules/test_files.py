"""Rule files: the seeds' files load with promtool's rule counts; problems are file:line;
on the same files our verdicts agree with `promtool check rules`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.rules.files import load_rule_file, parse_rule_file

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEEDS = FIXTURES / "seed-rules"

GOOD = """groups:
  - name: g
    interval: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 1m
        keep_firing_for: 5m
        labels: {severity: critical}
        annotations:
          summary: "{{ $labels.job }} is down ($value)"
"""

BAD = {
    "both kinds": (
        "groups:\n- name: g\n  rules:\n  - alert: A\n    record: r\n    expr: up\n",
        4,
        "not both",
    ),
    "no expr": ("groups:\n- name: g\n  rules:\n  - alert: A\n", 4, "needs an 'expr'"),
    "bad promql": (
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(x[5m]\n",
        5,
        "parse error",
    ),
    "repeated group": (
        "groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n",
        4,
        "repeated",
    ),
    "bad duration": (
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 5 minutes\n",
        6,
        "for:",
    ),
    "bad record name": (
        "groups:\n- name: g\n  rules:\n  - record: bad name\n    expr: up\n",
        4,
        "invalid recording rule name",
    ),
    "unknown group key": (
        "groups:\n- name: g\n  intervals: 1m\n  rules: []\n",
        3,
        "unknown key 'intervals'",
    ),
    "for on a recording rule": (
        "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n    for: 1m\n",
        6,
        "not a field of a recording rule",
    ),
    "bad label name": (
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels: {bad-label: x}\n",
        6,
        "invalid label name",
    ),
    "empty group name": ("groups:\n- name: ''\n  rules: []\n", 2, "needs a 'name'"),
    "neither kind": ("groups:\n- name: g\n  rules:\n  - expr: up\n", 4, "needs 'alert:'"),
    "unknown template function": (
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n"
        "      summary: '{{ $value | humanise }}'\n",
        7,
        'function "humanise" not defined',
    ),
    "unclosed template action": (
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels:\n"
        "      team: '{{ $labels.team'\n",
        7,
        "unclosed action",
    ),
}


def test_a_good_file() -> None:
    rf = parse_rule_file(GOOD, "r.yml")
    [group] = rf.groups
    assert (group.name, group.interval_s, rf.rule_count) == ("g", 30.0, 2)
    record, alert = group.rules
    assert record.record == "job:up:sum" and alert.alert == "Down"
    assert (alert.for_s, alert.keep_firing_for_s) == (60.0, 300.0)
    assert alert.annotations["summary"] == "{{ $labels.job }} is down ($value)"  # as written


@pytest.mark.parametrize(("name", "count"), [("seed-000", 10), ("seed-003", 6), ("seed-004", 11)])
def test_the_seed_files_load_with_promtools_counts(name: str, count: int) -> None:
    assert load_rule_file(SEEDS / f"{name}.rules.yml").rule_count == count


def test_the_invalid_seed_file_is_refused_at_promtools_line() -> None:
    path = SEEDS / "seed-000.as-published.invalid.yml"
    with pytest.raises(ConfigError) as info:
        load_rule_file(path)
    [issue] = info.value.issues
    assert (issue.file, issue.line) == (str(path), 22)
    assert "could not find expected ':'" in issue.message and "block scalar" in issue.message


@pytest.mark.parametrize("case", sorted(BAD))
def test_problems_point_at_their_line(case: str) -> None:
    text, line, words = BAD[case]
    with pytest.raises(ConfigError) as info:
        parse_rule_file(text, "r.yml")
    assert any(i.line == line and words in i.message for i in info.value.issues), [
        str(i) for i in info.value.issues
    ]


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool (Debian's prometheus package) is not installed")
    return path


def test_verdicts_agree_with_promtool(tmp_path: Path) -> None:
    promtool = _promtool()
    files = {f"bad-{i}.yml": BAD[c][0] for i, c in enumerate(sorted(BAD))}
    files["good.yml"] = GOOD
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    paths = [tmp_path / n for n in files] + sorted(SEEDS.glob("*.yml"))
    paths.append(FIXTURES / "promtool-example" / "rules.yml")
    for path in paths:
        theirs = subprocess.run(
            [promtool, "check", "rules", str(path)], capture_output=True, timeout=60
        )
        try:
            load_rule_file(path)
            ours = True
        except ConfigError:
            ours = False
        assert ours is (theirs.returncode == 0), (path.name, theirs.stdout, theirs.stderr)

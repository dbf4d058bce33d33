"""Inhibit rules as in seed 004: a critical alert mutes the warning of the same alertname."""

from __future__ import annotations

from pathlib import Path

import yaml

from tenantwatch.alertmanager.inhibition import build_inhibit_rule, inhibited

FIXTURES = Path(__file__).parent.parent / "fixtures" / "seed-alertmanager"
RULES = [
    build_inhibit_rule(r)
    for r in yaml.safe_load((FIXTURES / "seed-004.alertmanager.local.yml").read_text())[
        "inhibit_rules"
    ]
]


def test_a_critical_mutes_the_matching_warning() -> None:
    critical = {"alertname": "DiskFull", "severity": "critical", "instance": "db1"}
    warning = {"alertname": "DiskFull", "severity": "warning", "instance": "db1"}
    other_host = {"alertname": "DiskFull", "severity": "warning", "instance": "db2"}
    assert inhibited(warning, [critical, warning], RULES)
    assert not inhibited(other_host, [critical, other_host], RULES)  # equal: instance differs
    assert not inhibited(warning, [warning], RULES)  # nothing critical firing
    assert not inhibited(critical, [critical], RULES)  # not a target


def test_an_alert_never_inhibits_itself() -> None:
    rule = build_inhibit_rule(
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity=~".*"']}
    )
    alone = {"alertname": "X", "severity": "critical"}
    assert not inhibited(alone, [alone], [rule])
    assert inhibited({"alertname": "Y", "severity": "info"}, [alone], [rule])

"""Relabel rules and scrape limits in tenantwatch.yml: refused with Prometheus' reasons at
their file:line."""

from __future__ import annotations

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.configuration import parse_config


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "tw.yml", {})
    return [str(issue) for issue in caught.value.issues]


JOB = "scrape_configs:\n  - job_name: app\n    static_configs: [{targets: ['a:1']}]\n"


def test_each_refused_rule_is_reported_at_its_line_with_prometheus_reason() -> None:
    found = problems(
        JOB + "    relabel_configs:\n"
        "      - source_labels: [__meta_x]\n"  # 5
        "        action: hashmod\n"  # 6
        "        target_label: shard\n"
        "      - action: replace\n"  # 8
        "        regex: '(a'\n"  # 9
        "    metric_relabel_configs:\n"
        "      - action: lowercase\n"  # 11
        "        source_labels: [x]\n"
        "      - action: keepequal\n"  # 13
        "        target_label: y\n"
        "        separator: ','\n"  # 15: only source_labels and target_label
        "      - action: labeldrop\n"  # 16
        "        regex: x\n"
        "        target_label: y\n"  # 18: only regex
        "      - action: shout\n"  # 19
    )
    assert found == [
        "tw.yml:6: job 'app': relabel_configs[0]: relabel configuration for hashmod requires "
        "non-zero modulus",
        "tw.yml:9: job 'app': relabel_configs[1]: invalid regex '(a': error parsing regexp: "
        "missing ): (a",
        "tw.yml:11: job 'app': metric_relabel_configs[0]: relabel configuration for lowercase "
        "action requires 'target_label' value",
        "tw.yml:15: job 'app': metric_relabel_configs[1]: keepequal action requires only "
        "'source_labels' and `target_label`, and no other fields",
        "tw.yml:18: job 'app': metric_relabel_configs[2]: labeldrop action requires only "
        "'regex', and no other fields",
        "tw.yml:19: job 'app': metric_relabel_configs[3]: unknown relabel action 'shout'; use "
        "one of replace, keep, drop, keepequal, dropequal, hashmod, labelmap, labeldrop, "
        "labelkeep, lowercase, uppercase",
    ]


def test_an_unknown_key_in_a_rule_is_refused_at_its_line() -> None:
    found = problems(JOB + "    relabel_configs:\n      - target: x\n")
    assert found == ["tw.yml:5: unknown key 'target'; check its spelling and indentation"]


def test_limits_are_counts_and_body_size_limit_a_size_in_prometheus_units() -> None:
    config = parse_config(
        "metrics:\n  sample_limit: 1000\n  body_size_limit: 10MB\n"
        + JOB
        + "    sample_limit: 50\n    label_limit: 30\n",
        "tw.yml",
        {},
    )
    job = config.scrape_configs[0]
    assert job.limit("sample_limit", config.metrics) == 50
    assert job.limit("body_size_limit", config.metrics) == 10 << 20
    assert job.limit("label_limit", config.metrics) == 30
    assert job.limit("target_limit", config.metrics) == 0
    found = problems(JOB + "    body_size_limit: lots\n    sample_limit: -1\n")
    assert found[0].startswith("tw.yml:4: scrape_configs.0.body_size_limit: invalid size 'lots'")
    assert found[1].startswith("tw.yml:5: scrape_configs.0.sample_limit: Input should be")

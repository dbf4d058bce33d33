"""The targets a config describes."""

from __future__ import annotations

from tenantwatch.configuration import parse_config
from tenantwatch.metrics.scrape_targets import ScrapeTarget, targets_from_config


def targets(text: str) -> list[ScrapeTarget]:
    config = parse_config(text, "tw.yml", {})
    return targets_from_config(config.scrape_configs, config.metrics)


def test_every_static_target_of_every_job_is_a_target() -> None:
    found = targets(
        "tenants:\n  - {id: acme, name: Acme, tier: basic}\n"
        "metrics:\n  scrape_interval: 30s\n"
        "scrape_configs:\n"
        "  - job_name: api\n"
        "    scheme: https\n"
        "    metrics_path: /internal/metrics\n"
        "    params: {module: [a, b]}\n"
        "    static_configs:\n"
        "      - targets: ['api-1:443', 'api-2:443']\n"
        "        labels: {tenant: acme}\n"
        "  - job_name: db\n"
        "    scrape_interval: 5s\n"
        "    static_configs:\n"
        "      - targets: ['db:9187']\n"
    )
    assert [(t.job, t.address) for t in found] == [
        ("api", "api-1:443"),
        ("api", "api-2:443"),
        ("db", "db:9187"),
    ]
    api1, _, db = found
    assert api1.url == "https://api-1:443/internal/metrics?module=a&module=b"
    assert dict(api1.labels) == {"job": "api", "instance": "api-1:443", "tenant": "acme"}
    assert (api1.interval_s, api1.timeout_s) == (30.0, 10.0)
    assert (db.interval_s, db.timeout_s) == (5.0, 5.0)
    assert db.url == "http://db:9187/metrics"


def test_a_target_listed_twice_in_a_job_is_scraped_once() -> None:
    found = targets(
        "scrape_configs:\n  - job_name: a\n    static_configs:\n"
        "      - targets: ['x:1', 'x:1']\n      - targets: ['x:1']\n"
    )
    assert len(found) == 1


def test_the_same_address_with_other_labels_is_another_target() -> None:
    found = targets(
        "scrape_configs:\n  - job_name: a\n    static_configs:\n"
        "      - targets: ['x:1']\n        labels: {zone: a}\n"
        "      - targets: ['x:1']\n        labels: {zone: b}\n"
    )
    assert len(found) == 2
    assert len({t.key for t in found}) == 2

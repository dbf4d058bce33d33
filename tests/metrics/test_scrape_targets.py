"""The targets a config describes."""

from __future__ import annotations

from tenantwatch.configuration import parse_config
from tenantwatch.metrics.scrape_targets import (
    ScrapeJob,
    ScrapeTarget,
    job_targets,
    targets_from_config,
    targets_from_groups,
)
from tenantwatch.metrics.target_groups import TargetGroup
from tenantwatch.promql.model import labels_of


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


# -- target groups, as Prometheus' PopulateLabels turns them into targets ------------------


def job(text: str = "") -> ScrapeJob:
    config = parse_config("scrape_configs:\n  - job_name: app\n" + text, "tw.yml", {})
    return ScrapeJob.of(config.scrape_configs[0], config.metrics)


def group(*targets: dict[str, str], labels: dict[str, str] | None = None) -> TargetGroup:
    return TargetGroup("sd/0", tuple(labels_of(t) for t in targets), labels_of(labels or {}))


def test_a_discovered_target_gets_prometheus_defaults_and_loses_its_internal_labels() -> None:
    [target], dropped = job_targets(
        job("    scrape_interval: 30s\n    params: {module: [http_2xx, tcp]}\n"),
        [group({"__address__": "10.0.0.1:8080", "__meta_pod": "api-1", "__tmp_x": "y"})],
    )
    assert dropped == []
    assert dict(target.labels) == {"job": "app", "instance": "10.0.0.1:8080"}
    assert target.url == "http://10.0.0.1:8080/metrics?module=http_2xx&module=tcp"
    assert (target.interval_s, target.timeout_s) == (30.0, 10.0)
    assert dict(target.discovered) == {
        "__address__": "10.0.0.1:8080",
        "__meta_pod": "api-1",
        "__tmp_x": "y",
        "__metrics_path__": "/metrics",
        "__param_module": "http_2xx",
        "__scheme__": "http",
        "__scrape_interval__": "30s",
        "__scrape_timeout__": "10s",
        "job": "app",
    }


def test_group_labels_sit_under_the_target_labels() -> None:
    [target], _ = job_targets(
        job(),
        [group({"__address__": "a:1", "zone": "b"}, labels={"zone": "a", "team": "x"})],
    )
    assert dict(target.labels) == {"job": "app", "instance": "a:1", "zone": "b", "team": "x"}


def test_relabelling_sets_the_tenant_from_a_pod_label_as_seed_000_does() -> None:
    rules = (
        "    relabel_configs:\n"
        "      - source_labels: [__meta_kubernetes_pod_label_tenant_bid]\n"
        "        target_label: tenant\n"
        "      - action: labelmap\n"
        "        regex: __meta_kubernetes_pod_label_(app)\n"
        "      - source_labels: [__meta_kubernetes_pod_name]\n"
        "        target_label: pod\n"
    )
    [target], _ = job_targets(
        job(rules),
        [
            group(
                {
                    "__address__": "10.0.0.7:9100",
                    "__meta_kubernetes_pod_label_tenant_bid": "acme",
                    "__meta_kubernetes_pod_label_app": "shop",
                    "__meta_kubernetes_pod_name": "shop-1",
                }
            )
        ],
    )
    assert dict(target.labels) == {
        "job": "app",
        "instance": "10.0.0.7:9100",
        "tenant": "acme",
        "app": "shop",
        "pod": "shop-1",
    }


def test_relabelling_can_rewrite_scheme_address_path_params_interval_and_timeout() -> None:
    rules = (
        "    params: {module: [http_2xx]}\n"
        "    relabel_configs:\n"
        "      - source_labels: [__address__]\n"
        "        target_label: __param_target\n"
        "      - target_label: __address__\n"
        "        replacement: blackbox:9115\n"
        "      - {target_label: __metrics_path__, replacement: /probe}\n"
        "      - {target_label: __scheme__, replacement: https}\n"
        "      - {target_label: __param_module, replacement: icmp}\n"
        "      - {target_label: __scrape_interval__, replacement: 1m}\n"
        "      - {target_label: __scrape_timeout__, replacement: 45s}\n"
    )
    [target], _ = job_targets(job(rules), [group({"__address__": "example.com:443"})])
    assert target.url == "https://blackbox:9115/probe?module=icmp&target=example.com%3A443"
    assert dict(target.labels) == {"job": "app", "instance": "blackbox:9115"}
    assert (target.interval_s, target.timeout_s) == (60.0, 45.0)


def test_instance_defaults_to_the_address_after_relabelling_unless_set() -> None:
    rules = "    relabel_configs:\n      - {target_label: instance, replacement: my-box}\n"
    [target], _ = job_targets(job(rules), [group({"__address__": "a:1"})])
    assert dict(target.labels)["instance"] == "my-box"


def test_a_target_relabelling_drops_is_kept_as_dropped_with_its_discovered_labels() -> None:
    rules = (
        "    relabel_configs:\n"
        "      - source_labels: [__meta_keep]\n"
        "        regex: 'true'\n"
        "        action: keep\n"
    )
    active, dropped = job_targets(
        job(rules),
        [group({"__address__": "a:1", "__meta_keep": "true"}, {"__address__": "b:1"})],
    )
    assert [t.address for t in active] == ["a:1"]
    [gone] = dropped
    assert gone.reason is None
    assert dict(gone.discovered)["__address__"] == "b:1"
    assert dict(gone.discovered)["job"] == "app"


def test_a_target_left_without_an_address_is_dropped() -> None:
    rules = "    relabel_configs:\n      - {action: labeldrop, regex: __address__}\n"
    active, [gone] = job_targets(job(rules), [group({"__address__": "a:1"})])
    assert active == []
    assert gone.reason == "no address"


def test_a_bad_interval_or_a_timeout_over_the_interval_drops_the_target_with_prometheus_words() -> (
    None
):
    bad = "    relabel_configs:\n      - {target_label: __scrape_interval__, replacement: soon}\n"
    _, [gone] = job_targets(job(bad), [group({"__address__": "a:1"})])
    assert gone.reason == "error parsing scrape interval: not a valid duration string: 'soon'"
    over = "    relabel_configs:\n      - {target_label: __scrape_timeout__, replacement: 1m}\n"
    _, [gone] = job_targets(job(over), [group({"__address__": "a:1"})])
    assert gone.reason == ("scrape timeout cannot be greater than scrape interval ('1m' > '15s')")


def test_keep_dropped_targets_bounds_what_is_kept() -> None:
    rules = (
        "    keep_dropped_targets: 2\n    relabel_configs:\n      - {action: drop, regex: '.*'}\n"
    )
    _, dropped = job_targets(job(rules), [group(*({"__address__": f"h{i}:1"} for i in range(5)))])
    assert len(dropped) == 2


def test_targets_from_groups_takes_the_config_and_its_defaults() -> None:
    config = parse_config(
        "metrics: {scrape_interval: 20s}\nscrape_configs:\n  - job_name: app\n", "tw.yml", {}
    )
    [target], _ = targets_from_groups(
        config.scrape_configs[0], config.metrics, [group({"__address__": "a:1"})]
    )
    assert target.interval_s == 20.0


def test_a_target_with_other_discovered_labels_but_the_same_labels_and_url_is_the_same() -> None:
    [a], _ = job_targets(job(), [group({"__address__": "a:1", "__meta_rev": "1"})])
    [b], _ = job_targets(job(), [group({"__address__": "a:1", "__meta_rev": "2"})])
    assert a == b and hash(a) == hash(b)
    assert a.discovered != b.discovered


def test_a_reparsed_job_gives_equal_targets() -> None:
    rules = "    metric_relabel_configs:\n      - {action: drop, regex: 'go_.*', source_labels: [__name__]}\n"
    [a], _ = job_targets(job(rules), [group({"__address__": "a:1"})])
    [b], _ = job_targets(job(rules), [group({"__address__": "a:1"})])
    assert a == b

"""file_sd_configs, http_sd_configs and kubernetes_sd_configs: defaults, and Prometheus'
refusals as file:line errors."""

from __future__ import annotations

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.configuration import parse_config

FILE = "tw.yml"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, FILE, {})
    return [str(issue) for issue in info.value.issues]


def job(body: str) -> str:
    return "scrape_configs:\n  - job_name: app\n" + body  # body starts at line 3


def test_discovery_sections_get_prometheus_defaults() -> None:
    config = parse_config(
        job(
            "    file_sd_configs: [{files: ['targets/*.yml']}]\n"
            "    http_sd_configs: [{url: 'http://sd.example/targets'}]\n"
            "    kubernetes_sd_configs: [{role: pod}]\n"
        ),
        FILE,
        {},
    )
    [scrape] = config.scrape_configs
    assert scrape.file_sd_configs[0].refresh_interval == 300.0
    assert scrape.http_sd_configs[0].refresh_interval == 60.0
    k8s = scrape.kubernetes_sd_configs[0]
    assert (k8s.role, k8s.api_server, k8s.kubeconfig_file) == ("pod", None, None)
    assert k8s.namespaces.names == [] and not k8s.attach_metadata.node


def test_a_full_kubernetes_section_reads_every_field() -> None:
    config = parse_config(
        job(
            "    kubernetes_sd_configs:\n"
            "      - role: endpoints\n"
            "        api_server: https://k8s.example:6443\n"
            "        bearer_token: t0ken\n"
            "        tls_config: {ca_file: /etc/k8s/ca.crt}\n"
            "        namespaces: {names: [shop, billing]}\n"
            "        selectors:\n"
            "          - {role: pod, label: 'app=api'}\n"
            "          - {role: endpoints, field: 'metadata.name=api'}\n"
            "        attach_metadata: {node: true}\n"
        ),
        FILE,
        {},
    )
    k8s = config.scrape_configs[0].kubernetes_sd_configs[0]
    assert k8s.api_server == "https://k8s.example:6443"
    assert k8s.namespaces.names == ["shop", "billing"]
    assert [(s.role, s.label, s.field) for s in k8s.selectors] == [
        ("pod", "app=api", ""),
        ("endpoints", "", "metadata.name=api"),
    ]
    assert "t0ken" not in repr(k8s)


def test_a_missing_role_is_refused_as_prometheus_does() -> None:
    [issue] = problems(job("    kubernetes_sd_configs:\n      - namespaces: {names: [a]}\n"))
    assert issue.startswith("tw.yml:4: ")
    assert "role missing (one of: pod, service, endpoints, endpointslice, node)" in issue


def test_an_unknown_role_names_the_roles() -> None:
    [issue] = problems(job("    kubernetes_sd_configs:\n      - role: ingres\n"))
    assert issue.startswith("tw.yml:4: ")
    assert "unknown Kubernetes SD role 'ingres'" in issue and "endpoints" in issue


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "role: pod, api_server: 'https://k:6443', kubeconfig_file: /k.yml",
            "cannot use 'kubeconfig_file' and 'api_server' simultaneously",
        ),
        (
            "role: pod, kubeconfig_file: /k.yml, bearer_token: x",
            "cannot use a custom HTTP client configuration together with 'kubeconfig_file'",
        ),
        (
            "role: pod, bearer_token: x",
            "to use custom HTTP client configuration please provide the 'api_server' URL",
        ),
        (
            "role: pod, api_server: 'https://k:6443', namespaces: {own_namespace: true}",
            "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously",
        ),
        (
            "role: service, selectors: [{role: pod, label: a=b}]",
            "service role supports only service selectors",
        ),
        (
            "role: pod, selectors: [{role: pod}, {role: pod}]",
            "duplicated selector role: pod",
        ),
    ],
)
def test_kubernetes_sections_prometheus_refuses_are_refused(body: str, message: str) -> None:
    [issue] = problems(job(f"    kubernetes_sd_configs:\n      - {{{body}}}\n"))
    assert issue.startswith("tw.yml:4: ") and message in issue


def test_a_file_pattern_must_name_json_or_yaml_files() -> None:
    [issue] = problems(job("    file_sd_configs:\n      - files: ['targets/*.txt']\n"))
    assert issue.startswith("tw.yml:4: ")
    assert "path name 'targets/*.txt' is not valid for file discovery" in issue


def test_a_file_section_needs_a_file() -> None:
    [issue] = problems(job("    file_sd_configs:\n      - files: []\n"))
    assert "must contain at least one path name" in issue


def test_an_http_sd_url_must_be_http() -> None:
    [issue] = problems(job("    http_sd_configs:\n      - url: ftp://sd.example/x\n"))
    assert issue.startswith("tw.yml:4: ")
    assert "URL scheme must be 'http' or 'https'" in issue


def test_an_unknown_key_in_a_discovery_section_is_refused() -> None:
    [issue] = problems(job("    kubernetes_sd_configs:\n      - role: pod\n        rolee: x\n"))
    assert issue.startswith("tw.yml:5: ")


@pytest.mark.parametrize(
    "label", ["app=api", "app==api,tier!=cache", "env in (prod, staging),!canary", "a.io/x"]
)
def test_label_selectors_kubernetes_takes_are_taken(label: str) -> None:
    parse_config(
        job(
            f"    kubernetes_sd_configs:\n      - {{role: pod, selectors: [{{role: pod, label: '{label}'}}]}}\n"
        ),
        FILE,
        {},
    )


def test_a_malformed_selector_is_refused_at_its_line() -> None:
    [issue] = problems(
        job(
            "    kubernetes_sd_configs:\n      - role: pod\n        selectors:\n"
            "          - {role: pod, label: 'app=api,=x'}\n"
        )
    )
    assert issue.startswith("tw.yml:6: ")
    assert "unable to parse label selector term '=x'" in issue
    [issue] = problems(
        job(
            "    kubernetes_sd_configs:\n      - {role: pod, selectors: [{role: pod, field: 'phase'}]}\n"
        )
    )
    assert "invalid field selector term 'phase'" in issue

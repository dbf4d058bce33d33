"""Seed 000's Prometheus scrape configuration, unchanged, against the Kubernetes stand-in
in-cluster (https, the service account's token and CA): what its relabel_configs make of
the discovered pods and services.

The seed copies each pod's `tenant` label to the target label `tenant_bid` (and each
exporter service's likewise); the `tenant` label of its series comes from the application's
own metrics (`ai_shifu_requests_total{tenant=...}`), not from relabelling.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from pydantic import ValidationError

from tenantwatch.config.metrics_model import ScrapeConfig
from tenantwatch.metrics.discovery.jobs import ProviderFactory
from tenantwatch.metrics.discovery.manager import DiscoveryManager
from tenantwatch.metrics.relabel import parse_rule, relabel
from tests.metrics.discovery.k8s_standin import KubeStandin, pod, running_standin
from tests.metrics.discovery.support import DEBOUNCE, Updates, eventually

SEED = Path(__file__).parents[2] / "fixtures" / "seed-prometheus" / "seed-000.prometheus.yml"
TOKEN = "seed-000-service-account-token"


def seed_jobs() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return {job["job_name"]: job for job in data["scrape_configs"]}


def scrape_config(job: dict[str, Any]) -> ScrapeConfig:
    """The job as our model reads it, its relabel_configs aside (scraping takes those)."""
    return ScrapeConfig.model_validate({k: v for k, v in job.items() if k != "relabel_configs"})


def test_every_seed_job_loads_but_for_its_relabel_configs() -> None:
    jobs = seed_jobs()
    configs = [scrape_config(job) for job in jobs.values()]
    assert [c.kubernetes_sd_configs[0].role for c in configs] == [
        "endpoints",
        "pod",
        "service",
        "service",
    ]
    apiservers = configs[0]
    assert apiservers.scheme == "https"
    assert apiservers.bearer_token_file == Path(
        "/var/run/secrets/kubernetes.io/serviceaccount/token"
    )


def test_every_seed_job_loads_whole() -> None:
    for job in seed_jobs().values():
        try:
            ScrapeConfig.model_validate(job)
        except ValidationError as exc:
            raise AssertionError(str(exc)) from None


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[KubeStandin, ProviderFactory]]:
    """The stand-in over https, and a factory that finds it as a pod in the cluster would."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    account = tmp_path / "serviceaccount"
    account.mkdir()
    ca.cert_pem.write_to_path(str(account / "ca.crt"))
    (account / "token").write_text(TOKEN + "\n")
    async with running_standin(TOKEN, tls=server) as standin:
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(standin.port)}
        yield standin, ProviderFactory(env=env, service_account_dir=account)


def after_relabelling(updates: Updates, job: dict[str, Any]) -> list[dict[str, str]]:
    rules = [parse_rule(rule) for rule in job.get("relabel_configs", [])]
    out = []
    for group in updates.latest.get(job["job_name"], []):
        for labels in group.merged():
            kept = relabel(dict(labels), rules)
            if kept is not None:
                out.append(kept)
    return sorted(out, key=lambda labels: labels["__address__"])


def shifu_pod(name: str, ip: str, tenant: str, annotations: dict[str, str]) -> dict[str, Any]:
    return pod(
        name,
        namespace="ai-shifu",
        ip=ip,
        labels={"app": "ai-shifu-api", "tenant": tenant},
        annotations=annotations,
        containers=[{"name": "api", "image": "ai-shifu-api:1", "ports": [{"containerPort": 5800}]}],
    )


async def test_seed_000_discovers_its_pods_and_writes_each_pods_tenant_to_tenant_bid(
    cluster: tuple[KubeStandin, ProviderFactory],
) -> None:
    standin, factory = cluster
    standin.add(
        "pods",
        shifu_pod("api-a", "10.2.0.1", "acme", {"prometheus.io/port": "9090"}),
    )
    standin.add(
        "pods",
        shifu_pod("api-b", "10.2.0.2", "globex", {"prometheus.io/path": "/internal/metrics"}),
    )
    standin.add("pods", pod("web-1", ip="10.2.0.3", labels={"app": "web", "tenant": "acme"}))
    standin.add(
        "services",
        {
            "metadata": {
                "name": "mysql-exporter",
                "namespace": "ai-shifu",
                "labels": {"app": "mysql-exporter", "tenant": "acme"},
            },
            "spec": {"ports": [{"name": "metrics", "port": 9104, "protocol": "TCP"}]},
        },
    )
    standin.add(
        "services", {"metadata": {"name": "kubernetes", "namespace": "default"}, "spec": {}}
    )
    standin.add(
        "endpoints",
        {
            "metadata": {"name": "kubernetes", "namespace": "default"},
            "subsets": [
                {
                    "addresses": [{"ip": "172.20.0.1"}],
                    "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
                }
            ],
        },
    )
    jobs = seed_jobs()
    updates = Updates()
    manager = DiscoveryManager(updates, debounce=DEBOUNCE, factory=factory)
    try:
        await manager.apply([scrape_config(job) for job in jobs.values()])
        await eventually(
            lambda: (
                len(after_relabelling(updates, jobs["ai-shifu-api"])) == 2
                and len(after_relabelling(updates, jobs["mysql-exporter"])) == 1
                and len(after_relabelling(updates, jobs["kubernetes-apiservers"])) == 1
            )
        )
    finally:
        await manager.stop()

    api_a, api_b = after_relabelling(updates, jobs["ai-shifu-api"])
    # the port annotation moves the address to that port; without it the container port stays
    assert (api_a["__address__"], api_a["tenant_bid"]) == ("10.2.0.1:9090", "acme")
    assert (api_b["__address__"], api_b["tenant_bid"]) == ("10.2.0.2:5800", "globex")
    # the config reads no path annotation, so the metrics path stays the job's
    assert "__metrics_path__" not in api_b
    assert "tenant" not in api_a and "tenant" not in api_b
    [mysql] = after_relabelling(updates, jobs["mysql-exporter"])
    assert (mysql["__address__"], mysql["tenant_bid"]) == (
        "mysql-exporter.ai-shifu.svc:9104",
        "acme",
    )
    assert after_relabelling(updates, jobs["redis-exporter"]) == []
    [apiserver] = after_relabelling(updates, jobs["kubernetes-apiservers"])
    assert apiserver["__address__"] == "172.20.0.1:6443"
    assert standin.refused == 0
    assert all(path.startswith("/api/v1/") for path, _ in standin.requests)

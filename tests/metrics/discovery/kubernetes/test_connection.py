"""How kubernetes_sd reaches the API: api_server, a kubeconfig file, or in-cluster."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tenantwatch.config.discovery_model import KubernetesSDConfig
from tenantwatch.config.metrics_model import ScrapeConfig
from tenantwatch.metrics.discovery.kubernetes.connection import (
    KubeConnectionError,
    connection_for,
)
from tenantwatch.metrics.discovery.kubernetes.provider import KubernetesProvider
from tenantwatch.metrics.discovery.manager import DiscoveryManager
from tenantwatch.metrics.http_auth import HttpAuth, TlsSettings
from tests.metrics.discovery.k8s_standin import TOKEN, pod, running_standin
from tests.metrics.discovery.support import DEBOUNCE, Updates, eventually

IN_CLUSTER = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def test_in_cluster_uses_the_service_and_the_service_accounts_files(tmp_path: Path) -> None:
    (tmp_path / "namespace").write_text("monitoring\n")
    config = KubernetesSDConfig(role="pod", namespaces={"own_namespace": True})
    connection = connection_for(config, IN_CLUSTER, account_dir=tmp_path)
    assert connection.base_url == "https://10.96.0.1:443"
    assert connection.auth == HttpAuth("Bearer", secret_file=tmp_path / "token")
    assert connection.tls == TlsSettings(ca_file=tmp_path / "ca.crt")
    assert connection.own_namespace == "monitoring"


def test_in_cluster_rotated_tokens_are_read_per_request(tmp_path: Path) -> None:
    connection = connection_for(KubernetesSDConfig(role="pod"), IN_CLUSTER, account_dir=tmp_path)
    (tmp_path / "token").write_text("one\n")
    assert connection.authorization() == "Bearer one"
    (tmp_path / "token").write_text("two\n")
    assert connection.authorization() == "Bearer two"


def test_outside_a_cluster_without_api_server_says_what_to_set() -> None:
    with pytest.raises(KubeConnectionError, match="give 'api_server' or 'kubeconfig_file'"):
        connection_for(KubernetesSDConfig(role="pod"), {})


def test_an_ipv6_service_host_is_bracketed(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
    connection = connection_for(KubernetesSDConfig(role="pod"), env, account_dir=tmp_path)
    assert connection.base_url == "https://[fd00::1]:443"


def test_api_server_takes_the_sections_own_credentials() -> None:
    config = KubernetesSDConfig(
        role="pod", api_server="https://k8s.example:6443/", bearer_token="t"
    )
    connection = connection_for(config, IN_CLUSTER)
    assert connection.base_url == "https://k8s.example:6443"
    assert connection.authorization() == "Bearer t"


def kubeconfig(path: Path, server: str, user: str) -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
        f"users: [{{name: u, user: {user}}}]\n"
        "contexts: [{name: test, context: {cluster: c, user: u}}]\n"
    )
    return path


async def test_a_kubeconfig_files_current_context_is_used(tmp_path: Path) -> None:
    async with running_standin() as standin:
        standin.add("pods", pod("api-1", ip="10.1.0.1"))
        (tmp_path / "token").write_text(TOKEN)
        path = kubeconfig(tmp_path / "kubeconfig.yml", standin.url, "{tokenFile: token}")
        updates = Updates()
        manager = DiscoveryManager(updates, debounce=DEBOUNCE)
        job = ScrapeConfig(
            job_name="k8s",
            kubernetes_sd_configs=[KubernetesSDConfig(role="pod", kubeconfig_file=path)],
        )
        try:
            await manager.apply([job])
            await eventually(lambda: updates.addresses("k8s") == {"10.1.0.1:8080"})
        finally:
            await manager.stop()


def test_a_kubeconfig_with_an_exec_plugin_is_refused_with_the_alternatives(
    tmp_path: Path,
) -> None:
    path = kubeconfig(tmp_path / "k.yml", "https://k:6443", "{exec: {command: aws}}")
    config = KubernetesSDConfig(role="pod", kubeconfig_file=path)
    with pytest.raises(KubeConnectionError, match="'exec' is not supported; use a token"):
        connection_for(config, {})


async def test_outside_a_cluster_the_provider_logs_what_to_set_and_keeps_trying() -> None:
    provider = KubernetesProvider(KubernetesSDConfig(role="pod"), env={}, unusable_retry=0.01)
    with capture_logs() as logs:
        task = asyncio.create_task(provider.run(lambda groups: None))
        await eventually(lambda: sum(e["event"] == "kubernetes_sd_unusable" for e in logs) >= 2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert "give 'api_server' or 'kubeconfig_file'" in logs[0]["problem"]

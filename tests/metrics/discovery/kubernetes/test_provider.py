"""kubernetes_sd against a loopback stand-in of the API: list, then watch; re-list after a
broken stream or 410 Gone; bearer token, namespaces and selectors sent as Prometheus does."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tenantwatch.config.discovery_model import KubernetesSDConfig
from tenantwatch.config.metrics_model import ScrapeConfig
from tenantwatch.metrics.discovery.jobs import ProviderFactory
from tenantwatch.metrics.discovery.kubernetes.client import PAGE_SIZE
from tenantwatch.metrics.discovery.manager import DiscoveryManager
from tests.metrics.discovery.k8s_standin import TOKEN, KubeStandin, pod, running_standin
from tests.metrics.discovery.support import DEBOUNCE, Updates, eventually

M = "__meta_kubernetes_"


@pytest.fixture
async def standin() -> AsyncIterator[KubeStandin]:
    async with running_standin() as s:
        yield s


def job(standin: KubeStandin, **sd: Any) -> ScrapeConfig:
    section = {"api_server": standin.url, "bearer_token": TOKEN, **sd}
    return ScrapeConfig(job_name="k8s", kubernetes_sd_configs=[KubernetesSDConfig(**section)])


@pytest.fixture
async def run() -> AsyncIterator[Any]:
    managers: list[DiscoveryManager] = []

    async def start(*jobs: ScrapeConfig) -> Updates:
        updates = Updates()
        manager = DiscoveryManager(updates, debounce=DEBOUNCE, factory=ProviderFactory())
        managers.append(manager)
        await manager.apply(list(jobs))
        return updates

    yield start
    for manager in managers:
        await manager.stop()


def pod_lists(standin: KubeStandin) -> int:
    return sum(1 for path, q in standin.requests if path.endswith("/pods") and "watch" not in q)


async def test_pods_are_listed_then_watched_and_a_deleted_pods_group_empties(
    standin: KubeStandin, run: Any
) -> None:
    standin.add("pods", pod("api-1", ip="10.1.0.1"))
    updates = await run(job(standin, role="pod"))
    await eventually(lambda: updates.addresses("k8s") == {"10.1.0.1:8080"})
    await eventually(lambda: standin.watch_count("pods") == 1)

    started = time.monotonic()
    standin.add("pods", pod("api-2", ip="10.1.0.2"))
    await eventually(lambda: updates.addresses("k8s") == {"10.1.0.1:8080", "10.1.0.2:8080"})
    assert time.monotonic() - started < DEBOUNCE + 0.5  # pushed by the watch, not polled

    standin.delete("pods", "shop/api-1")
    await eventually(lambda: updates.addresses("k8s") == {"10.1.0.2:8080"})
    emptied = [g for _, groups in updates.calls for g in groups if g.source == "pod/shop/api-1"]
    assert emptied[-1].targets == ()
    assert pod_lists(standin) == 1  # one list, then the watch alone


async def test_a_modified_pod_replaces_its_targets(standin: KubeStandin, run: Any) -> None:
    standin.add("pods", pod("api-1", ip="10.1.0.1", ready="False"))
    updates = await run(job(standin, role="pod"))
    await eventually(lambda: updates.group("k8s", "pod/shop/api-1") is not None)
    standin.modify("pods", pod("api-1", ip="10.1.0.1", ready="True"))
    await eventually(
        lambda: dict(updates.group("k8s", "pod/shop/api-1").labels)[M + "pod_ready"] == "true"  # type: ignore[union-attr]
    )


async def test_a_broken_watch_stream_is_listed_again_and_misses_nothing(
    standin: KubeStandin, run: Any
) -> None:
    standin.add("pods", pod("api-1", ip="10.1.0.1"))
    updates = await run(job(standin, role="pod"))
    await eventually(lambda: standin.watch_count("pods") == 1)
    standin.break_watches()
    standin.add("pods", pod("api-2", ip="10.1.0.2"))  # while no watch is open
    await eventually(lambda: updates.addresses("k8s") == {"10.1.0.1:8080", "10.1.0.2:8080"})
    assert pod_lists(standin) == 2
    await eventually(lambda: standin.watch_count("pods") == 1)
    standin.add("pods", pod("api-3", ip="10.1.0.3"))
    await eventually(lambda: "10.1.0.3:8080" in updates.addresses("k8s"))


async def test_410_gone_on_a_watch_lists_again(standin: KubeStandin, run: Any) -> None:
    standin.add("pods", pod("api-1", ip="10.1.0.1"))
    updates = await run(job(standin, role="pod"))
    await eventually(lambda: standin.watch_count("pods") == 1)
    standin.expire_watches()
    standin.delete("pods", "shop/api-1")
    await eventually(lambda: pod_lists(standin) == 2)
    await eventually(lambda: updates.addresses("k8s") == set())
    standin.add("pods", pod("api-2", ip="10.1.0.2"))
    await eventually(lambda: updates.addresses("k8s") == {"10.1.0.2:8080"})


async def test_a_watch_from_a_compacted_version_lists_again(standin: KubeStandin, run: Any) -> None:
    standin.add("pods", pod("api-1", ip="10.1.0.1"))
    updates = await run(job(standin, role="pod"))
    await eventually(lambda: standin.watch_count("pods") == 1)
    standin.compact()
    standin.break_watches()  # the re-watch from the old version now meets 410
    standin.add("pods", pod("api-2", ip="10.1.0.2"))
    await eventually(lambda: updates.addresses("k8s") == {"10.1.0.1:8080", "10.1.0.2:8080"})


async def test_a_wrong_token_is_refused_and_discovers_nothing(
    standin: KubeStandin, run: Any
) -> None:
    standin.add("pods", pod("api-1"))
    updates = await run(job(standin, role="pod", bearer_token="wrong"))
    await eventually(lambda: standin.refused >= 1)
    await eventually(lambda: "k8s" in updates.latest)
    assert updates.addresses("k8s") == set()


async def test_namespaces_and_selectors_go_to_the_api(standin: KubeStandin, run: Any) -> None:
    standin.add("pods", pod("api-1", ip="10.1.0.1", labels={"app": "api"}))
    standin.add("pods", pod("web-1", ip="10.1.0.2", labels={"app": "web"}))
    standin.add("pods", pod("api-9", namespace="other", ip="10.9.0.1", labels={"app": "api"}))
    updates = await run(
        job(
            standin,
            role="pod",
            namespaces={"names": ["shop"]},
            selectors=[{"role": "pod", "label": "app=api"}],
        )
    )
    await eventually(lambda: updates.addresses("k8s") == {"10.1.0.1:8080"})
    paths = {path for path, _ in standin.requests}
    assert paths == {"/api/v1/namespaces/shop/pods"}
    assert all(q.get("labelSelector") == "app=api" for _, q in standin.requests)


async def test_the_endpoints_role_joins_services_and_pods_and_follows_their_changes(
    standin: KubeStandin, run: Any
) -> None:
    standin.add("pods", pod("api-1", ip="10.1.0.1", labels={"app": "api"}))
    standin.add("services", {"metadata": {"name": "api", "namespace": "shop"}, "spec": {}})
    standin.add(
        "endpoints",
        {
            "metadata": {"name": "api", "namespace": "shop"},
            "subsets": [
                {
                    "addresses": [
                        {
                            "ip": "10.1.0.1",
                            "targetRef": {"kind": "Pod", "name": "api-1", "namespace": "shop"},
                        }
                    ],
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                }
            ],
        },
    )
    updates = await run(job(standin, role="endpoints"))

    def labels() -> dict[str, str]:
        group = updates.group("k8s", "endpoints/shop/api")
        return dict(group.merged()[0]) if group and group.targets else {}

    await eventually(lambda: labels().get(M + "pod_label_app") == "api")
    assert labels()[M + "service_name"] == "api"
    standin.modify(
        "services",
        {"metadata": {"name": "api", "namespace": "shop", "labels": {"tier": "front"}}},
    )
    await eventually(lambda: labels().get(M + "service_label_tier") == "front")
    standin.modify("pods", pod("api-1", ip="10.1.0.1", labels={"app": "api", "v": "2"}))
    await eventually(lambda: labels().get(M + "pod_label_v") == "2")


async def test_the_service_and_node_roles_discover_through_the_api(
    standin: KubeStandin, run: Any
) -> None:
    standin.add(
        "services",
        {"metadata": {"name": "db", "namespace": "data"}, "spec": {"ports": [{"port": 5432}]}},
    )
    standin.add(
        "nodes",
        {
            "metadata": {"name": "node-a"},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "10.0.0.4"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            },
        },
    )
    svc = job(standin, role="service")
    nodes = ScrapeConfig(
        job_name="nodes",
        kubernetes_sd_configs=[
            KubernetesSDConfig(role="node", api_server=standin.url, bearer_token=TOKEN)
        ],
    )
    updates = await run(svc, nodes)
    await eventually(lambda: updates.addresses("k8s") == {"db.data.svc:5432"})
    await eventually(lambda: updates.addresses("nodes") == {"10.0.0.4:10250"})
    standin.delete("nodes", "node-a")
    await eventually(lambda: updates.addresses("nodes") == set())


async def test_a_list_longer_than_a_page_is_read_whole(standin: KubeStandin, run: Any) -> None:
    for i in range(PAGE_SIZE + 20):
        standin.add("pods", pod(f"api-{i}", ip=f"10.2.{i // 250}.{i % 250}"))
    updates = await run(job(standin, role="pod"))
    await eventually(lambda: len(updates.addresses("k8s")) == PAGE_SIZE + 20)
    lists = [q for path, q in standin.requests if "watch" not in q]
    assert [q.get("continue") for q in lists] == [None, str(PAGE_SIZE)]

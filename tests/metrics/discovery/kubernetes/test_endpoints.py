"""EndpointSlice groups carry exactly Prometheus' __meta_kubernetes_endpointslice_* labels,
and follow their service and pods through the API stand-in."""

from __future__ import annotations

from typing import Any

from tenantwatch.config.discovery_model import KubernetesSDConfig
from tenantwatch.config.metrics_model import ScrapeConfig
from tenantwatch.metrics.discovery.kubernetes.endpoints import endpointslice_group
from tenantwatch.metrics.discovery.manager import DiscoveryManager
from tests.metrics.discovery.k8s_standin import TOKEN, pod, running_standin
from tests.metrics.discovery.support import DEBOUNCE, Updates, eventually

M = "__meta_kubernetes_"
ES = M + "endpointslice_"


def api_slice() -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "api-x1",
            "namespace": "shop",
            "labels": {"kubernetes.io/service-name": "api"},
        },
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": ["10.1.0.7"],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "nodeName": "node-a",
                "zone": "eu-1a",
                "targetRef": {"kind": "Pod", "name": "api-1", "namespace": "shop"},
            },
            {"addresses": ["10.1.0.9"], "hostname": "api-2", "conditions": {"ready": False}},
        ],
        "ports": [{"name": "web", "port": 8080, "protocol": "TCP", "appProtocol": "http"}],
    }


def test_an_endpointslice_has_a_target_per_endpoint_address_and_port() -> None:
    api = pod("api-1", ip="10.1.0.7", labels={"app": "api"})
    service = {"metadata": {"name": "api", "namespace": "shop"}, "spec": {}}
    group = endpointslice_group(api_slice(), service=service, pods={"shop/api-1": api})
    assert group.source == "endpointslice/shop/api-x1"
    assert dict(group.labels) == {
        M + "namespace": "shop",
        ES + "address_type": "IPv4",
        ES + "name": "api-x1",
        ES + "label_kubernetes_io_service_name": "api",
        ES + "labelpresent_kubernetes_io_service_name": "true",
        M + "service_name": "api",
    }
    first, second = (dict(t) for t in group.targets)
    port = {
        ES + "port_name": "web",
        ES + "port_protocol": "TCP",
        ES + "port": "8080",
        ES + "port_app_protocol": "http",
    }
    assert first == {
        "__address__": "10.1.0.7:8080",
        **port,
        ES + "endpoint_conditions_ready": "true",
        ES + "endpoint_conditions_serving": "true",
        ES + "endpoint_conditions_terminating": "false",
        ES + "endpoint_node_name": "node-a",
        ES + "endpoint_zone": "eu-1a",
        ES + "address_target_kind": "Pod",
        ES + "address_target_name": "api-1",
        M + "pod_name": "api-1",
        M + "pod_ip": "10.1.0.7",
        M + "pod_ready": "true",
        M + "pod_phase": "Running",
        M + "pod_node_name": "node-a",
        M + "pod_host_ip": "192.168.1.10",
        M + "pod_uid": "uid-api-1",
        M + "pod_label_app": "api",
        M + "pod_labelpresent_app": "true",
        M + "pod_container_name": "app",
        M + "pod_container_image": "shop:1",
        M + "pod_container_port_name": "http",
        M + "pod_container_port_number": "8080",
        M + "pod_container_port_protocol": "TCP",
        M + "pod_container_init": "false",
    }
    assert second == {
        "__address__": "10.1.0.9:8080",
        **port,
        ES + "endpoint_conditions_ready": "false",
        ES + "endpoint_hostname": "api-2",
    }


def test_a_dual_stack_services_secondary_slice_has_no_targets() -> None:
    service = {
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"ipFamilyPolicy": "PreferDualStack", "ipFamilies": ["IPv6", "IPv4"]},
    }
    assert endpointslice_group(api_slice(), service=service).targets == ()


async def test_the_endpointslice_role_follows_its_service_through_the_api() -> None:
    async with running_standin() as standin:
        standin.add("pods", pod("api-1", ip="10.1.0.7", labels={"app": "api"}))
        standin.add("endpointslices", api_slice())
        updates = Updates()
        manager = DiscoveryManager(updates, debounce=DEBOUNCE)
        job = ScrapeConfig(
            job_name="slices",
            kubernetes_sd_configs=[
                KubernetesSDConfig(role="endpointslice", api_server=standin.url, bearer_token=TOKEN)
            ],
        )

        def labels() -> dict[str, str]:
            group = updates.group("slices", "endpointslice/shop/api-x1")
            return dict(group.labels) if group is not None else {}

        try:
            await manager.apply([job])
            await eventually(
                lambda: updates.addresses("slices") == {"10.1.0.7:8080", "10.1.0.9:8080"}
            )
            assert M + "service_name" not in labels()
            standin.add("services", {"metadata": {"name": "api", "namespace": "shop"}})
            await eventually(lambda: labels().get(M + "service_name") == "api")
            assert any(p == "/apis/discovery.k8s.io/v1/endpointslices" for p, _ in standin.requests)
        finally:
            await manager.stop()

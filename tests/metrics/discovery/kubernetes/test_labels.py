"""Each role's target groups carry exactly Prometheus' __meta_kubernetes_* labels."""

from __future__ import annotations

from tenantwatch.metrics.discovery.kubernetes.endpoints import endpoints_group
from tenantwatch.metrics.discovery.kubernetes.labels import (
    node_group,
    pod_group,
    sanitize_label_name,
    service_group,
)
from tests.metrics.discovery.k8s_standin import pod

M = "__meta_kubernetes_"


def test_label_names_are_sanitised_as_prometheus_does() -> None:
    assert sanitize_label_name("app.kubernetes.io/name") == "app_kubernetes_io_name"
    assert sanitize_label_name("prometheus.io/scrape") == "prometheus_io_scrape"
    assert sanitize_label_name("0-ok_Yes") == "0_ok_Yes"


def shop_pod() -> dict:  # type: ignore[type-arg]
    p = pod(
        "api-7f9",
        labels={"app": "api", "app.kubernetes.io/part-of": "shop"},
        annotations={"prometheus.io/port": "9102"},
        containers=[
            {
                "name": "app",
                "image": "shop:1",
                "ports": [
                    {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                    {"name": "metrics", "containerPort": 9102, "protocol": "TCP"},
                ],
            },
            {"name": "sidecar", "image": "envoy:1"},
        ],
    )
    p["metadata"]["ownerReferences"] = [
        {"kind": "ReplicaSet", "name": "api-5c", "controller": True},
        {"kind": "Other", "name": "x"},
    ]
    p["spec"]["initContainers"] = [{"name": "migrate", "image": "shop:1"}]
    p["status"]["containerStatuses"] = [{"name": "app", "containerID": "containerd://abc"}]
    return p


def test_a_pod_has_a_target_per_container_port_and_per_portless_container() -> None:
    group = pod_group(shop_pod())
    assert group.source == "pod/shop/api-7f9"
    assert dict(group.labels) == {
        M + "namespace": "shop",
        M + "pod_name": "api-7f9",
        M + "pod_ip": "10.1.0.5",
        M + "pod_ready": "true",
        M + "pod_phase": "Running",
        M + "pod_node_name": "node-a",
        M + "pod_host_ip": "192.168.1.10",
        M + "pod_uid": "uid-api-7f9",
        M + "pod_controller_kind": "ReplicaSet",
        M + "pod_controller_name": "api-5c",
        M + "pod_label_app": "api",
        M + "pod_labelpresent_app": "true",
        M + "pod_label_app_kubernetes_io_part_of": "shop",
        M + "pod_labelpresent_app_kubernetes_io_part_of": "true",
        M + "pod_annotation_prometheus_io_port": "9102",
        M + "pod_annotationpresent_prometheus_io_port": "true",
    }
    port = {
        M + "pod_container_name": "app",
        M + "pod_container_id": "containerd://abc",
        M + "pod_container_image": "shop:1",
        M + "pod_container_port_protocol": "TCP",
        M + "pod_container_init": "false",
    }
    assert [dict(t) for t in group.targets] == [
        {
            "__address__": "10.1.0.5:8080",
            **port,
            M + "pod_container_port_name": "http",
            M + "pod_container_port_number": "8080",
        },
        {
            "__address__": "10.1.0.5:9102",
            **port,
            M + "pod_container_port_name": "metrics",
            M + "pod_container_port_number": "9102",
        },
        {
            "__address__": "10.1.0.5",
            M + "pod_container_name": "sidecar",
            M + "pod_container_id": "",
            M + "pod_container_image": "envoy:1",
            M + "pod_container_init": "false",
        },
        {
            "__address__": "10.1.0.5",
            M + "pod_container_name": "migrate",
            M + "pod_container_id": "",
            M + "pod_container_image": "shop:1",
            M + "pod_container_init": "true",
        },
    ]


def test_a_pod_without_an_ip_has_no_targets() -> None:
    p = pod("starting", ip="")
    group = pod_group(p)
    assert (group.source, group.targets, group.labels) == ("pod/shop/starting", (), ())


def test_a_pod_with_attached_node_metadata_carries_the_nodes_labels() -> None:
    node = {"metadata": {"name": "node-a", "labels": {"zone": "eu-1"}}}
    group = pod_group(pod("api"), node, attach_node=True)
    labels = dict(group.labels)
    assert labels[M + "node_name"] == "node-a"
    assert labels[M + "node_label_zone"] == "eu-1"
    assert pod_group(pod("api"), None, attach_node=True).targets == ()


def test_an_ipv6_pod_address_is_bracketed() -> None:
    group = pod_group(pod("v6", ip="fd00::5"))
    assert dict(group.targets[0])["__address__"] == "[fd00::5]:8080"


def service(kind: str = "ClusterIP") -> dict:  # type: ignore[type-arg]
    return {
        "metadata": {
            "name": "mysql-exporter",
            "namespace": "db",
            "labels": {"app": "mysql-exporter", "tenant": "acme"},
            "annotations": {"team": "data"},
        },
        "spec": {
            "type": kind,
            "clusterIP": "10.96.0.12",
            "externalName": "db.example.com",
            "ports": [{"name": "metrics", "port": 9104, "protocol": "TCP"}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "x"}]}},
    }


def test_a_service_has_a_target_per_port_at_its_dns_name() -> None:
    group = service_group(service())
    assert group.source == "svc/db/mysql-exporter"
    assert dict(group.labels) == {
        M + "namespace": "db",
        M + "service_name": "mysql-exporter",
        M + "service_label_app": "mysql-exporter",
        M + "service_labelpresent_app": "true",
        M + "service_label_tenant": "acme",
        M + "service_labelpresent_tenant": "true",
        M + "service_annotation_team": "data",
        M + "service_annotationpresent_team": "true",
    }
    assert [dict(t) for t in group.targets] == [
        {
            "__address__": "mysql-exporter.db.svc:9104",
            M + "service_port_name": "metrics",
            M + "service_port_number": "9104",
            M + "service_port_protocol": "TCP",
            M + "service_type": "ClusterIP",
            M + "service_cluster_ip": "10.96.0.12",
        }
    ]


def test_external_name_and_load_balancer_services_say_so() -> None:
    external = dict(service_group(service("ExternalName")).targets[0])
    assert external[M + "service_external_name"] == "db.example.com"
    assert M + "service_cluster_ip" not in external
    balanced = dict(service_group(service("LoadBalancer")).targets[0])
    assert balanced[M + "service_loadbalancer_ip"] == "1.2.3.4"
    assert balanced[M + "service_cluster_ip"] == "10.96.0.12"


def test_endpoints_have_a_target_per_address_and_port_with_pod_and_service_metadata() -> None:
    api = pod("api-1", ip="10.1.0.7", labels={"app": "api"})
    api["spec"]["containers"][0]["ports"].append(
        {"name": "admin", "containerPort": 9000, "protocol": "TCP"}
    )
    endpoints = {
        "metadata": {"name": "api", "namespace": "shop", "labels": {"svc": "api"}},
        "subsets": [
            {
                "addresses": [
                    {
                        "ip": "10.1.0.7",
                        "nodeName": "node-a",
                        "targetRef": {"kind": "Pod", "name": "api-1", "namespace": "shop"},
                    }
                ],
                "notReadyAddresses": [{"ip": "10.1.0.9", "hostname": "api-2"}],
                "ports": [{"name": "web", "port": 8080, "protocol": "TCP"}],
            }
        ],
    }
    svc = {"metadata": {"name": "api", "namespace": "shop", "labels": {"tier": "front"}}}
    group = endpoints_group(endpoints, service=svc, pods={"shop/api-1": api})
    assert group.source == "endpoints/shop/api"
    assert dict(group.labels) == {
        M + "namespace": "shop",
        M + "service_name": "api",
        M + "service_label_tier": "front",
        M + "service_labelpresent_tier": "true",
        M + "endpoints_name": "api",
        M + "endpoints_label_svc": "api",
        M + "endpoints_labelpresent_svc": "true",
    }
    first, second, third = (dict(t) for t in group.targets)
    pod_part = {
        M + "pod_name": "api-1",
        M + "pod_ip": "10.1.0.7",
        M + "pod_ready": "true",
        M + "pod_phase": "Running",
        M + "pod_node_name": "node-a",
        M + "pod_host_ip": "192.168.1.10",
        M + "pod_uid": "uid-api-1",
        M + "pod_label_app": "api",
        M + "pod_labelpresent_app": "true",
    }
    assert first == {
        "__address__": "10.1.0.7:8080",
        M + "endpoint_port_name": "web",
        M + "endpoint_port_protocol": "TCP",
        M + "endpoint_ready": "true",
        M + "endpoint_address_target_kind": "Pod",
        M + "endpoint_address_target_name": "api-1",
        M + "endpoint_node_name": "node-a",
        **pod_part,
        M + "pod_container_name": "app",
        M + "pod_container_image": "shop:1",
        M + "pod_container_port_name": "http",
        M + "pod_container_port_number": "8080",
        M + "pod_container_port_protocol": "TCP",
        M + "pod_container_init": "false",
    }
    assert second == {
        "__address__": "10.1.0.9:8080",
        M + "endpoint_port_name": "web",
        M + "endpoint_port_protocol": "TCP",
        M + "endpoint_ready": "false",
        M + "endpoint_hostname": "api-2",
    }
    # the pod's container port no endpoint port covers gets its own target
    assert third == {
        "__address__": "10.1.0.7:9000",
        **pod_part,
        M + "pod_container_name": "app",
        M + "pod_container_image": "shop:1",
        M + "pod_container_port_name": "admin",
        M + "pod_container_port_number": "9000",
        M + "pod_container_port_protocol": "TCP",
        M + "pod_container_init": "false",
    }


def node(addresses: list[tuple[str, str]]) -> dict:  # type: ignore[type-arg]
    return {
        "metadata": {"name": "node-a", "labels": {"kubernetes.io/os": "linux"}},
        "spec": {"providerID": "aws:///eu-1a/i-1"},
        "status": {
            "addresses": [{"type": t, "address": a} for t, a in addresses],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def test_a_node_is_scraped_at_its_preferred_address_and_the_kubelet_port() -> None:
    group = node_group(
        node([("Hostname", "node-a"), ("ExternalIP", "3.3.3.3"), ("InternalIP", "10.0.0.4")])
    )
    assert group.source == "node/node-a"
    assert dict(group.labels) == {
        M + "node_name": "node-a",
        M + "node_provider_id": "aws:///eu-1a/i-1",
        M + "node_condition_ready": "true",
        M + "node_label_kubernetes_io_os": "linux",
        M + "node_labelpresent_kubernetes_io_os": "true",
    }
    assert [dict(t) for t in group.targets] == [
        {
            "__address__": "10.0.0.4:10250",
            "instance": "node-a",
            M + "node_address_Hostname": "node-a",
            M + "node_address_ExternalIP": "3.3.3.3",
            M + "node_address_InternalIP": "10.0.0.4",
        }
    ]


def test_a_node_falls_back_through_prometheus_order_of_address_types() -> None:
    only_host = node_group(node([("Hostname", "node-a"), ("ExternalDNS", "a.example")]))
    assert dict(only_host.targets[0])["__address__"] == "a.example:10250"
    assert node_group(node([])).targets == ()

"""Kubernetes objects (as the API's JSON) turned into target groups with exactly the
`__meta_kubernetes_*` labels Prometheus gives each role (pure functions).

Follows Prometheus' discovery/kubernetes (pod.go, service.go, endpoints.go, node.go):
the same sources (`pod/ns/name`, `svc/ns/name`, `endpoints/ns/name`, `node/name`), the same
labels, empty values included where Prometheus sets them empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tenantwatch.metrics.target_groups import TargetGroup
from tenantwatch.types import Labels

Obj = Mapping[str, Any]
META = "__meta_kubernetes_"
ADDRESS = "__address__"
NAMESPACE = META + "namespace"
_INVALID = re.compile(r"[^a-zA-Z0-9_]")
# Prometheus' preference for a node's scrape address
NODE_ADDRESS_ORDER = (
    "InternalIP",
    "InternalDNS",
    "ExternalIP",
    "ExternalDNS",
    "LegacyHostIP",
    "Hostname",
)


def sanitize_label_name(name: str) -> str:
    """Prometheus' strutil.SanitizeLabelName: every character but [a-zA-Z0-9_] becomes '_'."""
    return _INVALID.sub("_", name)


def join_host_port(host: str, port: int | str) -> str:
    """Go's net.JoinHostPort: IPv6 hosts in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def meta_of(obj: Obj) -> Obj:
    meta: Obj = obj.get("metadata") or {}
    return meta


def spec_of(obj: Obj) -> Obj:
    spec: Obj = obj.get("spec") or {}
    return spec


def status_of(obj: Obj) -> Obj:
    status: Obj = obj.get("status") or {}
    return status


def object_labels(obj: Obj, role: str) -> dict[str, str]:
    """`<role>_name`, and each label and annotation with its `...present_` twin."""
    meta = meta_of(obj)
    out = {f"{META}{role}_name": str(meta.get("name", ""))}
    for kind, values in (("label", meta.get("labels")), ("annotation", meta.get("annotations"))):
        for key, value in (values or {}).items():
            name = sanitize_label_name(key)
            out[f"{META}{role}_{kind}_{name}"] = str(value)
            out[f"{META}{role}_{kind}present_{name}"] = "true"
    return out


def sorted_labels(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def object_key(obj: Obj) -> str:
    """`namespace/name` (or `name` for cluster-wide objects), as client-go keys its stores."""
    meta = meta_of(obj)
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name', '')}" if namespace else str(meta.get("name", ""))


# --- pods -------------------------------------------------------------------------------


def pod_source(namespace: str, name: str) -> str:
    return f"pod/{namespace}/{name}"


def _controller(obj: Obj) -> Obj | None:
    for ref in meta_of(obj).get("ownerReferences") or []:
        if ref.get("controller") is True:
            found: Obj = ref
            return found
    return None


def pod_ready(pod: Obj) -> str:
    for condition in status_of(pod).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status", "Unknown")).lower()
    return "unknown"


def pod_labels(pod: Obj) -> dict[str, str]:
    """The labels every target of a pod carries (Prometheus' podLabels)."""
    status, spec = status_of(pod), spec_of(pod)
    out = {
        META + "pod_ip": str(status.get("podIP", "")),
        META + "pod_ready": pod_ready(pod),
        META + "pod_phase": str(status.get("phase", "")),
        META + "pod_node_name": str(spec.get("nodeName", "")),
        META + "pod_host_ip": str(status.get("hostIP", "")),
        META + "pod_uid": str(meta_of(pod).get("uid", "")),
    }
    out.update(object_labels(pod, "pod"))
    controller = _controller(pod)
    if controller is not None:
        if controller.get("kind"):
            out[META + "pod_controller_kind"] = str(controller["kind"])
        if controller.get("name"):
            out[META + "pod_controller_name"] = str(controller["name"])
    return out


def containers(pod: Obj) -> list[tuple[Obj, bool]]:
    spec = spec_of(pod)
    return [(c, False) for c in spec.get("containers") or []] + [
        (c, True) for c in spec.get("initContainers") or []
    ]


def _container_id(pod: Obj, name: str, init: bool) -> str:
    key = "initContainerStatuses" if init else "containerStatuses"
    for status in status_of(pod).get(key) or []:
        if status.get("name") == name:
            return str(status.get("containerID", ""))
    return ""


def port_labels(
    container: Obj, port: Obj, init: bool, protocol: str | None = None
) -> dict[str, str]:
    return {
        META + "pod_container_name": str(container.get("name", "")),
        META + "pod_container_image": str(container.get("image", "")),
        META + "pod_container_port_name": str(port.get("name", "")),
        META + "pod_container_port_number": str(port.get("containerPort", "")),
        META + "pod_container_port_protocol": protocol
        if protocol is not None
        else str(port.get("protocol", "")),
        META + "pod_container_init": "true" if init else "false",
    }


def node_meta_labels(node: Obj | None) -> dict[str, str]:
    """A node's name, labels and annotations, for attach_metadata: {node: true}."""
    return object_labels(node, "node") if node is not None else {}


def pod_group(pod: Obj, node: Obj | None = None, *, attach_node: bool = False) -> TargetGroup:
    """A pod's group: a target per container port, or per container without ports (its
    address then the pod IP alone). No pod IP yet (or any more): no targets."""
    meta = meta_of(pod)
    namespace = str(meta.get("namespace", ""))
    source = pod_source(namespace, str(meta.get("name", "")))
    ip = str(status_of(pod).get("podIP", ""))
    if not ip or (attach_node and node is None):
        return TargetGroup(source, ())
    group = pod_labels(pod)
    group[NAMESPACE] = namespace
    if attach_node:
        group.update(node_meta_labels(node))
    targets: list[Labels] = []
    for container, init in containers(pod):
        name = str(container.get("name", ""))
        cid = _container_id(pod, name, init)
        ports = container.get("ports") or []
        if not ports:
            targets.append(
                sorted_labels(
                    {
                        ADDRESS: ip,
                        META + "pod_container_name": name,
                        META + "pod_container_id": cid,
                        META + "pod_container_image": str(container.get("image", "")),
                        META + "pod_container_init": "true" if init else "false",
                    }
                )
            )
            continue
        for port in ports:
            labels = port_labels(container, port, init)
            labels[ADDRESS] = join_host_port(ip, port.get("containerPort", ""))
            labels[META + "pod_container_id"] = cid
            targets.append(sorted_labels(labels))
    return TargetGroup(source, tuple(targets), sorted_labels(group))


# --- services ---------------------------------------------------------------------------


def service_source(namespace: str, name: str) -> str:
    return f"svc/{namespace}/{name}"


def service_labels(service: Obj) -> dict[str, str]:
    out = {NAMESPACE: str(meta_of(service).get("namespace", ""))}
    out.update(object_labels(service, "service"))
    return out


def _load_balancer_ips(service: Obj) -> str:
    ingress = (status_of(service).get("loadBalancer") or {}).get("ingress") or []
    ips = [str(i["ip"]) for i in ingress if i.get("ip")]
    return ",".join(ips) if ips else str(spec_of(service).get("loadBalancerIP", ""))


def service_group(service: Obj) -> TargetGroup:
    """A service's group: a target per port, addressed `name.namespace.svc:port`."""
    meta, spec = meta_of(service), spec_of(service)
    name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
    kind = str(spec.get("type", ""))
    targets = []
    for port in spec.get("ports") or []:
        number = str(port.get("port", ""))
        labels = {
            ADDRESS: join_host_port(f"{name}.{namespace}.svc", number),
            META + "service_port_name": str(port.get("name", "")),
            META + "service_port_number": number,
            META + "service_port_protocol": str(port.get("protocol", "")),
            META + "service_type": kind,
        }
        if kind == "ExternalName":
            labels[META + "service_external_name"] = str(spec.get("externalName", ""))
        else:
            labels[META + "service_cluster_ip"] = str(spec.get("clusterIP", ""))
        if kind == "LoadBalancer":
            labels[META + "service_loadbalancer_ip"] = _load_balancer_ips(service)
        targets.append(sorted_labels(labels))
    return TargetGroup(
        service_source(namespace, name), tuple(targets), sorted_labels(service_labels(service))
    )


# --- nodes ------------------------------------------------------------------------------


def node_source(name: str) -> str:
    return f"node/{name}"


def node_address(node: Obj) -> tuple[str | None, dict[str, list[str]]]:
    """The address Prometheus scrapes a node at (by NODE_ADDRESS_ORDER), and all by type."""
    by_type: dict[str, list[str]] = {}
    for address in status_of(node).get("addresses") or []:
        by_type.setdefault(str(address.get("type", "")), []).append(str(address.get("address", "")))
    for kind in NODE_ADDRESS_ORDER:
        if kind in by_type:
            return by_type[kind][0], by_type
    return None, by_type


def node_group(node: Obj) -> TargetGroup:
    """A node's group: one target at its preferred address and the kubelet's port, with
    `instance` set to the node's name. A node without an address has no target."""
    name = str(meta_of(node).get("name", ""))
    labels = {META + "node_provider_id": str(spec_of(node).get("providerID", ""))}
    status = status_of(node)
    for condition in status.get("conditions") or []:
        kind = sanitize_label_name(str(condition.get("type", "")).lower())
        labels[META + "node_condition_" + kind] = str(condition.get("status", "")).lower()
    labels.update(object_labels(node, "node"))
    address, by_type = node_address(node)
    if address is None:
        return TargetGroup(node_source(name), (), sorted_labels(labels))
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port", 0)
    target = {ADDRESS: join_host_port(address, port), "instance": name}
    for kind, addresses in by_type.items():
        target[sanitize_label_name(META + "node_address_" + kind)] = addresses[0]
    return TargetGroup(node_source(name), (sorted_labels(target),), sorted_labels(labels))

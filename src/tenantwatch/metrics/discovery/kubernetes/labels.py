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


def _meta(obj: Obj) -> Obj:
    meta: Obj = obj.get("metadata") or {}
    return meta


def _spec(obj: Obj) -> Obj:
    spec: Obj = obj.get("spec") or {}
    return spec


def _status(obj: Obj) -> Obj:
    status: Obj = obj.get("status") or {}
    return status


def object_labels(obj: Obj, role: str) -> dict[str, str]:
    """`<role>_name`, and each label and annotation with its `...present_` twin."""
    meta = _meta(obj)
    out = {f"{META}{role}_name": str(meta.get("name", ""))}
    for kind, values in (("label", meta.get("labels")), ("annotation", meta.get("annotations"))):
        for key, value in (values or {}).items():
            name = sanitize_label_name(key)
            out[f"{META}{role}_{kind}_{name}"] = str(value)
            out[f"{META}{role}_{kind}present_{name}"] = "true"
    return out


def _sorted(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def object_key(obj: Obj) -> str:
    """`namespace/name` (or `name` for cluster-wide objects), as client-go keys its stores."""
    meta = _meta(obj)
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name', '')}" if namespace else str(meta.get("name", ""))


# --- pods -------------------------------------------------------------------------------


def pod_source(namespace: str, name: str) -> str:
    return f"pod/{namespace}/{name}"


def _controller(obj: Obj) -> Obj | None:
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller") is True:
            found: Obj = ref
            return found
    return None


def pod_ready(pod: Obj) -> str:
    for condition in _status(pod).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status", "Unknown")).lower()
    return "unknown"


def pod_labels(pod: Obj) -> dict[str, str]:
    """The labels every target of a pod carries (Prometheus' podLabels)."""
    status, spec = _status(pod), _spec(pod)
    out = {
        META + "pod_ip": str(status.get("podIP", "")),
        META + "pod_ready": pod_ready(pod),
        META + "pod_phase": str(status.get("phase", "")),
        META + "pod_node_name": str(spec.get("nodeName", "")),
        META + "pod_host_ip": str(status.get("hostIP", "")),
        META + "pod_uid": str(_meta(pod).get("uid", "")),
    }
    out.update(object_labels(pod, "pod"))
    controller = _controller(pod)
    if controller is not None:
        if controller.get("kind"):
            out[META + "pod_controller_kind"] = str(controller["kind"])
        if controller.get("name"):
            out[META + "pod_controller_name"] = str(controller["name"])
    return out


def _containers(pod: Obj) -> list[tuple[Obj, bool]]:
    spec = _spec(pod)
    return [(c, False) for c in spec.get("containers") or []] + [
        (c, True) for c in spec.get("initContainers") or []
    ]


def _container_id(pod: Obj, name: str, init: bool) -> str:
    key = "initContainerStatuses" if init else "containerStatuses"
    for status in _status(pod).get(key) or []:
        if status.get("name") == name:
            return str(status.get("containerID", ""))
    return ""


def _port_labels(
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
    meta = _meta(pod)
    namespace = str(meta.get("namespace", ""))
    source = pod_source(namespace, str(meta.get("name", "")))
    ip = str(_status(pod).get("podIP", ""))
    if not ip or (attach_node and node is None):
        return TargetGroup(source, ())
    group = pod_labels(pod)
    group[NAMESPACE] = namespace
    if attach_node:
        group.update(node_meta_labels(node))
    targets: list[Labels] = []
    for container, init in _containers(pod):
        name = str(container.get("name", ""))
        cid = _container_id(pod, name, init)
        ports = container.get("ports") or []
        if not ports:
            targets.append(
                _sorted(
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
            labels = _port_labels(container, port, init)
            labels[ADDRESS] = join_host_port(ip, port.get("containerPort", ""))
            labels[META + "pod_container_id"] = cid
            targets.append(_sorted(labels))
    return TargetGroup(source, tuple(targets), _sorted(group))


# --- services ---------------------------------------------------------------------------


def service_source(namespace: str, name: str) -> str:
    return f"svc/{namespace}/{name}"


def service_labels(service: Obj) -> dict[str, str]:
    out = {NAMESPACE: str(_meta(service).get("namespace", ""))}
    out.update(object_labels(service, "service"))
    return out


def _load_balancer_ips(service: Obj) -> str:
    ingress = (_status(service).get("loadBalancer") or {}).get("ingress") or []
    ips = [str(i["ip"]) for i in ingress if i.get("ip")]
    return ",".join(ips) if ips else str(_spec(service).get("loadBalancerIP", ""))


def service_group(service: Obj) -> TargetGroup:
    """A service's group: a target per port, addressed `name.namespace.svc:port`."""
    meta, spec = _meta(service), _spec(service)
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
        targets.append(_sorted(labels))
    return TargetGroup(
        service_source(namespace, name), tuple(targets), _sorted(service_labels(service))
    )


# --- endpoints --------------------------------------------------------------------------


def endpoints_source(namespace: str, name: str) -> str:
    return f"endpoints/{namespace}/{name}"


def endpoints_group(
    endpoints: Obj,
    *,
    service: Obj | None = None,
    pods: Mapping[str, Obj] | None = None,
    nodes: Mapping[str, Obj] | None = None,
    attach_node: bool = False,
) -> TargetGroup:
    """An Endpoints object's group: a target per address and port (ready and not ready),
    with its service's labels and, for addresses of known pods, the pod's labels; then a
    target for each container port of those pods that no endpoint port covers.
    `pods` and `nodes` are by `namespace/name` and by name."""
    meta = _meta(endpoints)
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    group = {NAMESPACE: namespace}
    if service is not None:
        group.update(service_labels(service))
    group.update(object_labels(endpoints, "endpoints"))
    pods, nodes = pods or {}, nodes or {}
    targets: list[Labels] = []
    seen: dict[str, tuple[Obj, list[int]]] = {}

    def add(address: Obj, port: Obj, ready: str) -> None:
        target = {
            ADDRESS: join_host_port(str(address.get("ip", "")), port.get("port", "")),
            META + "endpoint_port_name": str(port.get("name", "")),
            META + "endpoint_port_protocol": str(port.get("protocol", "")),
            META + "endpoint_ready": ready,
        }
        ref = address.get("targetRef")
        if ref is not None:
            target[META + "endpoint_address_target_kind"] = str(ref.get("kind", ""))
            target[META + "endpoint_address_target_name"] = str(ref.get("name", ""))
        node_name = address.get("nodeName")
        if node_name is not None:
            target[META + "endpoint_node_name"] = str(node_name)
        if address.get("hostname"):
            target[META + "endpoint_hostname"] = str(address["hostname"])
        if attach_node:
            if node_name is not None:
                target.update(node_meta_labels(nodes.get(str(node_name))))
            elif ref is not None and ref.get("kind") == "Node":
                target.update(node_meta_labels(nodes.get(str(ref.get("name", "")))))
        pod = None
        if ref is not None and ref.get("kind") == "Pod":
            pod = pods.get(f"{ref.get('namespace', '')}/{ref.get('name', '')}")
        if pod is None:
            targets.append(_sorted(target))
            return
        key = object_key(pod)
        entry = seen.setdefault(key, (pod, []))
        target.update(pod_labels(pod))
        for container, init in _containers(pod):
            matching = [
                p
                for p in container.get("ports") or []
                if p.get("containerPort") == port.get("port")
            ]
            if matching:
                target.update(
                    _port_labels(container, matching[0], init, str(port.get("protocol", "")))
                )
                break
        entry[1].append(int(port.get("port", 0)))
        targets.append(_sorted(target))

    for subset in endpoints.get("subsets") or []:
        for port in subset.get("ports") or []:
            for address in subset.get("addresses") or []:
                add(address, port, "true")
            for address in subset.get("notReadyAddresses") or []:
                add(address, port, "false")

    for pod, covered in seen.values():
        ip = str(_status(pod).get("podIP", ""))
        if not ip:
            continue
        for container, init in _containers(pod):
            for port in container.get("ports") or []:
                if port.get("containerPort") in covered:
                    continue
                labels = _port_labels(container, port, init)
                labels[ADDRESS] = join_host_port(ip, port.get("containerPort", ""))
                labels.update(pod_labels(pod))
                targets.append(_sorted(labels))
    return TargetGroup(endpoints_source(namespace, name), tuple(targets), _sorted(group))


# --- nodes ------------------------------------------------------------------------------


def node_source(name: str) -> str:
    return f"node/{name}"


def node_address(node: Obj) -> tuple[str | None, dict[str, list[str]]]:
    """The address Prometheus scrapes a node at (by NODE_ADDRESS_ORDER), and all by type."""
    by_type: dict[str, list[str]] = {}
    for address in _status(node).get("addresses") or []:
        by_type.setdefault(str(address.get("type", "")), []).append(str(address.get("address", "")))
    for kind in NODE_ADDRESS_ORDER:
        if kind in by_type:
            return by_type[kind][0], by_type
    return None, by_type


def node_group(node: Obj) -> TargetGroup:
    """A node's group: one target at its preferred address and the kubelet's port, with
    `instance` set to the node's name. A node without an address has no target."""
    name = str(_meta(node).get("name", ""))
    labels = {META + "node_provider_id": str(_spec(node).get("providerID", ""))}
    status = _status(node)
    for condition in status.get("conditions") or []:
        kind = sanitize_label_name(str(condition.get("type", "")).lower())
        labels[META + "node_condition_" + kind] = str(condition.get("status", "")).lower()
    labels.update(object_labels(node, "node"))
    address, by_type = node_address(node)
    if address is None:
        return TargetGroup(node_source(name), (), _sorted(labels))
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port", 0)
    target = {ADDRESS: join_host_port(address, port), "instance": name}
    for kind, addresses in by_type.items():
        target[sanitize_label_name(META + "node_address_" + kind)] = addresses[0]
    return TargetGroup(node_source(name), (_sorted(target),), _sorted(labels))

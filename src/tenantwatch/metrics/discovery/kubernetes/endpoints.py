"""Endpoints and EndpointSlice objects turned into target groups with Prometheus' labels
(pure): a target per address and port, the service's labels when the service is known,
the pod's labels for addresses of known pods, and then a target for each container port of
those pods that no endpoint port covers (Prometheus' endpoints.go and endpointslice.go)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tenantwatch.metrics.discovery.kubernetes.labels import (
    ADDRESS,
    META,
    NAMESPACE,
    Obj,
    containers,
    join_host_port,
    meta_of,
    node_meta_labels,
    object_key,
    object_labels,
    pod_labels,
    port_labels,
    sanitize_label_name,
    service_labels,
    sorted_labels,
    spec_of,
    status_of,
)
from tenantwatch.metrics.target_groups import TargetGroup
from tenantwatch.types import Labels

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def endpoints_source(namespace: str, name: str) -> str:
    return f"endpoints/{namespace}/{name}"


def endpointslice_source(namespace: str, name: str) -> str:
    return f"endpointslice/{namespace}/{name}"


class _PodTargets:
    """The targets of one group that belong to known pods, and the ports they cover."""

    def __init__(self, pods: Mapping[str, Obj]) -> None:
        self.pods = pods
        self.seen: dict[str, tuple[Obj, list[object]]] = {}

    def pod_of(self, ref: Obj | None) -> Obj | None:
        if ref is None or ref.get("kind") != "Pod":
            return None
        return self.pods.get(f"{ref.get('namespace', '')}/{ref.get('name', '')}")

    def add_pod_labels(
        self, target: dict[str, str], pod: Obj, port: object, protocol: Callable[[Obj], str]
    ) -> None:
        """The pod's labels and those of the container port the endpoint port is."""
        self.seen.setdefault(object_key(pod), (pod, []))[1].append(port)
        target.update(pod_labels(pod))
        for container, init in containers(pod):
            matching = [p for p in container.get("ports") or [] if p.get("containerPort") == port]
            if port is not None and matching:
                target.update(port_labels(container, matching[0], init, protocol(matching[0])))
                break

    def uncovered(self) -> list[Labels]:
        out = []
        for pod, covered in self.seen.values():
            ip = str(status_of(pod).get("podIP", ""))
            if not ip:
                continue
            for container, init in containers(pod):
                for port in container.get("ports") or []:
                    if port.get("containerPort") in covered:
                        continue
                    labels = port_labels(container, port, init)
                    labels[ADDRESS] = join_host_port(ip, port.get("containerPort", ""))
                    labels.update(pod_labels(pod))
                    out.append(sorted_labels(labels))
        return out


def _attach_node(
    target: dict[str, str], node_name: object, ref: Obj | None, nodes: Mapping[str, Obj]
) -> None:
    if ref is not None and ref.get("kind") == "Node":
        target.update(node_meta_labels(nodes.get(str(ref.get("name", "")))))
    elif node_name is not None:
        target.update(node_meta_labels(nodes.get(str(node_name))))


def endpoints_group(
    endpoints: Obj,
    *,
    service: Obj | None = None,
    pods: Mapping[str, Obj] | None = None,
    nodes: Mapping[str, Obj] | None = None,
    attach_node: bool = False,
) -> TargetGroup:
    """An Endpoints object's group: a target per address and port, ready and not ready.
    `pods` and `nodes` are by `namespace/name` and by name."""
    meta = meta_of(endpoints)
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    group = {NAMESPACE: namespace}
    if service is not None:
        group.update(service_labels(service))
    group.update(object_labels(endpoints, "endpoints"))
    nodes = nodes or {}
    by_pod = _PodTargets(pods or {})
    targets: list[Labels] = []

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
            # Prometheus prefers the address's node name here, the target ref for slices
            if node_name is not None:
                _attach_node(target, node_name, None, nodes)
            else:
                _attach_node(target, None, ref, nodes)
        pod = by_pod.pod_of(ref)
        if pod is not None:
            by_pod.add_pod_labels(
                target, pod, port.get("port"), lambda _: str(port.get("protocol", ""))
            )
        targets.append(sorted_labels(target))

    for subset in endpoints.get("subsets") or []:
        for port in subset.get("ports") or []:
            for address in subset.get("addresses") or []:
                add(address, port, "true")
            for address in subset.get("notReadyAddresses") or []:
                add(address, port, "false")
    targets.extend(by_pod.uncovered())
    return TargetGroup(endpoints_source(namespace, name), tuple(targets), sorted_labels(group))


def slice_service_key(endpoint_slice: Obj) -> str | None:
    """`namespace/name` of the service a slice belongs to (its service-name label)."""
    meta = meta_of(endpoint_slice)
    name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
    return f"{meta.get('namespace', '')}/{name}" if name is not None else None


def _other_ip_family(service: Obj | None, endpoint_slice: Obj) -> bool:
    """Whether the slice holds a dual-stack service's secondary family (Prometheus skips it)."""
    if service is None:
        return False
    spec = spec_of(service)
    if spec.get("ipFamilyPolicy") not in ("PreferDualStack", "RequireDualStack"):
        return False
    families = spec.get("ipFamilies") or []
    return bool(families) and endpoint_slice.get("addressType") != families[0]


def _bool(value: object) -> str:
    return "true" if value else "false"


def endpointslice_group(
    endpoint_slice: Obj,
    *,
    service: Obj | None = None,
    pods: Mapping[str, Obj] | None = None,
    nodes: Mapping[str, Obj] | None = None,
    attach_node: bool = False,
) -> TargetGroup:
    """An EndpointSlice's group (discovery.k8s.io/v1): a target per endpoint address and
    port, with the `__meta_kubernetes_endpointslice_*` labels."""
    meta = meta_of(endpoint_slice)
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    group = {
        NAMESPACE: namespace,
        META + "endpointslice_address_type": str(endpoint_slice.get("addressType", "")),
    }
    group.update(object_labels(endpoint_slice, "endpointslice"))
    if service is not None:
        group.update(service_labels(service))
    source = endpointslice_source(namespace, name)
    if _other_ip_family(service, endpoint_slice):
        return TargetGroup(source, (), sorted_labels(group))
    nodes = nodes or {}
    by_pod = _PodTargets(pods or {})
    targets: list[Labels] = []
    prefix = META + "endpointslice_"
    for endpoint in endpoint_slice.get("endpoints") or []:
        for port in endpoint_slice.get("ports") or []:
            for address in endpoint.get("addresses") or []:
                number = port.get("port")
                target = {
                    ADDRESS: join_host_port(str(address), number)
                    if number is not None
                    else str(address)
                }
                for key, label in (
                    ("name", "port_name"),
                    ("protocol", "port_protocol"),
                    ("port", "port"),
                    ("appProtocol", "port_app_protocol"),
                ):
                    if port.get(key) is not None:
                        target[prefix + label] = str(port[key])
                conditions = endpoint.get("conditions") or {}
                for key in ("ready", "serving", "terminating"):
                    if conditions.get(key) is not None:
                        target[prefix + "endpoint_conditions_" + key] = _bool(conditions[key])
                if endpoint.get("hostname") is not None:
                    target[prefix + "endpoint_hostname"] = str(endpoint["hostname"])
                ref = endpoint.get("targetRef")
                if ref is not None:
                    target[prefix + "address_target_kind"] = str(ref.get("kind", ""))
                    target[prefix + "address_target_name"] = str(ref.get("name", ""))
                if endpoint.get("nodeName") is not None:
                    target[prefix + "endpoint_node_name"] = str(endpoint["nodeName"])
                if endpoint.get("zone") is not None:
                    target[prefix + "endpoint_zone"] = str(endpoint["zone"])
                for key, value in (endpoint.get("deprecatedTopology") or {}).items():
                    label = sanitize_label_name(key)
                    target[prefix + "endpoint_topology_" + label] = str(value)
                    target[prefix + "endpoint_topology_present_" + label] = "true"
                if attach_node:
                    _attach_node(target, endpoint.get("nodeName"), ref, nodes)
                pod = by_pod.pod_of(ref)
                if pod is not None:
                    by_pod.add_pod_labels(
                        target, pod, number, lambda cport: str(cport.get("protocol", ""))
                    )
                targets.append(sorted_labels(target))
    targets.extend(by_pod.uncovered())
    return TargetGroup(source, tuple(targets), sorted_labels(group))

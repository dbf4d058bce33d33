"""kubernetes_sd_configs: the informers one role needs, and the groups to send when any of
their objects change (an endpoints group also changes with its service and its pods)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

import aiohttp
import structlog

from tenantwatch.config.discovery_model import KubernetesSDConfig, SelectorConfig
from tenantwatch.metrics.discovery.kubernetes.client import RESOURCES, KubeClient, Obj, Query
from tenantwatch.metrics.discovery.kubernetes.connection import (
    SERVICE_ACCOUNT_DIR,
    KubeConnectionError,
    connection_for,
)
from tenantwatch.metrics.discovery.kubernetes.endpoints import (
    endpoints_group,
    endpoints_source,
    endpointslice_group,
    endpointslice_source,
    slice_service_key,
)
from tenantwatch.metrics.discovery.kubernetes.informer import Informer
from tenantwatch.metrics.discovery.kubernetes.labels import (
    node_group,
    node_source,
    pod_group,
    pod_source,
    service_group,
    service_source,
)
from tenantwatch.metrics.discovery.provider import Send
from tenantwatch.metrics.target_groups import TargetGroup

log = structlog.get_logger(__name__)

# the resources each role watches: its own, then those whose metadata it attaches
ROLE_RESOURCES = {
    "pod": ("pods",),
    "service": ("services",),
    "endpoints": ("endpoints", "services", "pods"),
    "endpointslice": ("endpointslices", "services", "pods"),
    "node": ("nodes",),
}


def _split(key: str) -> tuple[str, str]:
    namespace, _, name = key.rpartition("/")
    return namespace, name


class KubernetesProvider:
    def __init__(
        self,
        config: KubernetesSDConfig,
        *,
        env: Mapping[str, str],
        account_dir: Path = SERVICE_ACCOUNT_DIR,
        session: aiohttp.ClientSession | None = None,
        retry_delay: float = 1.0,
        unusable_retry: float = 30.0,
    ) -> None:
        self.config = config
        self.env = env
        self.account_dir = account_dir
        self._session = session
        self.retry_delay = retry_delay
        self.unusable_retry = unusable_retry
        self.informers: list[Informer] = []
        self.stores: dict[str, dict[str, Obj]] = {}

    def resources(self) -> tuple[str, ...]:
        wanted = ROLE_RESOURCES[self.config.role]
        if self.config.attach_metadata.node and self.config.role in (
            "pod",
            "endpoints",
            "endpointslice",
        ):
            wanted = (*wanted, "nodes")
        return wanted

    def queries(self, own_namespace: str | None) -> list[Query]:
        """One query per resource and namespace, with the selectors of its role."""
        names: list[str | None] = list(self.config.namespaces.names)
        if own_namespace is not None:
            names.append(own_namespace)
        if not names:
            names = [None]
        selectors: dict[str, SelectorConfig] = {s.role: s for s in self.config.selectors}
        out = []
        for resource in self.resources():
            role, namespaced, _ = RESOURCES[resource]
            selector = selectors.get(role)
            label = selector.label if selector else ""
            field = selector.field if selector else ""
            for namespace in names if namespaced else [None]:
                out.append(Query(resource, namespace, label, field))
        return out

    async def run(self, send: Send) -> None:
        while True:
            try:
                connection = connection_for(self.config, self.env, self.account_dir)
                break
            except KubeConnectionError as exc:
                # the settings may still appear (a kubeconfig being mounted): say so, retry
                log.error("kubernetes_sd_unusable", role=self.config.role, problem=str(exc))
                await asyncio.sleep(self.unusable_retry)
        owned = self._session is None
        session = self._session or aiohttp.ClientSession(trust_env=False)
        client = KubeClient(connection, session)
        self.stores = {resource: {} for resource in self.resources()}

        def on_change(resource: str, key: str, obj: Obj | None) -> None:
            store = self.stores[resource]
            if obj is None:
                store.pop(key, None)
            else:
                store[key] = obj
            send(self.affected(resource, key))

        self.informers = [
            Informer(client, query, on_change, retry_delay=self.retry_delay)
            for query in self.queries(connection.own_namespace)
        ]
        try:
            await asyncio.gather(*(informer.run() for informer in self.informers))
        finally:
            if owned:
                await session.close()

    def affected(self, resource: str, key: str) -> list[TargetGroup]:
        """The groups to send after the object at `key` of `resource` changed."""
        role = self.config.role
        if role == "pod":
            if resource == "pods":
                return [self._pod(key)]
            return [self._pod(k) for k, p in self.stores["pods"].items() if _node_of(p) == key]
        if role == "service":
            return [self._service(key)]
        if role == "node":
            return [self._node(key)]
        if role == "endpoints":
            return self._endpoints_affected(resource, key, "endpoints", lambda k: k == key)
        return self._endpoints_affected(
            resource,
            key,
            "endpointslices",
            lambda k: slice_service_key(self.stores["endpointslices"][k]) == key,
        )

    def _endpoints_affected(
        self, resource: str, key: str, own: str, of_service: Callable[[str], bool]
    ) -> list[TargetGroup]:
        """The endpoints (or slice) groups an object of `resource` at `key` takes part in:
        itself, those of a service, those in a pod's namespace, or all for a node."""
        if resource == own:
            return [self._endpoints(key)]
        namespace = _split(key)[0]
        return [
            self._endpoints(k)
            for k in self.stores[own]
            if resource == "nodes"
            or (resource == "services" and of_service(k))
            or (resource == "pods" and _split(k)[0] == namespace)
        ]

    def _pod(self, key: str) -> TargetGroup:
        pod = self.stores["pods"].get(key)
        if pod is None:
            return TargetGroup(pod_source(*_split(key)), ())
        attach = "nodes" in self.stores
        node = self.stores["nodes"].get(_node_of(pod)) if attach else None
        return pod_group(pod, node, attach_node=attach)

    def _service(self, key: str) -> TargetGroup:
        service = self.stores["services"].get(key)
        if service is None:
            return TargetGroup(service_source(*_split(key)), ())
        return service_group(service)

    def _node(self, key: str) -> TargetGroup:
        node = self.stores["nodes"].get(key)
        return node_group(node) if node is not None else TargetGroup(node_source(key), ())

    def _endpoints(self, key: str) -> TargetGroup:
        """The group of the Endpoints (or EndpointSlice) object at key, as its role builds it."""
        slices = self.config.role == "endpointslice"
        store = self.stores["endpointslices" if slices else "endpoints"]
        obj = store.get(key)
        if obj is None:
            source = endpointslice_source if slices else endpoints_source
            return TargetGroup(source(*_split(key)), ())
        service_key = slice_service_key(obj) if slices else key
        nodes = self.stores.get("nodes")
        build = endpointslice_group if slices else endpoints_group
        return build(
            obj,
            service=self.stores["services"].get(service_key) if service_key else None,
            pods=self.stores["pods"],
            nodes=nodes,
            attach_node=nodes is not None,
        )


def _node_of(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName", ""))

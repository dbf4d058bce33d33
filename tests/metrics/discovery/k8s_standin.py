"""A loopback stand-in of the Kubernetes API for discovery tests: list and watch of pods,
services, endpoints and nodes with resourceVersions, as the real API serves them.

Tests add, modify and delete objects (pushed to open watches), compact the history (a
watch from an older version then gets 410 Gone), and break open streams.
"""

from __future__ import annotations

import asyncio
import copy
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from tenantwatch import jsonio

Obj = dict[str, Any]
NAMESPACED = {
    "pods": True,
    "services": True,
    "endpoints": True,
    "endpointslices": True,
    "nodes": False,
}
TOKEN = "standin-token"


def _key(obj: Mapping[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]


def _labels_match(selector: str, labels: Mapping[str, str]) -> bool:
    """Equality selectors ('a=b,c!=d') and existence ('a'), enough for the tests."""
    for term in filter(None, selector.split(",")):
        if "!=" in term:
            name, value = term.split("!=", 1)
            if labels.get(name) == value:
                return False
        elif "=" in term:
            name, value = term.replace("==", "=").split("=", 1)
            if labels.get(name) != value:
                return False
        elif term not in labels:
            return False
    return True


def _fields_match(selector: str, obj: Mapping[str, Any]) -> bool:
    for term in filter(None, selector.split(",")):
        path, value = term.split("=", 1)
        current: Any = obj
        for part in path.split("."):
            current = current.get(part, "") if isinstance(current, dict) else ""
        if str(current) != value:
            return False
    return True


class _Watch:
    def __init__(self, resource: str, namespace: str | None, request: web.Request) -> None:
        self.resource = resource
        self.namespace = namespace
        self.request = request
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()


class KubeStandin:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.objects: dict[str, dict[str, Obj]] = {r: {} for r in NAMESPACED}
        self.version = 100
        self.oldest = 100  # a watch from before this version gets 410 Gone
        self.history: list[tuple[int, str, str, Obj]] = []
        self.watches: list[_Watch] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.refused = 0
        self.url = ""
        self.port = 0

    # --- what tests call ----------------------------------------------------------------

    def add(self, resource: str, obj: Obj) -> None:
        self._event(resource, "ADDED", obj)

    def modify(self, resource: str, obj: Obj) -> None:
        self._event(resource, "MODIFIED", obj)

    def delete(self, resource: str, key: str) -> None:
        self._event(resource, "DELETED", self.objects[resource][key])

    def compact(self) -> None:
        """Forget the history: watches from any version before now get 410 Gone."""
        self.version += 1
        self.oldest = self.version
        self.history.clear()

    def expire_watches(self) -> None:
        """Answer every open watch with an ERROR event of code 410, as etcd compaction does."""
        self.compact()
        gone = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}
        for watch in self.watches:
            watch.queue.put_nowait(self._line("ERROR", gone))
            watch.queue.put_nowait(None)

    def break_watches(self) -> None:
        """Cut every open watch's connection mid-stream."""
        for watch in list(self.watches):
            transport = watch.request.transport
            if transport is not None:
                transport.abort()
            watch.queue.put_nowait(None)
            self.watches.remove(watch)

    def watch_count(self, resource: str) -> int:
        return sum(1 for w in self.watches if w.resource == resource)

    # --- the API ------------------------------------------------------------------------

    def _event(self, resource: str, kind: str, obj: Obj) -> None:
        self.version += 1
        obj = copy.deepcopy(obj)
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.version)
        key = _key(obj)
        if kind == "DELETED":
            self.objects[resource].pop(key, None)
        else:
            self.objects[resource][key] = obj
        self.history.append((self.version, resource, kind, obj))
        for watch in self.watches:
            if watch.resource == resource and self._in(watch.namespace, obj):
                watch.queue.put_nowait(self._line(kind, obj))

    @staticmethod
    def _in(namespace: str | None, obj: Obj) -> bool:
        return namespace is None or obj["metadata"].get("namespace") == namespace

    @staticmethod
    def _line(kind: str, obj: Obj) -> bytes:
        return (jsonio.dumps({"type": kind, "object": obj}, compact=True) + "\n").encode()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/{resource}", self._handle)
        app.router.add_get("/api/v1/namespaces/{namespace}/{resource}", self._handle)
        slices = "/apis/discovery.k8s.io/v1"
        app.router.add_get(slices + "/{resource:endpointslices}", self._handle)
        app.router.add_get(
            slices + "/namespaces/{namespace}/{resource:endpointslices}", self._handle
        )
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.requests.append((request.path, query))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.refused += 1
            return web.json_response(
                {"kind": "Status", "code": 401, "message": "Unauthorized"}, status=401
            )
        resource = request.match_info["resource"]
        if resource not in NAMESPACED or (resource == "endpointslices") != (
            "/apis/" in request.path
        ):
            return web.json_response({"kind": "Status", "code": 404}, status=404)
        namespace = request.match_info.get("namespace")
        if query.get("watch") in ("1", "true"):
            return await self._watch(request, resource, namespace, query)
        items = [
            o
            for o in self.objects[resource].values()
            if self._in(namespace, o) and self._selected(o, query)
        ]
        start = int(query.get("continue") or 0)
        limit = int(query.get("limit") or 0) or len(items) or 1
        page = items[start : start + limit]
        meta: Obj = {"resourceVersion": str(self.version)}
        if start + limit < len(items):
            meta["continue"] = str(start + limit)
        return web.json_response({"kind": "List", "metadata": meta, "items": page})

    @staticmethod
    def _selected(obj: Obj, query: Mapping[str, str]) -> bool:
        labels = obj["metadata"].get("labels") or {}
        return _labels_match(query.get("labelSelector", ""), labels) and _fields_match(
            query.get("fieldSelector", ""), obj
        )

    async def _watch(
        self, request: web.Request, resource: str, namespace: str | None, query: Mapping[str, str]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        since = int(query.get("resourceVersion") or self.version)
        if since < self.oldest:
            gone = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}
            await response.write(self._line("ERROR", gone))
            await response.write_eof()
            return response
        watch = _Watch(resource, namespace, request)
        for version, r, kind, obj in self.history:
            if version > since and r == resource and self._in(namespace, obj):
                watch.queue.put_nowait(self._line(kind, obj))
        self.watches.append(watch)
        try:
            while (line := await watch.queue.get()) is not None:
                await response.write(line)
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if watch in self.watches:
                self.watches.remove(watch)
        return response


@asynccontextmanager
async def running_standin(
    token: str = TOKEN, tls: ssl.SSLContext | None = None
) -> AsyncIterator[KubeStandin]:
    """The stand-in on a loopback port, over https when given a server TLS context."""
    standin = KubeStandin(token)
    runner = web.AppRunner(standin.app(), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    standin.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    standin.url = f"{'https' if tls else 'http'}://127.0.0.1:{standin.port}"
    try:
        yield standin
    finally:
        for watch in standin.watches:
            watch.queue.put_nowait(None)
        await runner.cleanup()


# --- objects as the API writes them --------------------------------------------------------


def pod(
    name: str,
    *,
    namespace: str = "shop",
    ip: str = "10.1.0.5",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    containers: list[Obj] | None = None,
    node: str = "node-a",
    ready: str = "True",
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "labels": dict(labels or {}),
            "annotations": dict(annotations or {}),
        },
        "spec": {
            "nodeName": node,
            "containers": containers
            if containers is not None
            else [
                {
                    "name": "app",
                    "image": "shop:1",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                }
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "hostIP": "192.168.1.10",
            "conditions": [{"type": "Ready", "status": ready}],
        },
    }

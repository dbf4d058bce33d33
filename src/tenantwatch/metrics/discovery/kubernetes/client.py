"""The few Kubernetes API calls discovery needs, over aiohttp: list (paged) and watch
(`?watch=1&resourceVersion=...`, one JSON event per line).

The official `kubernetes` client would bring a large generated package and its own threads
for four read-only endpoints; these calls are all Prometheus' informers make.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from tenantwatch import jsonio
from tenantwatch.metrics.discovery.kubernetes.connection import Connection

Obj = Mapping[str, Any]
PAGE_SIZE = 500
MAX_EVENT_BYTES = 16 << 20

# resource -> (the role its selectors name, whether it lives in namespaces, its API)
RESOURCES = {
    "pods": ("pod", True, "/api/v1"),
    "services": ("service", True, "/api/v1"),
    "endpoints": ("endpoints", True, "/api/v1"),
    "endpointslices": ("endpointslice", True, "/apis/discovery.k8s.io/v1"),
    "nodes": ("node", False, "/api/v1"),
}


class Gone(Exception):
    """410 Gone: the resourceVersion is too old to watch from; list again."""


class ApiError(Exception):
    """The API answered with an error other than 410."""


@dataclass(frozen=True, slots=True)
class Query:
    """What to list or watch: a resource, in one namespace or all, with selectors."""

    resource: str
    namespace: str | None = None
    label_selector: str = ""
    field_selector: str = ""

    def path(self) -> str:
        _, namespaced, api = RESOURCES[self.resource]
        if self.namespace is not None and namespaced:
            return f"{api}/namespaces/{quote(self.namespace, safe='')}/{self.resource}"
        return f"{api}/{self.resource}"

    def params(self) -> dict[str, str]:
        out = {}
        if self.label_selector:
            out["labelSelector"] = self.label_selector
        if self.field_selector:
            out["fieldSelector"] = self.field_selector
        return out


class KubeClient:
    def __init__(
        self, connection: Connection, session: aiohttp.ClientSession, list_timeout: float = 60.0
    ) -> None:
        self.connection = connection
        self.session = session
        self.list_timeout = list_timeout

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "tenantwatch-kubernetes-sd"}
        authorization = self.connection.authorization()
        if authorization is not None:
            headers["Authorization"] = authorization
        return headers

    async def list(self, query: Query) -> tuple[list[Obj], str]:
        """Every object (page by page) and the list's resourceVersion to watch from.
        Raise Gone, ApiError or aiohttp's errors."""
        items: list[Obj] = []
        token = ""
        while True:
            params = {**query.params(), "limit": str(PAGE_SIZE)}
            if token:
                params["continue"] = token
            async with self.session.get(
                self.connection.base_url + query.path(),
                params=params,
                headers=self._headers(),
                ssl=self.connection.ssl(),
                timeout=aiohttp.ClientTimeout(total=self.list_timeout),
            ) as response:
                await _raise_for(response)
                body = jsonio.loads(await response.read())
            items.extend(body.get("items") or [])
            meta = body.get("metadata") or {}
            token = meta.get("continue") or ""
            if not token:
                return items, str(meta.get("resourceVersion", ""))

    async def watch(
        self, query: Query, resource_version: str, timeout_seconds: int = 300
    ) -> AsyncIterator[tuple[str, Obj]]:
        """(type, object) events from resource_version on, until the server ends the
        stream. Raise Gone when the version is too old, ApiError or aiohttp's errors
        (a broken stream among them)."""
        params = {
            **query.params(),
            "watch": "1",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
        }
        async with self.session.get(
            self.connection.base_url + query.path(),
            params=params,
            headers=self._headers(),
            ssl=self.connection.ssl(),
            timeout=aiohttp.ClientTimeout(total=None, sock_read=timeout_seconds + 30),
        ) as response:
            await _raise_for(response)
            pending = b""
            async for chunk in response.content.iter_any():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                if len(pending) > MAX_EVENT_BYTES:
                    raise ApiError(f"a watch event is larger than {MAX_EVENT_BYTES} bytes")
                for line in lines:
                    if line.strip():
                        yield _event(line)
            if pending.strip():
                yield _event(pending)


def _event(line: bytes) -> tuple[str, Obj]:
    try:
        event = jsonio.loads(line)
    except ValueError as exc:
        raise ApiError(f"a watch event is not JSON: {exc}") from None
    kind, obj = str(event.get("type", "")), event.get("object") or {}
    if kind == "ERROR":
        if obj.get("code") == 410:
            raise Gone(str(obj.get("message", "resource version too old")))
        raise ApiError(f"watch error: {obj.get('message', obj)}")
    return kind, obj


async def _raise_for(response: aiohttp.ClientResponse) -> None:
    if response.status == 200:
        return
    text = (await response.content.read(2048)).decode("utf-8", "replace")
    if response.status == 410:
        raise Gone(text)
    raise ApiError(f"{response.method} {response.url.path}: HTTP {response.status}: {text}")

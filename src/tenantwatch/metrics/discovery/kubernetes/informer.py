"""One resource kept in step with the API: list, then watch from the list's version; list
again after 410 Gone or a broken stream, watch again when the server ends a stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import structlog

from tenantwatch.metrics.discovery.kubernetes.client import ApiError, Gone, KubeClient, Obj, Query
from tenantwatch.metrics.discovery.kubernetes.labels import object_key
from tenantwatch.metrics.http_auth import CredentialsError

log = structlog.get_logger(__name__)

OnChange = Callable[[str, str, Obj | None], None]
"""(resource, key, the object now or None when deleted)"""


class Informer:
    def __init__(
        self,
        client: KubeClient,
        query: Query,
        on_change: OnChange,
        *,
        retry_delay: float = 1.0,
        max_retry_delay: float = 30.0,
        watch_timeout: int = 300,
    ) -> None:
        self.client = client
        self.query = query
        self.on_change = on_change
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.watch_timeout = watch_timeout
        self.store: dict[str, Obj] = {}
        self.lists = 0  # how many times it listed: tests see a re-list

    async def run(self) -> None:
        delay = self.retry_delay
        while True:
            try:
                version = await self._list()
                delay = self.retry_delay
                while True:
                    version = await self._watch(version)
            except Gone:
                log.info("kubernetes_watch_gone", resource=self.query.resource)
                continue
            except (aiohttp.ClientError, TimeoutError, ApiError, CredentialsError) as exc:
                log.warning("kubernetes_watch_failed", resource=self.query.resource, error=str(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry_delay)

    async def _list(self) -> str:
        items, version = await self.client.list(self.query)
        self.lists += 1
        fresh = {object_key(item): item for item in items}
        for key in [k for k in self.store if k not in fresh]:
            del self.store[key]
            self.on_change(self.query.resource, key, None)
        for key, item in fresh.items():
            if self.store.get(key) != item:
                self.store[key] = item
                self.on_change(self.query.resource, key, item)
        return version

    async def _watch(self, version: str) -> str:
        async for kind, obj in self.client.watch(self.query, version, self.watch_timeout):
            version = str((obj.get("metadata") or {}).get("resourceVersion", version))
            if kind == "BOOKMARK":
                continue
            key = object_key(obj)
            if kind == "DELETED":
                if self.store.pop(key, None) is not None:
                    self.on_change(self.query.resource, key, None)
            elif kind in ("ADDED", "MODIFIED"):
                self.store[key] = obj
                self.on_change(self.query.resource, key, obj)
        return version

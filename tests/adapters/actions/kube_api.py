"""A loopback stand-in for the Kubernetes API: just a deployment and its scale subresource.

It answers GET and PATCH on /apis/apps/v1/namespaces/{ns}/deployments/{name} and .../scale,
applies merge patches to what it holds, and records every request as sent."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BASE = "/apis/apps/v1/namespaces/{ns}/deployments/{name}"


@dataclass
class Seen:
    method: str
    path: str
    content_type: str
    authorization: str
    body: Any


@dataclass
class KubeApi:
    port: int = 0
    replicas: dict[tuple[str, str], int] = field(default_factory=dict)
    annotations: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    fail_with: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _deployment(self, ns: str, name: str) -> dict[str, Any]:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "replicas": self.replicas[(ns, name)],
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {
                        "labels": {"app": name},
                        "annotations": self.annotations.get((ns, name), {}),
                    },
                    "spec": {"containers": [{"name": name, "image": f"{name}:1"}]},
                },
            },
        }

    def _scale(self, ns: str, name: str) -> dict[str, Any]:
        n = self.replicas[(ns, name)]
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": n},
            "status": {"replicas": n, "selector": f"app={name}"},
        }

    async def handle(self, request: web.Request) -> web.Response:
        ns, name = request.match_info["ns"], request.match_info["name"]
        raw = await request.read()
        self.requests.append(
            Seen(
                request.method,
                request.path,
                request.headers.get("Content-Type", ""),
                request.headers.get("Authorization", ""),
                json.loads(raw) if raw else None,
            )
        )
        if self.fail_with is not None:
            body = {
                "kind": "Status",
                "status": "Failure",
                "message": "forbidden",
                "code": self.fail_with,
            }
            return web.json_response(body, status=self.fail_with)
        if (ns, name) not in self.replicas:
            return web.json_response({"kind": "Status", "code": 404}, status=404)
        scale = request.path.endswith("/scale")
        if request.method == "PATCH":
            patch = json.loads(raw)
            if scale:
                self.replicas[(ns, name)] = patch["spec"]["replicas"]
            else:
                meta = patch["spec"]["template"]["metadata"]["annotations"]
                self.annotations.setdefault((ns, name), {}).update(meta)
        return web.json_response(self._scale(ns, name) if scale else self._deployment(ns, name))


@contextlib.asynccontextmanager
async def running_kube_api() -> AsyncIterator[KubeApi]:
    api = KubeApi()
    app = web.Application()
    for path in (BASE, BASE + "/scale"):
        app.router.add_route("GET", path, api.handle)
        app.router.add_route("PATCH", path, api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    api.port = runner.addresses[0][1]
    try:
        yield api
    finally:
        await runner.cleanup()

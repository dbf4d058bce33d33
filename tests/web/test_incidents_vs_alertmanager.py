"""A real Alertmanager (Debian's package) sends its webhook to tenantwatch: its firing
alerts across two tenants open one incident, and its resolved notification resolves it."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import Role, Runtime, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.am_binary import alertmanager
from tests.live_server import live_app


async def _bootstrap(rt: Runtime) -> str:
    await prepare(rt)
    for tenant in ("alpha", "bravo"):
        await rt.tenants.create(SYSTEM, TenantInput(id=tenant, name=tenant, tier="enterprise"))
    key = await rt.api_keys.issue(SYSTEM, name="am", scopes=[Scope.READ, Scope.WRITE])
    await rt.stop()
    return key.secret


def _request(url: str, *, key: str | None = None, body: object = None) -> object:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        raw = resp.read()
    return json.loads(raw) if raw else None


def _wait(what: str, check: object, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()  # type: ignore[operator]
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_alertmanagers_webhook_opens_and_resolves_an_incident(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir, log_level="warning")
    key = asyncio.run(_bootstrap(build_runtime(settings, Config())))
    rt = build_runtime(settings, Config())
    with live_app(create_app(settings, rt, roles={Role.API})) as tw:
        config = f"""
route:
  receiver: tenantwatch
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tenantwatch
    webhook_configs:
      - url: {tw}/webhooks/alerts
        send_resolved: true
        http_config:
          authorization: {{credentials: {key}}}
"""
        with alertmanager(tmp_path / "am", config) as am:
            now = datetime.now(UTC).isoformat()
            alerts = [
                {
                    "labels": {"alertname": "DatabaseDown", "severity": "critical", "tenant": t},
                    "annotations": {"summary": "the shared database is down"},
                    "startsAt": now,
                }
                for t in ("alpha", "bravo")
            ]
            _request(f"{am}/api/v2/alerts", body=alerts)

            def active() -> list[dict[str, object]]:
                page = _request(f"{tw}/api/v1/incidents?status=active", key=key)
                items = page["items"]  # type: ignore[index]
                return [i for i in items if len(i["tenants"]) == 2]  # type: ignore[arg-type,index]

            [incident] = _wait("one incident with both tenants", active)  # type: ignore[misc]
            assert incident["severity"] == "P1"
            assert {a["source"] for a in incident["alerts"]} == {"webhook"}
            ended = [{**a, "endsAt": datetime.now(UTC).isoformat()} for a in alerts]
            _request(f"{am}/api/v2/alerts", body=ended)

            def resolved() -> bool:
                got = _request(f"{tw}/api/v1/incidents/{incident['id']}", key=key)
                return got["status"] == "resolved"  # type: ignore[index]

            _wait("the incident resolved", resolved, timeout=60)

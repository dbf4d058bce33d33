"""The same alert sequence to a real Alertmanager 0.25 and to tenantwatch, same config:
the webhooks must receive the same notifications (grouping, order, content)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import yaml

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.gotext.times import format_rfc3339_nano
from tenantwatch.runtime.root import build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.am_binary import alertmanager, require_alertmanager
from tests.receivers import Receiver, running_receiver

CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['team=~"db|infra"']
      receiver: team
      group_by: ['...']
receivers:
  - name: default
    webhook_configs: [{url: "URL/default"}]
  - name: pager
    webhook_configs: [{url: "URL/pager", send_resolved: false}]
  - name: team
    webhook_configs: [{url: "URL/team"}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
"""


def _alert(start: str, end: str | None = None, **labels: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "labels": labels,
        "annotations": {"summary": f"{labels['alertname']} on {labels.get('instance', '')}"},
        "startsAt": start,
        "generatorURL": "http://prometheus/graph",
    }
    if end:
        body["endsAt"] = end
    return body


def _normal(receiver: Receiver) -> list[tuple[Any, ...]]:
    out = []
    for request, body in zip(receiver.requests, receiver.json_bodies(), strict=True):
        alerts = tuple(
            (
                tuple(sorted(a["labels"].items())),
                a["status"],
                a["startsAt"],
                a["endsAt"],
                a["fingerprint"],
                tuple(sorted(a["annotations"].items())),
            )
            for a in body["alerts"]
        )
        out.append(
            (
                request.path,
                body["groupKey"],
                body["receiver"],
                body["status"],
                tuple(sorted(body["groupLabels"].items())),
                tuple(sorted(body["commonLabels"].items())),
                tuple(sorted(body["commonAnnotations"].items())),
                body["version"],
                body["truncatedAlerts"],
                alerts,
            )
        )
    # order per group as received; groups interleave by timing, so compare per group
    return sorted(out, key=lambda n: (n[0], n[1]))


async def test_same_notifications_as_alertmanager(tmp_path: Path) -> None:
    require_alertmanager()
    async with running_receiver() as theirs, running_receiver() as ours:
        with alertmanager(tmp_path / "am", CONFIG.replace("URL", theirs.url)) as am_url:
            settings = Settings(
                database_url=f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}",
                data_dir=tmp_path / "var",
            )
            config = Config.model_validate(
                {
                    "alertmanager": {
                        "config": yaml.safe_load(CONFIG.replace("URL", ours.url)),
                        "allow_private_targets": ["127.0.0.1/32"],
                    }
                }
            )
            rt = build_runtime(settings, config)
            await prepare(rt)
            await rt.start_alerting()
            key = (await rt.api_keys.issue(SYSTEM, name="t", scopes=[Scope.WRITE])).secret
            app = create_app(settings, runtime=rt)
            tw = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://tw.test",
                headers={"Authorization": f"Bearer {key}"},
            )
            session = aiohttp.ClientSession()

            async def send(alerts: list[dict[str, Any]]) -> None:
                async with session.post(am_url + "/api/v2/alerts", json=alerts) as resp:
                    assert resp.status == 200, await resp.text()
                answer = await tw.post("/api/v2/alerts", json=alerts)
                assert answer.status_code == 200, answer.text

            try:
                t0 = format_rfc3339_nano(round(time.time() - 10))
                started = time.monotonic()

                async def at(offset: float) -> None:
                    await asyncio.sleep(max(0.0, started + offset - time.monotonic()))

                a1 = {"alertname": "HighLatency", "severity": "warning", "instance": "a"}
                a2 = {"alertname": "HighLatency", "severity": "critical", "instance": "b"}
                a3 = {"alertname": "DiskFull", "team": "db", "instance": "c"}
                a4 = {"alertname": "HighLatency", "severity": "warning", "instance": "d"}
                a5 = {"alertname": "Errors", "instance": "e"}
                await send([_alert(t0, **a1), _alert(t0, **a2), _alert(t0, **a3)])
                await at(0.5)
                await send([_alert(t0, **a4), _alert(t0, **a5)])
                # flushes at about 1 s, 4 s and 7 s (1.5 s, 4.5 s for the group that
                # starts at 0.5 s); each change lands 1.5 s from a flush, so a loaded
                # machine does not move it to another notification
                await at(2.5)
                ended = format_rfc3339_nano(round(time.time(), 3))
                await send([_alert(t0, ended, **a2)])
                await at(5.5)
                ended3 = format_rfc3339_nano(round(time.time(), 3))
                await send([_alert(t0, ended3, **a3)])
                await at(9.5)
            finally:
                await session.close()
                await tw.aclose()
                await rt.stop()
    expected = _normal(theirs)
    got = _normal(ours)
    # firing to default (after the critical alert resolved and stopped inhibiting), to
    # pager (no resolution: send_resolved false), and team firing then resolved
    assert len(expected) == 5, "\n".join(map(str, expected))
    assert got == expected

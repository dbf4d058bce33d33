"""The same webhook behind a redirect chain, sent by a real Alertmanager 0.25 and by
tenantwatch: every hop must be asked for with the same method, and a body where
Alertmanager sends one; with `follow_redirects: false` the redirect is the last word."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

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
  receiver: chain
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1h
  repeat_interval: 1h
  routes:
    - matchers: ['alertname="Stopped"']
      receiver: stopped
receivers:
  - name: chain
    webhook_configs: [{url: "URL/a"}]
  - name: stopped
    webhook_configs: [{url: "URL/stop", http_config: {follow_redirects: false}}]
"""
HOPS = {
    "/a": (307, {"Location": "/b"}),
    "/b": (302, {"Location": "/c"}),
    "/c": (308, {"Location": "/d"}),
    "/stop": (307, {"Location": "/never"}),
}


def _seen(receiver: Receiver) -> list[tuple[str, str, bool]]:
    return sorted((r.method, r.path, bool(r.body)) for r in receiver.requests)


async def test_redirect_chains_are_followed_as_alertmanager_follows_them(tmp_path: Path) -> None:
    require_alertmanager()
    async with running_receiver() as theirs, running_receiver() as ours:
        theirs.routes, ours.routes = dict(HOPS), dict(HOPS)
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
            tw = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(settings, runtime=rt)),
                base_url="http://tw.test",
                headers={"Authorization": f"Bearer {key}"},
            )
            start = format_rfc3339_nano(round(time.time() - 10))
            alerts = [
                {"labels": {"alertname": name}, "startsAt": start}
                for name in ("Chained", "Stopped")
            ]
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(am_url + "/api/v2/alerts", json=alerts) as resp,
                ):
                    assert resp.status == 200, await resp.text()
                answer = await tw.post("/api/v2/alerts", json=alerts)
                assert answer.status_code == 200, answer.text
                await theirs.wait_for(5, timeout=20)
                await ours.wait_for(5, timeout=20)
                await asyncio.sleep(1.5)  # nothing more comes: no retries of the 307
                log = {
                    n.receiver: (n.status, n.last_status_code, n.last_error)
                    for n in await rt.outbox.repo.list(before_id=None, limit=10)  # type: ignore[union-attr]
                }
            finally:
                await tw.aclose()
                await rt.stop()
    expected = [
        ("GET", "/c", False),
        ("GET", "/d", True),  # Go sends the first body again after a 308
        ("POST", "/a", True),
        ("POST", "/b", True),
        ("POST", "/stop", True),
    ]
    assert _seen(theirs) == expected
    assert _seen(ours) == expected
    assert log["chain"] == ("sent", 200, None)
    status, code, error = log["stopped"]
    assert (status, code) == ("dead", 307)
    assert error is not None and "follow_redirects is false" in error

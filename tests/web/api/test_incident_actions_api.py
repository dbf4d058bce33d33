"""Configured actions run when an alert opens an incident: a dry run only says what it
would do, a real webhook reaches its (loopback) receiver, and both land in the timeline."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import Scope
from tenantwatch.runtime.root import Runtime
from tests.conftest import KeyMaker
from tests.receivers import Receiver, running_receiver
from tests.support import bearer
from tests.web.api.test_incidents_api import am_message


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as r:
        yield r


@pytest.fixture
def runtime_config(receiver: Receiver) -> Config:
    return Config.model_validate(
        {
            "incidents": {
                "allow_private_targets": ["127.0.0.1/32"],
                "actions": [
                    {
                        "name": "scale-db",
                        "kind": "webhook",
                        "matchers": {"severities": ["P1"]},
                        "params": {"url": "http://127.0.0.1:9/never-called"},
                        "dry_run": True,
                    },
                    {
                        "name": "page-dba",
                        "kind": "webhook",
                        "matchers": {"labels": {"alertname": "DatabaseDown"}},
                        "params": {"url": receiver.url},
                        "per_tenant": False,
                        "cooldown": "1h",
                    },
                ],
            }
        }
    )


async def test_an_alert_runs_the_incidents_actions_and_the_timeline_says_how(
    runtime: Runtime,
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    two_tenants: tuple[str, str],
    receiver: Receiver,
) -> None:
    assert runtime.incident_responder is not None
    key = bearer(await make_key(Scope.READ, Scope.WRITE))
    r = await client.post("/webhooks/alerts", json=am_message("firing", "alpha"), headers=key)
    [inc] = r.json()["incidents"]
    await runtime.incident_responder.drain()
    await receiver.wait_for(1)
    [called] = receiver.json_bodies()
    assert inc in str(called)  # the payload names the incident
    # bravo joins the same incident: the dry run runs for bravo, the incident-wide
    # webhook is in its cooldown
    await client.post("/webhooks/alerts", json=am_message("firing", "bravo"), headers=key)
    await runtime.incident_responder.drain()
    entries = (await client.get(f"/api/v1/incidents/{inc}/timeline", headers=key)).json()["entries"]
    actions = [
        (e["data"]["action"], e["data"].get("tenant"), e["data"]["status"])
        for e in entries
        if e["kind"] == "action"
    ]
    assert ("scale-db", "alpha", "dry_run") in actions
    assert ("scale-db", "bravo", "dry_run") in actions
    assert ("page-dba", None, "done") in actions
    assert any(a == "page-dba" and s == "skipped" for a, _, s in actions)
    assert len(receiver.json_bodies()) == 1  # the cooldown held; the dry run sent nothing

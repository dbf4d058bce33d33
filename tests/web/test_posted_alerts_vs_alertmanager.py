"""POST /api/v2/alerts with invalid alerts: the same bodies to a real Alertmanager 0.25 and
to tenantwatch must get the same status, the same message and keep the same alerts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.am_binary import alertmanager, require_alertmanager

AM_CONFIG = """
route:
  receiver: hook
receivers:
  - name: hook
"""

# (case, body); labels without `alertname` are valid in Alertmanager 0.25, and labels with
# empty values count as absent
CASES: list[tuple[str, list[dict[str, Any]]]] = [
    ("no label pairs", [{"labels": {}}]),
    ("only an empty alertname", [{"labels": {"alertname": ""}}]),
    ("no alertname", [{"labels": {"severity": "page", "job": "api"}}]),
    ("an empty alertname beside a label", [{"labels": {"alertname": "", "job": "db"}}]),
    (
        "a valid alert beside one without labels",
        [{"labels": {"alertname": "Kept"}}, {"labels": {}}],
    ),
    (
        "two invalid alerts",
        [
            {"labels": {}},
            {
                "labels": {"alertname": "Backwards"},
                "startsAt": "2030-01-01T00:00:00Z",
                "endsAt": "2020-01-01T00:00:00Z",
            },
        ],
    ),
    ("an invalid label name", [{"labels": {"alertname": "X", "0bad": "v"}}]),
    ("an invalid annotation name", [{"labels": {"alertname": "Y"}, "annotations": {"0": "v"}}]),
    ("no labels and a bad annotation", [{"labels": {}, "annotations": {"0": "v"}}]),
    ("no labels field", [{"annotations": {"summary": "s"}}]),
    ("labels null after a valid alert", [{"labels": {"alertname": "Dropped"}}, {"labels": None}]),
    ("no labels field after empty labels", [{"labels": {}}, {}]),
    (
        "annotations and generatorURL null",
        [{"labels": {"a": "b"}, "annotations": None, "generatorURL": None}],
    ),
]


Answer = tuple[int, Any, list[str]]


async def answers(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Answer]:
    """Each case's status, JSON body (None when empty) and the label sets then listed."""
    out: list[Answer] = []
    for _case, body in CASES:
        answer = await client.post("/api/v2/alerts", json=body, headers=headers)
        stored = (await client.get("/api/v2/alerts", headers=headers)).json()
        content = answer.json() if answer.content else None
        out.append((answer.status_code, content, _label_sets(stored)))
        if stored:  # resolve what the case stored, so the next one starts from nothing
            ended = [{"labels": a["labels"], "endsAt": "2000-01-01T00:00:00Z"} for a in stored]
            resolved = await client.post("/api/v2/alerts", json=ended, headers=headers)
            assert resolved.status_code == 200
    return out


def _label_sets(alerts: list[dict[str, Any]]) -> list[Any]:
    return sorted(json.dumps(a["labels"], sort_keys=True) for a in alerts)


@pytest.fixture
async def tenantwatch(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    config = Config.model_validate(
        {
            "alertmanager": {
                "config": {"route": {"receiver": "hook"}, "receivers": [{"name": "hook"}]}
            }
        }
    )
    rt = build_runtime(settings, config)
    await prepare(rt)
    await rt.tenants.create(SYSTEM, TenantInput(id="alpha", name="alpha", tier="basic"))
    await rt.start_alerting()
    try:
        transport = httpx.ASGITransport(app=create_app(settings, runtime=rt))
        async with httpx.AsyncClient(transport=transport, base_url="http://tw.test") as client:
            admin = await rt.api_keys.issue(SYSTEM, name="a", scopes=[Scope.ADMIN])
            tenant = await rt.api_keys.issue(
                SYSTEM, name="t", scopes=[Scope.WRITE, Scope.READ], tenant_id="alpha"
            )
            yield client, admin.secret, tenant.secret
    finally:
        await rt.stop()


async def test_invalid_alerts_get_alertmanagers_answer(
    tmp_path: Path, tenantwatch: tuple[httpx.AsyncClient, str, str]
) -> None:
    require_alertmanager()
    with alertmanager(tmp_path / "am", AM_CONFIG) as am_url:
        async with httpx.AsyncClient(base_url=am_url, timeout=10) as client:
            expected = await answers(client, {})
    client, admin, _tenant = tenantwatch
    got = await answers(client, {"Authorization": f"Bearer {admin}"})
    for (case, _body), mine, theirs in zip(CASES, got, expected, strict=True):
        assert mine == theirs, case


async def test_a_tenant_key_gets_the_same_answers_its_tenant_label_aside(
    tmp_path: Path, tenantwatch: tuple[httpx.AsyncClient, str, str]
) -> None:
    require_alertmanager()
    with alertmanager(tmp_path / "am", AM_CONFIG) as am_url:
        async with httpx.AsyncClient(base_url=am_url, timeout=10) as client:
            expected = await answers(client, {})
    client, _admin, tenant = tenantwatch
    got = await answers(client, {"Authorization": f"Bearer {tenant}"})
    for (case, _body), mine, theirs in zip(CASES, got, expected, strict=True):
        status, body, listed = mine
        untagged = [
            json.dumps({k: v for k, v in json.loads(x).items() if k != "tenant"}, sort_keys=True)
            for x in listed
        ]
        assert (status, body, untagged) == theirs, case

"""POST /api/v2/alerts takes at most http.max_alerts_per_request alerts a request."""

from __future__ import annotations

import json

import httpx

from tenantwatch.domain.apikeys import Scope
from tests.conftest import KeyMaker
from tests.support import bearer


async def test_a_batch_over_the_alert_limit_is_a_413_before_it_is_parsed(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = bearer(await make_key(Scope.WRITE))
    body = json.dumps([{"labels": {"alertname": "x"}}] * 5001)
    r = await client.post(
        "/api/v2/alerts", content=body, headers={**key, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json().startswith("the batch holds more than 5000 alerts")


async def test_labels_keys_written_escaped_are_counted_after_parsing(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = bearer(await make_key(Scope.WRITE))
    body = "[" + ",".join(['{"\\u006cabels": {"alertname": "x"}}'] * 5001) + "]"
    assert body.count('"labels"') == 0
    r = await client.post(
        "/api/v2/alerts", content=body, headers={**key, "Content-Type": "application/json"}
    )
    assert r.status_code == 413

from __future__ import annotations

import json

import httpx
import pytest

from tenantwatch.domain.apikeys import Scope
from tenantwatch.logs import configure_logging
from tests.conftest import KeyMaker
from tests.support import bearer


def _request_lines(err: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


async def test_each_request_logs_one_json_line_with_request_id_tenant_and_route(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    two_tenants: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = await make_key(Scope.READ, tenant=two_tenants[0])
    configure_logging("info", "json")
    r = await client.get(
        f"/api/v1/tenants/{two_tenants[0]}",
        headers={**bearer(key), "X-Request-ID": "abc-123"},
    )
    assert r.headers["x-request-id"] == "abc-123"
    (line,) = _request_lines(capsys.readouterr().err)
    assert line["request_id"] == "abc-123"
    assert line["tenant"] == two_tenants[0]
    assert line["route"] == "/api/v1/tenants/{tenant_id}"
    assert line["status"] == 200 and line["method"] == "GET"
    assert str(line["actor"]).startswith("apikey:k_")
    assert key not in json.dumps(line)


async def test_an_unsafe_request_id_is_replaced(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("info", "json")
    r = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    generated = r.headers["x-request-id"]
    assert generated != "bad id\twith spaces" and len(generated) == 32
    (line,) = _request_lines(capsys.readouterr().err)
    assert line["request_id"] == generated


async def test_an_unbound_key_logs_the_tenant_it_addresses(
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    two_tenants: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = await make_key(Scope.ADMIN)
    configure_logging("info", "json")
    await client.get(f"/api/v1/tenants/{two_tenants[1]}", headers=bearer(key))
    (line,) = _request_lines(capsys.readouterr().err)
    assert line["tenant"] == two_tenants[1]

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tenantwatch import __version__
from tenantwatch.config.model import Config
from tenantwatch.runtime.root import build_runtime
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app


async def test_health_answers_status_version_and_timestamp(client: httpx.AsyncClient) -> None:
    body = (await client.get("/health")).json()
    assert body["status"] == "healthy" and body["version"] == __version__
    assert body["timestamp"].endswith("Z") or "+00:00" in body["timestamp"]
    assert (await client.get("/health/live")).status_code == 200


async def test_ready_and_detailed_report_the_database(client: httpx.AsyncClient) -> None:
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "healthy"}}
    detailed = (await client.get("/health/detailed")).json()
    assert detailed["status"] == "healthy"
    assert detailed["services"] == {"database": "healthy"}
    assert detailed["details"]["database"]["latency_ms"] >= 0


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app on these settings, without running its startup (no migrations)."""
    rt = build_runtime(settings, Config())
    app = create_app(settings, runtime=rt)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tw.test"
        ) as c:
            yield c
    finally:
        await rt.stop()


@pytest.fixture
async def unreachable_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose PostgreSQL does not exist (nothing listens on port 1)."""
    url = "postgresql+asyncpg://nobody:secret-pw@127.0.0.1:1/none"
    async with client_for(Settings(database_url=url, data_dir=tmp_path)) as c:
        yield c


async def test_ready_is_503_when_the_database_is_down(
    unreachable_client: httpx.AsyncClient,
) -> None:
    r = await unreachable_client.get("/health/ready")
    assert r.status_code == 503
    assert r.json()["checks"] == {"database": "unhealthy"}
    detailed = await unreachable_client.get("/health/detailed")
    assert detailed.status_code == 503
    body = detailed.json()
    assert body["status"] == "unhealthy" and body["services"]["database"] == "unhealthy"
    assert body["details"]["database"]["error"]
    assert "secret-pw" not in detailed.text
    assert (await unreachable_client.get("/health")).status_code == 200  # the process is alive


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/tenants/alpha")  # 401, but still counted under its template
    await client.get("/no/such/route")
    text = (await client.get("/metrics")).text
    assert (
        'tenantwatch_http_requests_total{method="GET",route="/api/v1/tenants/{tenant_id}",status="401"} 1.0'
        in text
    )
    assert 'route="<unmatched>",status="404"' in text
    assert "tenantwatch_http_request_duration_seconds_bucket" in text
    assert 'tenantwatch_build_info{version="' in text
    assert "tenantwatch_db_pool_" in text


async def test_metrics_can_require_a_key(tmp_path: Path) -> None:
    async with client_for(Settings(data_dir=tmp_path, metrics_public=False)) as c:
        assert (await c.get("/metrics")).status_code == 401

"""The privilege escalation through a postgres check, end to end on PostgreSQL.

A tenant's `monitoring:write` key once created a postgres check aimed at tenantwatch's
own database, ran `UPDATE api_keys SET tenant_id = NULL` and became a platform admin key,
and read another tenant's rows through the value a run returned. Now the check is refused
at creation unless the operator lists the database host, and even when it is listed the
query runs read-only and its value and the server's messages are never shown.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tenantwatch.config.model import CheckRunnerConfig, Config
from tenantwatch.domain.apikeys import Scope
from tenantwatch.runtime.root import Runtime
from tests.conftest import KeyMaker
from tests.support import bearer

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

ESCALATE = "UPDATE api_keys SET tenant_id = NULL WHERE tenant_id = 'alpha' RETURNING 1"


def _own_database(runtime: Runtime) -> str:
    return runtime.settings.effective_database_url.replace("+asyncpg", "")


async def _key_tenants(runtime: Runtime) -> list[Any]:
    conn = await runtime.engine.connect()
    try:
        rows = (await conn.execute(text("SELECT tenant_id FROM api_keys ORDER BY id"))).all()
    finally:
        await conn.close()
    return sorted((r[0] for r in rows), key=str)


async def _still_tenant_bound(client: httpx.AsyncClient, key: dict[str, str]) -> None:
    assert (await client.get("/api/v1/tenants/bravo", headers=key)).status_code == 404
    listed = (await client.get("/api/v1/tenants", headers=key)).json()["items"]
    assert [t["id"] for t in listed] == ["alpha"]


async def test_a_tenant_key_cannot_aim_a_postgres_check_at_tenantwatchs_database(
    client: httpx.AsyncClient, runtime: Runtime, make_key: KeyMaker, two_tenants: Any
) -> None:
    alpha = bearer(await make_key(Scope.WRITE, tenant="alpha"))
    before = await _key_tenants(runtime)
    body = {
        "id": "alpha.db",
        "tenant": "alpha",
        "kind": "postgres",
        "dsn": _own_database(runtime),
        "query": ESCALATE,
    }
    answer = await client.post("/api/v1/checks", json=body, headers=alpha)
    if answer.status_code == 201:  # what used to happen: the check ran the UPDATE
        await client.post("/api/v1/checks/alpha.db/run", headers=alpha)
    assert await _key_tenants(runtime) == before
    await _still_tenant_bound(client, alpha)
    assert answer.status_code == 422, answer.text
    assert "check_runner.allow_private_targets" in answer.text


class TestWhenTheOperatorListsTheDatabaseHost:
    @pytest.fixture
    def runtime_config(self) -> Config:
        return Config(check_runner=CheckRunnerConfig(allow_private_targets=["127.0.0.1/32"]))

    async def test_the_query_runs_read_only_and_the_key_stays_tenant_bound(
        self, client: httpx.AsyncClient, runtime: Runtime, make_key: KeyMaker, two_tenants: Any
    ) -> None:
        alpha = bearer(await make_key(Scope.WRITE, tenant="alpha"))
        before = await _key_tenants(runtime)
        assert "alpha" in before
        body = {
            "id": "alpha.db",
            "tenant": "alpha",
            "kind": "postgres",
            "dsn": _own_database(runtime),
            "query": ESCALATE,
        }
        created = await client.post("/api/v1/checks", json=body, headers=alpha)
        assert created.status_code == 201, created.text
        run = await client.post("/api/v1/checks/alpha.db/run", headers=alpha)
        assert run.status_code == 200 and run.json()["ok"] is False
        assert "read-only" in run.json()["error"]
        assert await _key_tenants(runtime) == before
        await _still_tenant_bound(client, alpha)

    @pytest.mark.parametrize(
        ("query", "extra"),
        [
            ("SELECT name FROM tenants WHERE id = 'bravo'", {"expected": "x"}),
            ("SELECT name FROM tenants WHERE id = 'bravo'", {"conditions": ["[BODY] == x"]}),
            ("SELECT CAST(name AS integer) FROM tenants WHERE id = 'bravo'", {}),
            (
                "SELECT length(name) FROM tenants WHERE id = 'bravo'",
                {"conditions": ["[VALUE] < 0"]},
            ),
        ],
    )
    async def test_another_tenants_rows_do_not_come_back_in_results(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        make_key: KeyMaker,
        two_tenants: Any,
        query: str,
        extra: dict[str, Any],
    ) -> None:
        alpha = bearer(await make_key(Scope.WRITE, tenant="alpha"))
        body = {
            "id": "alpha.peek",
            "tenant": "alpha",
            "kind": "postgres",
            "dsn": _own_database(runtime),
            "query": query,
            **extra,
        }
        assert (await client.post("/api/v1/checks", json=body, headers=alpha)).status_code == 201
        run = await client.post("/api/v1/checks/alpha.peek/run", headers=alpha)
        history = await client.get("/api/v1/monitoring/health-checks/alpha", headers=alpha)
        for answer in (run, history):
            assert answer.status_code == 200
            assert "Bravo" not in answer.text  # the other tenant's name
            assert '"value"' not in answer.text
        assert "(5)" not in run.text  # len('Bravo') as [VALUE] would have shown it
        assert run.json()["ok"] is False

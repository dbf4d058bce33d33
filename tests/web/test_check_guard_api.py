"""/api/v1/checks behind the SSRF guard: a tenant's key cannot aim checks inside, nor give
settings that act on the server's files; allowed destinations run; bodies are not echoed.

Only loopback is ever connected to; private, link-local and metadata addresses are given
as IP literals, which the guard refuses on the decision alone (no traffic is sent).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tenantwatch.config.model import CheckRunnerConfig, Config
from tenantwatch.domain.apikeys import Scope
from tenantwatch.domain.checks import Check, CheckKind
from tenantwatch.runtime.root import Runtime
from tests.checks_support import http_target
from tests.conftest import KeyMaker
from tests.support import bearer


@pytest.fixture
async def alpha(make_key: KeyMaker, two_tenants: Any) -> dict[str, str]:
    return bearer(await make_key(Scope.WRITE, tenant="alpha"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "http", "url": "http://127.0.0.1:9/health"}, "url"),
        ({"kind": "http", "url": "http://localhost:9/health"}, "url"),
        ({"kind": "http", "url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ({"kind": "http", "url": "http://[fd00:ec2::254]/latest/meta-data/"}, "url"),
        ({"kind": "http", "url": "https://10.0.0.5/admin"}, "url"),
        ({"kind": "tcp", "host": "192.168.1.1", "port": 22}, "host"),
        ({"kind": "tls", "host": "172.16.0.1", "port": 443}, "host"),
        (
            {"kind": "dns", "query_name": "example.com", "nameserver": "169.254.169.253"},
            "nameserver",
        ),
        ({"kind": "postgres", "dsn": "postgresql://postgres@127.0.0.1:5432/tenantwatch"}, "dsn"),
        ({"kind": "redis", "url": "redis://127.0.0.1:6379/0"}, "url"),
    ],
)
async def test_a_tenant_key_cannot_aim_a_check_inside(
    client: httpx.AsyncClient, alpha: dict[str, str], body: dict[str, Any], field: str
) -> None:
    answer = await client.post("/api/v1/checks", json={"tenant": "alpha", **body}, headers=alpha)
    assert answer.status_code == 422, answer.text
    assert "check_runner.allow_private_targets" in answer.text
    assert answer.json()["detail"][0]["loc"][-1] == field
    assert (await client.get("/api/v1/checks", headers=alpha)).json()["items"] == []


async def test_replacing_a_check_passes_the_guard_too(
    client: httpx.AsyncClient, alpha: dict[str, str]
) -> None:
    body = {"id": "alpha.web", "tenant": "alpha", "kind": "http", "url": "https://example.com/"}
    assert (await client.post("/api/v1/checks", json=body, headers=alpha)).status_code == 201
    moved = {**body, "url": "http://169.254.169.254/latest/meta-data/iam/"}
    answer = await client.put("/api/v1/checks/alpha.web", json=moved, headers=alpha)
    assert answer.status_code == 422 and "internal address" in answer.text
    got = (await client.get("/api/v1/checks/alpha.web", headers=alpha)).json()
    assert got["settings"]["url"] == "https://example.com/"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kind": "http", "url": "https://example.com", "ca_file": "/etc/shadow"}, "'ca_file'"),
        ({"kind": "tls", "host": "example.com", "ca_file": "/root/ca.pem"}, "'ca_file'"),
        (
            {"kind": "postgres", "dsn": "postgresql://u@db.example/x?sslrootcert=/etc/shadow"},
            "'sslrootcert'",
        ),
        (
            {"kind": "postgres", "dsn": "postgresql://u@db.example/x?passfile=/root/.pgpass"},
            "'passfile'",
        ),
        ({"kind": "redis", "url": "rediss://cache.example/0?ssl_keyfile=/k.pem"}, "'ssl_keyfile'"),
        ({"kind": "python", "target": "os:getcwd"}, "python checks run code"),
    ],
)
async def test_settings_that_act_on_the_server_are_config_only(
    client: httpx.AsyncClient, alpha: dict[str, str], body: dict[str, Any], words: str
) -> None:
    answer = await client.post("/api/v1/checks", json={"tenant": "alpha", **body}, headers=alpha)
    assert answer.status_code == 403, answer.text
    assert words in answer.text and "tenantwatch.yml" in answer.text


class TestWithLoopbackAllowed:
    @pytest.fixture
    def runtime_config(self) -> Config:
        return Config(check_runner=CheckRunnerConfig(allow_private_targets=["127.0.0.1/32"]))

    async def test_a_listed_destination_is_created_and_runs(
        self, client: httpx.AsyncClient, alpha: dict[str, str]
    ) -> None:
        async with http_target() as target:
            target.body = b'{"status": "healthy", "token": "s3cr3t-internal-token"}'
            body = {
                "id": "alpha.api",
                "tenant": "alpha",
                "kind": "http",
                "url": target.url + "/health",
                "conditions": ["[STATUS] == 200", "[BODY] == pat(*down*)"],
            }
            created = await client.post("/api/v1/checks", json=body, headers=alpha)
            assert created.status_code == 201, created.text
            run = await client.post("/api/v1/checks/alpha.api/run", headers=alpha)
            assert run.status_code == 200 and target.hits == 1
            assert run.json()["status_code"] == 200
            assert "s3cr3t-internal-token" not in run.text
            assert "bytes, sha256" in run.json()["conditions"][1]["detail"]
            history = await client.get("/api/v1/checks/alpha.api/results", headers=alpha)
            assert "s3cr3t-internal-token" not in history.text
            other = await client.post(
                "/api/v1/checks",
                json={**body, "id": "alpha.other", "url": "http://127.0.0.2:9/"},
                headers=alpha,
            )
            assert other.status_code == 422 and "127.0.0.2" in other.text


async def test_checks_stored_before_the_guard_are_refused_when_run(
    client: httpx.AsyncClient, alpha: dict[str, str], runtime: Runtime
) -> None:
    """DNS answers and stored rows can change after creation: every run checks again."""
    async with http_target() as target:
        stored = Check(
            id="alpha.old",
            tenant_id="alpha",
            name="old",
            kind=CheckKind.HTTP,
            settings={"url": target.url + "/", "method": "GET"},
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
        async with runtime.ctx.uow() as uow:
            await uow.checks.insert(stored)
        run = await client.post("/api/v1/checks/alpha.old/run", headers=alpha)
        assert run.status_code == 200 and run.json()["ok"] is False
        assert "internal address" in run.json()["error"]
        seed = await client.post("/api/v1/monitoring/health-checks/alpha", headers=alpha)
        assert seed.status_code == 200
        assert "internal address" in seed.json()["violations"][0]
        assert target.hits == 0


async def test_a_host_that_is_no_valid_name_is_a_422_not_a_500(
    client: httpx.AsyncClient, alpha: dict[str, str]
) -> None:
    body = {"tenant": "alpha", "kind": "tcp", "host": "\u0080", "port": 1}
    answer = await client.post("/api/v1/checks", json=body, headers=alpha)
    assert answer.status_code == 422, answer.text
    assert "not a valid host name" in answer.text

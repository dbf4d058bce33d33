"""Shared fixtures: a fresh database on SQLite and on PostgreSQL, a prepared runtime, a client."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import Scope
from tenantwatch.runtime.root import Runtime, build_runtime, prepare
from tenantwatch.services.apikeys import IssuedKey
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app

PG_ADMIN_DSN = os.environ.get("TENANTWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ENGINES = ["sqlite", "postgresql"]


async def _pg_admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_ADMIN_DSN} is required when CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_DSN}: {exc}")


async def create_pg_database() -> str:
    """Create a uniquely named database and return its asyncpg SQLAlchemy URL."""
    name = f"tw_test_{uuid.uuid4().hex[:12]}"
    conn = await _pg_admin()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await _pg_admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=ENGINES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: SQLite in tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}"
        return
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "var")


@pytest.fixture
def runtime_config() -> Config:
    """The config the `runtime` fixture is built with; modules override it."""
    return Config()


@pytest.fixture
async def runtime(settings: Settings, runtime_config: Config) -> AsyncIterator[Runtime]:
    """A migrated database behind the wired services."""
    rt = build_runtime(settings, runtime_config)
    await prepare(rt)
    try:
        yield rt
    finally:
        await rt.stop()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime.settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tw.test") as c:
        yield c


KeyMaker = Callable[..., Awaitable[str]]


@pytest.fixture
def make_key(runtime: Runtime) -> KeyMaker:
    """Issue a key with the given scopes (optionally bound to a tenant); return its secret."""
    from tenantwatch.domain.apikeys import SYSTEM

    async def make(*scopes: Scope, tenant: str | None = None) -> str:
        issued: IssuedKey = await runtime.api_keys.issue(
            SYSTEM, name="test", scopes=list(scopes), tenant_id=tenant
        )
        return issued.secret

    return make


@pytest.fixture
async def two_tenants(runtime: Runtime) -> tuple[str, str]:
    """Tenant 'alpha' (enterprise) and the standing second tenant 'bravo' (basic)."""
    from tenantwatch.domain.apikeys import SYSTEM

    await runtime.tenants.create(SYSTEM, TenantInput(id="alpha", name="Alpha", tier="enterprise"))
    await runtime.tenants.create(SYSTEM, TenantInput(id="bravo", name="Bravo", tier="basic"))
    return "alpha", "bravo"

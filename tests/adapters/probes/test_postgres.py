"""The postgres probe against the PostgreSQL at 127.0.0.1:5432, a closed port and a mute server."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from tenantwatch.adapters.probes.postgres import PostgresConfig, probe_postgres, redact_dsn
from tests.support import free_port

PG_DSN = os.environ.get("TENANTWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SERVER = PG_DSN.split("@", 1)[1].split("/", 1)[0]


@pytest.fixture
async def pg_dsn() -> str:
    try:
        conn = await asyncpg.connect(PG_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_DSN} is required when CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_DSN}: {exc}")
    await conn.close()
    return PG_DSN


async def test_it_runs_select_1_and_reports_connection_usage(pg_dsn: str) -> None:
    result = await probe_postgres(PostgresConfig(pg_dsn, timeout_s=5.0))
    assert result.ok, result.error
    assert result.connected
    assert result.body == b"1"
    details = result.details
    assert details["value"] == "1"
    assert details["max_connections"] >= 1
    assert 1 <= details["connections_in_use"] <= details["max_connections"]
    assert details["connections_used_ratio"] == pytest.approx(
        details["connections_in_use"] / details["max_connections"]
    )
    assert details["server_version"][0].isdigit()
    assert set(result.phases) == {"connect", "processing"}


async def test_it_passes_when_the_query_returns_the_expected_value(pg_dsn: str) -> None:
    cfg = PostgresConfig(pg_dsn, query="SELECT current_database() = 'test'", expected="true")
    result = await probe_postgres(cfg)
    assert result.ok, result.error
    assert result.details["value"] == "true"


async def test_it_fails_when_the_query_returns_something_else(pg_dsn: str) -> None:
    cfg = PostgresConfig(pg_dsn, query="SELECT 41 + 1", expected="43")
    result = await probe_postgres(cfg)
    assert not result.ok
    assert result.connected
    assert result.error == "query returned '42', expected '43'"


async def test_it_reports_a_broken_query(pg_dsn: str) -> None:
    result = await probe_postgres(PostgresConfig(pg_dsn, query="SELEC 1"))
    assert not result.ok
    assert result.connected
    assert result.error is not None
    assert result.error.startswith("query failed: syntax error")


async def test_it_keeps_the_password_out_of_an_unknown_database_error(pg_dsn: str) -> None:
    # The password is also part of the database name, so the server's message quotes it.
    dsn = f"postgresql://postgres:Hunter2pw@{SERVER}/Hunter2pw_missing"
    cfg = PostgresConfig(dsn, timeout_s=5.0)
    result = await probe_postgres(cfg)
    assert not result.ok
    assert not result.connected
    assert result.error == 'connection rejected: database "***_missing" does not exist'
    everything = f"{result.error} {result.details} {cfg!r}"
    assert "Hunter2pw" not in everything
    assert result.details["dsn"] == f"postgresql://postgres:***@{SERVER}/***_missing"


async def test_it_keeps_the_password_out_of_an_unknown_role_error(pg_dsn: str) -> None:
    dsn = f"postgresql://nobody_tw:Wr0ng-pass@{SERVER}/test"
    result = await probe_postgres(PostgresConfig(dsn, timeout_s=5.0))
    assert not result.ok
    assert result.error is not None
    assert 'role "nobody_tw" does not exist' in result.error
    assert "Wr0ng-pass" not in f"{result.error} {result.details}"


async def test_it_reports_a_closed_port_as_refused() -> None:
    dsn = f"postgresql://postgres:pw@127.0.0.1:{free_port()}/test"
    result = await probe_postgres(PostgresConfig(dsn, timeout_s=2.0))
    assert not result.ok
    assert result.error == "connection refused"


async def test_it_times_out_on_a_server_that_never_answers() -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        cfg = PostgresConfig(f"postgresql://postgres@127.0.0.1:{port}/test", timeout_s=0.3)
        result = await probe_postgres(cfg)
    assert not result.ok
    assert result.error == "timed out after 0.3 s"
    assert result.duration_s < 2


def test_it_redacts_passwords_in_userinfo_and_parameters() -> None:
    assert redact_dsn("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db"
    assert (
        redact_dsn("postgresql://u@h/db?password=x&sslmode=require")
        == "postgresql://u@h/db?password=***&sslmode=require"
    )


def test_it_rejects_a_dsn_that_is_not_a_url_without_echoing_the_password() -> None:
    with pytest.raises(ValueError, match=r"write it as postgresql://user:password@host") as info:
        PostgresConfig("mysql://root:T0psecret@h/db")
    assert "T0psecret" not in str(info.value)


def test_it_rejects_an_empty_query() -> None:
    with pytest.raises(ValueError, match="'query' is empty; leave it out to run SELECT 1"):
        PostgresConfig("postgresql://h/db", query="  ")

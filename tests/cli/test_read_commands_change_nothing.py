"""Every command that only shows, run in a second shell without TENANTWATCH_CONFIG against
the data of a running demo, leaves the database exactly as it was; and `serve` from another
file (or none) refuses in one line instead of archiving the demo's checks."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.tables import metadata
from tests.cli.test_serve import DEMO, ROOT, TW, Server
from tests.support import free_port

# what the running server itself changes while it runs (results, metrics, alerts, ...);
# the comparison while it runs covers the rest: what a config sync or a command would touch
CONFIG_STATE = ("tenants", "checks", "api_keys", "silences", "instance_state", "audit_log")
VOLATILE_COLUMNS = {"api_keys": {"last_used_at"}}


async def dump(url: str, tables: tuple[str, ...] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (or of `tables`), sorted, as comparable tuples."""
    engine = create_engine(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    try:
        async with engine.connect() as conn:
            for table in metadata.sorted_tables:
                if tables is not None and table.name not in tables:
                    continue
                skip = VOLATILE_COLUMNS.get(table.name, set()) if tables is not None else set()
                cols = [c for c in table.columns if c.name not in skip]
                rows = (await conn.execute(select(*cols))).all()
                out[table.name] = sorted(tuple(repr(v) for v in r) for r in rows)
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            out["alembic_version"] = [tuple(v) for v in version]
    finally:
        await engine.dispose()
    return out


@pytest.fixture
def second_shell(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a user's second terminal: the server's data, no TENANTWATCH_CONFIG."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTWATCH_")}
    env.update(
        TENANTWATCH_DATABASE_URL=database_url,
        TENANTWATCH_DATA_DIR=str(tmp_path / "var"),
        TENANTWATCH_LISTEN=f"127.0.0.1:{free_port()}",
        COLUMNS="200",
    )
    yield env


def tw(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TW, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


SHOWING_DB = [
    ("status",),
    ("health",),
    ("health", "--tenant", "acme-corp"),
    ("health", "--tenant", "globex"),  # on the config's custom tier enterprise-plus
    ("checks", "list"),
    ("checks", "list", "--tenant", "initech"),
    ("tenant", "list"),
    ("tenant", "show", "globex"),
    ("apikey", "list"),
    ("apikey", "list", "--all"),
    ("migrate",),  # already at the newest revision: nothing to do
    ("config", "check", str(DEMO)),
    ("rules", "check", str(ROOT / "examples" / "demo" / "rules" / "seed-000.rules.yml")),
]
SHOWING_API = [
    ("alerts", "list"),
    ("silence", "list"),
    ("notifications", "list"),
    ("notifications", "list", "--failing", "-o", "json"),
    ("query", "up"),
    ("query", "tenantwatch_check_up", "--range", "5m", "--step", "1m"),
]


async def test_commands_that_show_change_nothing_in_a_running_demos_database(
    second_shell: dict[str, str], database_url: str
) -> None:
    env = second_shell
    server = Server({**env, "TENANTWATCH_CONFIG": str(DEMO)}, int(env["TENANTWATCH_LISTEN"][10:]))
    server.start()
    try:
        before = await dump(database_url, CONFIG_STATE)
        for args in (*SHOWING_API, *SHOWING_DB):
            done = tw(env, *args)
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        assert await dump(database_url, CONFIG_STATE) == before
    finally:
        server.stop()

    before = await dump(database_url)
    assert any("acme-api" in row[0] for row in before["checks"])
    outputs = {}
    for args in SHOWING_DB:
        done = tw(env, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        outputs[args] = done.stdout
    assert await dump(database_url) == before
    assert "globex" in outputs[("health", "--tenant", "globex")]
    assert "acme-api" in outputs[("checks", "list")]


async def test_serve_without_the_demos_config_refuses_in_one_line_and_changes_nothing(
    second_shell: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    env = second_shell
    server = Server({**env, "TENANTWATCH_CONFIG": str(DEMO)}, int(env["TENANTWATCH_LISTEN"][10:]))
    server.start()
    server.stop()
    before = await dump(database_url)

    bare = tw(env, "serve")
    assert bare.returncode == 2
    lines = [line for line in bare.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, bare.stderr
    assert f"served from {DEMO}" in lines[0] and "no config file was given" in lines[0]

    other = tmp_path / "other.yml"
    other.write_text("tenants:\n  - {id: solo, name: Solo, tier: basic}\n")
    moved = tw(env, "serve", "--config", str(other))
    assert moved.returncode == 2
    assert f"not {other}" in moved.stderr and "config apply" in moved.stderr
    assert await dump(database_url) == before

    applied = tw(env, "config", "apply", str(other))
    assert applied.returncode == 1 and "--force" in applied.stderr  # it would remove everything
    assert await dump(database_url) == before
    forced = tw(env, "config", "apply", str(other), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "checks archived (no longer declared; history kept): acme-api" in forced.stdout
    after = await dump(database_url)
    assert after["check_results"] == before["check_results"]  # history kept

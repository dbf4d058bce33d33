"""PostgreSQL probe: connect, run a query, report connections in use against max_connections.

The query always runs in a read-only transaction with the check's timeout as its
statement_timeout, so a check can neither change data nor hold the server. A probe given
an SSRF policy (checks made through the API) connects only to a destination the policy
lists, uses only the DSN's own user and password (not the server's PGPASSWORD or
~/.pgpass), and never reports the query's value or the server's error text, which can
quote data.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import asyncpg

from tenantwatch.adapters.probes.tcp import check_timeout, describe_network_error, timed_out
from tenantwatch.adapters.ssrf import SsrfError, SsrfPolicy, checked_addresses
from tenantwatch.domain.checks import CheckKind, redact_url
from tenantwatch.domain.probe_result import ProbeResult
from tenantwatch.domain.probe_targets import probe_target

_SCHEMES = ("postgres", "postgresql")


@dataclass(frozen=True, slots=True)
class PostgresConfig:
    """A DSN (it may hold a password, so it stays out of repr), a query and its expected value.

    `expected` is compared with the first column of the first row as text: booleans read
    "true"/"false", NULL reads "null", anything else is str(value). With `reveal` False the
    value stays out of the error (it is still judged and kept in `details` for conditions;
    the executor hides it), and server errors are reported by SQLSTATE only.
    """

    dsn: str = field(repr=False)
    timeout_s: float = 10.0
    query: str = "SELECT 1"
    expected: str | None = None
    reveal: bool = True

    def __post_init__(self) -> None:
        scheme = self.dsn.split("://", 1)[0] if "://" in self.dsn else ""
        if scheme not in _SCHEMES:
            raise ValueError(
                f"postgres check: DSN {redact_dsn(self.dsn)!r} is not a URL; "
                "write it as postgresql://user:password@host:5432/dbname"
            )
        check_timeout("postgres", self.timeout_s)
        if not self.query.strip():
            raise ValueError("postgres check: 'query' is empty; leave it out to run SELECT 1")

    @property
    def safe_dsn(self) -> str:
        """The DSN with its password replaced by ***."""
        return redact_dsn(self.dsn)


def redact_dsn(dsn: str) -> str:
    """Return dsn with its password (in the userinfo or ?password=) shown as ***, wherever it is."""
    return _scrub(redact_url(dsn), dsn)


def _secrets(dsn: str) -> list[str]:
    """Every spelling of the DSN's password that could end up in an error message."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return [dsn]
    found: list[str] = []
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    found += [v for k, v in parse_qsl(parts.query) if k == "password" and v]
    return [s for s in found if s]


def _scrub(text: str, dsn: str) -> str:
    for secret in _secrets(dsn):
        text = text.replace(secret, "***")
    return text


def _as_text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# What a failed query's SQLSTATE means, for checks whose server message is not shown.
_SQLSTATES = {
    "25006": "the check runs read-only, so the query cannot change data",
    "25001": "the check runs read-only, and a query cannot make it read-write",
    "57014": "the query ran longer than the check's timeout",
    "42601": "syntax error",
    "42501": "permission denied",
    "42P01": "no such table",
    "42703": "no such column",
    "42883": "no such function",
}


def _query_error(exc: asyncpg.PostgresError, reveal: bool) -> str:
    if reveal:
        return f"query failed: {exc}"
    state = str(getattr(exc, "sqlstate", "") or "")
    meaning = _SQLSTATES.get(state, type(exc).__name__)
    return (
        f"query failed: {meaning} (SQLSTATE {state}); the server's message is not shown "
        "for checks made through the API, as it can quote data"
    )


async def _run_query(conn: asyncpg.Connection, cfg: PostgresConfig) -> object:
    """cfg.query's first value, read in a read-only transaction with a statement timeout.

    The set_config SELECT takes the transaction's snapshot, after which PostgreSQL refuses
    to make it read-write again ("must be called before any query")."""
    timeout_ms = max(1, int(cfg.timeout_s * 1000))
    async with conn.transaction(readonly=True):
        await conn.fetchval("SELECT set_config('statement_timeout', $1, true)", f"{timeout_ms}ms")
        return await conn.fetchval(cfg.query)


async def _connect(cfg: PostgresConfig, policy: SsrfPolicy | None) -> asyncpg.Connection:
    """Connect as the DSN says; with a policy, only to a destination it lists."""
    if policy is None:
        return await asyncpg.connect(cfg.dsn, timeout=cfg.timeout_s)
    target = probe_target(CheckKind.POSTGRES, {"dsn": cfg.dsn})
    assert target is not None
    # A name on the list is trusted wherever it points (and keeps TLS name checks);
    # otherwise the connection goes to the checked addresses.
    hosts: str | list[str] = (
        target.host
        if policy.host_allowed(target.host)
        else await checked_addresses(target.host, target.port, policy, listed_only=True)
    )
    extra: dict[str, Any] = {}
    if not _secrets(cfg.dsn):
        extra["password"] = ""  # not the server's PGPASSWORD or ~/.pgpass
    return await asyncpg.connect(
        cfg.dsn, host=hosts, port=target.port, timeout=cfg.timeout_s, **extra
    )


async def probe_postgres(cfg: PostgresConfig, policy: SsrfPolicy | None = None) -> ProbeResult:
    """Connect and run cfg.query; return the outcome. Never raises for network or SQL trouble."""
    start = time.perf_counter()
    phases: dict[str, float] = {}
    details: dict[str, Any] = {"dsn": cfg.safe_dsn}
    conn: asyncpg.Connection | None = None
    body = b""
    error: str | None = None
    try:
        async with asyncio.timeout(cfg.timeout_s):
            conn = await _connect(cfg, policy)
            phases["connect"] = time.perf_counter() - start
            value = await _run_query(conn, cfg)
            phases["processing"] = time.perf_counter() - start - phases["connect"]
            text = _as_text(value)
            body = text.encode()
            details["value"] = text
            if cfg.expected is not None and text != cfg.expected:
                error = (
                    f"query returned {text!r}, expected {cfg.expected!r}"
                    if cfg.reveal
                    else f"query returned another value than the expected {cfg.expected!r}"
                )
            details.update(await _server_figures(conn))
    except TimeoutError:
        error = timed_out(cfg.timeout_s)
    except OSError as exc:
        error = describe_network_error(exc)
    except SsrfError as exc:
        error = str(exc)
    except asyncpg.InvalidPasswordError as exc:
        error = f"authentication failed: {exc}"
    except asyncpg.PostgresError as exc:
        rejected = f"connection rejected: {exc}"
        error = _query_error(exc, cfg.reveal) if conn is not None else rejected
    except (asyncpg.InterfaceError, ValueError) as exc:
        # Bad DSN options and protocol trouble surface here, sometimes quoting the DSN.
        error = f"postgres client error: {exc}"
    finally:
        if conn is not None:
            await _close(conn)
    if error is not None:
        error = _scrub(error, cfg.dsn)
    return ProbeResult(
        ok=error is None,
        duration_s=time.perf_counter() - start,
        status_code=None,
        body=body,
        body_size=len(body),
        phases=phases,
        certificate_expiry=None,
        connected=conn is not None,
        error=error,
        details=details,
    )


async def _server_figures(conn: asyncpg.Connection) -> dict[str, Any]:
    """Server version and connection usage; figures the role may not read are left out."""
    figures: dict[str, Any] = {}
    figures["server_version"] = conn.get_settings().server_version.split()[0]
    try:
        figures["connections_in_use"] = int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
        )
        figures["max_connections"] = int(await conn.fetchval("SHOW max_connections"))
    except asyncpg.PostgresError:
        pass
    if figures.get("max_connections"):
        figures["connections_used_ratio"] = (
            figures["connections_in_use"] / figures["max_connections"]
        )
    return figures


async def _close(conn: asyncpg.Connection) -> None:
    try:
        await conn.close(timeout=1.0)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        conn.terminate()

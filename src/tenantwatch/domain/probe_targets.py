"""What a check connects to, the settings only the config file may give, and the SSRF
decision for checks made through the API.

Checks declared in tenantwatch.yml are the operator's and reach anything. A check made
through the API is a tenant's: it reaches public addresses, and internal ones only when
the operator lists them (`check_runner.allow_private_targets`); database checks (postgres,
redis) reach only listed destinations, public or not. Server file paths and connection
options that would read the server's files are config-only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tenantwatch.domain.check_specs import (
    DnsSpec,
    HttpSpec,
    PostgresSpec,
    RedisSpec,
    TcpSpec,
    TlsSpec,
)
from tenantwatch.domain.checks import Check, CheckKind
from tenantwatch.domain.ssrf import SsrfPolicy, allowed_only

SETTING = "check_runner.allow_private_targets"
# DSN options a check made through the API may give; the others read the server's files
# (sslrootcert, sslcert, sslkey, sslcrl, passfile, service) or change where it connects.
PG_API_OPTIONS = frozenset(
    {"sslmode", "application_name", "connect_timeout", "dbname", "database", "user", "password"}
)
REDIS_API_OPTIONS = frozenset({"db"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "postgres": 5432, "postgresql": 5432}


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """Where a check connects; `listed_only`: only destinations on the allow-list."""

    host: str
    port: int
    listed_only: bool = False


def parse_nameserver(text: str) -> tuple[str, int]:
    """Return (ip, port) from "ip", "ip:port", "v6" or "[v6]:port"; raise ValueError otherwise."""
    host, port = text, 53
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"dns check: nameserver {text!r} should look like '[::1]:53'")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        port_text = ""
    if port_text:
        if not port_text.isdigit():
            raise ValueError(f"dns check: nameserver {text!r} has a port that is not a number")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"dns check: nameserver {text!r} must be an IP address with an optional port, "
            "e.g. '1.1.1.1', '127.0.0.1:5353' or '[::1]:53'"
        ) from None
    if not 1 <= port <= 65535:
        raise ValueError(f"dns check: port {port!r} is not a port number; use 1-65535")
    return host, port


def _url_target(kind: str, url: str, default_port: int, *, listed_only: bool) -> ProbeTarget:
    one_host = f"{kind} check: the URL must name exactly one host"
    try:
        parts = urlsplit(url)
        if not parts.hostname or "," in parts.netloc:
            raise ValueError(one_host)
        port = parts.port
    except ValueError as exc:
        if str(exc) == one_host:
            raise
        raise ValueError(f"{kind} check: the URL cannot be read ({exc})") from None
    return ProbeTarget(parts.hostname, port or default_port, listed_only)


def probe_target(kind: CheckKind, settings: Mapping[str, Any]) -> ProbeTarget | None:
    """Where a check of this kind connects. None when nowhere a tenant chooses (heartbeat,
    python, a dns check through the system's resolver). ValueError for a target that
    cannot be read."""
    s = settings
    match kind:
        case CheckKind.HTTP:
            url = str(s["url"])
            scheme = url.split("://", 1)[0].lower()
            return _url_target("http", url, _DEFAULT_PORTS.get(scheme, 80), listed_only=False)
        case CheckKind.TCP:
            return ProbeTarget(str(s["host"]), int(s["port"]))
        case CheckKind.TLS:
            return ProbeTarget(str(s["host"]), int(s.get("port", 443)))
        case CheckKind.DNS:
            server = s.get("nameserver")
            return None if server is None else ProbeTarget(*parse_nameserver(str(server)))
        case CheckKind.POSTGRES:
            return _url_target("postgres", str(s["dsn"]), 5432, listed_only=True)
        case CheckKind.REDIS:
            return _url_target("redis", str(s["url"]), 6379, listed_only=True)
    return None


def target_host(check: Check) -> str:
    """The host a check talks to, for per-host concurrency limits ("" when none can be read)."""
    spec = check.spec
    if isinstance(spec, HttpSpec):
        return urlsplit(str(spec.url)).hostname or ""
    if isinstance(spec, TcpSpec | TlsSpec):
        return str(spec.host)
    if isinstance(spec, PostgresSpec):
        return urlsplit(str(spec.dsn)).hostname or ""
    if isinstance(spec, RedisSpec):
        return urlsplit(str(spec.url)).hostname or ""
    if isinstance(spec, DnsSpec):
        return str(spec.nameserver or "resolver")
    return ""


def _query_names(url: str) -> list[str]:
    try:
        return [name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    except ValueError:
        return []


def config_only_problem(kind: CheckKind, settings: Mapping[str, Any]) -> str | None:
    """Why these settings can be declared in tenantwatch.yml only, or None.

    Server file paths (`ca_file`, a DSN's sslrootcert, passfile ...) would let a tenant
    probe the server's files; the sentence says what to remove."""
    s = settings
    if kind in (CheckKind.HTTP, CheckKind.TLS) and s.get("ca_file"):
        return (
            "'ca_file' names a file on the server, so it is declared in tenantwatch.yml only; "
            "remove it (the system's CAs are trusted), or set verify_tls: false "
            "(verify_chain: false for tls) for a private CA"
        )
    if kind is CheckKind.POSTGRES:
        dsn = str(s.get("dsn", ""))
        extra = sorted(set(_query_names(dsn)) - PG_API_OPTIONS)
        if extra:
            return (
                f"the DSN option {extra[0]!r} can read the server's files or change where the "
                "check connects, so it is declared in tenantwatch.yml only; through the API a "
                f"DSN may carry {', '.join(sorted(PG_API_OPTIONS))}"
            )
        try:
            user = urlsplit(dsn).username
        except ValueError:
            user = None
        if not user and "user" not in _query_names(dsn):
            return (
                "name the user in the DSN (postgresql://user:password@host:5432/db); "
                "through the API the server's own defaults (PGUSER, ~/.pgpass) are not used"
            )
    if kind is CheckKind.REDIS:
        extra = sorted(set(_query_names(str(s.get("url", "")))) - REDIS_API_OPTIONS)
        if extra:
            return (
                f"the URL option {extra[0]!r} is declared in tenantwatch.yml only (some name "
                "files on the server); through the API a Redis URL may carry ?db= only"
            )
    return None


def decide(target: ProbeTarget, addresses: Sequence[str], policy: SsrfPolicy) -> list[str]:
    """The addresses a check made through the API may connect to for `target`, in order;
    SsrfError (a sentence naming the setting to change) when the policy refuses them all.

    `addresses` are what target.host resolved to (itself for an IP address)."""
    return allowed_only(target.host, addresses, policy, listed_only=target.listed_only)

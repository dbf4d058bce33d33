"""Run a stored check: build its probe from the settings, probe, judge the conditions.

The executor owns the shared HTTP client; every other kind opens its own connection per
run. Heartbeats are not probed here: their runs are judged from pings (services.checks).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from tenantwatch.adapters.probes.dns import DnsConfig, probe_dns
from tenantwatch.adapters.probes.http import HttpConfig, HttpProber
from tenantwatch.adapters.probes.postgres import PostgresConfig, probe_postgres
from tenantwatch.adapters.probes.python_check import PythonConfig, probe_python
from tenantwatch.adapters.probes.redis import RedisConfig, probe_redis
from tenantwatch.adapters.probes.result import ProbeResult
from tenantwatch.adapters.probes.tcp import TcpConfig, probe_tcp
from tenantwatch.adapters.probes.tls import TlsConfig, probe_tls
from tenantwatch.config.checks_model import status_ranges
from tenantwatch.domain.checks import Check, CheckKind, CheckRun, ConditionResult
from tenantwatch.domain.conditions import Condition, Observation, evaluate_all, parse_condition

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def target_host(check: Check) -> str:
    """The host a check talks to, for per-host concurrency limits."""
    s = check.settings
    if check.kind is CheckKind.HTTP:
        return urlsplit(str(s["url"])).hostname or ""
    if check.kind in (CheckKind.TCP, CheckKind.TLS):
        return str(s["host"])
    if check.kind in (CheckKind.POSTGRES, CheckKind.REDIS):
        return urlsplit(str(s.get("dsn") or s.get("url"))).hostname or ""
    if check.kind is CheckKind.DNS:
        return str(s.get("nameserver") or "resolver")
    return ""


def http_config(check: Check) -> HttpConfig:
    s = check.settings
    auth = s.get("basic_auth")
    body = s.get("body")
    return HttpConfig(
        url=s["url"],
        method=s.get("method", "GET"),
        headers=tuple((str(k), str(v)) for k, v in (s.get("headers") or {}).items()),
        body=body.encode() if isinstance(body, str) else None,
        basic_auth=(auth["username"], auth["password"]) if isinstance(auth, Mapping) else None,
        bearer_token=s.get("bearer_token"),
        expected_status=status_ranges(list(s.get("expected_status") or ["200-399"])),
        follow_redirects=bool(s.get("follow_redirects", True)),
        verify_tls=bool(s.get("verify_tls", True)),
        timeout_s=check.timeout_s,
        ca_file=s.get("ca_file"),
    )


def _probe_for(check: Check, http: HttpProber) -> Callable[[], Awaitable[ProbeResult]]:
    s = check.settings
    t = check.timeout_s
    match check.kind:
        case CheckKind.HTTP:
            cfg = http_config(check)
            return lambda: http.probe(cfg)
        case CheckKind.TCP:
            send, expect = s.get("send"), s.get("expect")
            tcp = TcpConfig(
                host=s["host"],
                port=int(s["port"]),
                timeout_s=t,
                send=send.encode() if send else None,
                expect=expect.encode() if expect else None,
            )
            return lambda: probe_tcp(tcp)
        case CheckKind.DNS:
            answers = s.get("expected_answers")
            dns_cfg = DnsConfig(
                name=s["query_name"],
                record_type=s.get("record_type", "A"),
                nameserver=s.get("nameserver"),
                expected_answers=frozenset(answers) if answers is not None else None,
                expected_rcode=s.get("expected_rcode", "NOERROR"),
                timeout_s=t,
            )
            return lambda: probe_dns(dns_cfg)
        case CheckKind.TLS:
            tls = TlsConfig(
                host=s["host"],
                port=int(s.get("port", 443)),
                server_name=s.get("server_name"),
                timeout_s=t,
                verify_chain=bool(s.get("verify_chain", True)),
                ca_file=s.get("ca_file"),
            )
            return lambda: probe_tls(tls)
        case CheckKind.POSTGRES:
            pg = PostgresConfig(
                dsn=s["dsn"],
                timeout_s=t,
                query=s.get("query", "SELECT 1"),
                expected=s.get("expected"),
            )
            return lambda: probe_postgres(pg)
        case CheckKind.REDIS:
            rd = RedisConfig(url=s["url"], timeout_s=t)
            return lambda: probe_redis(rd)
        case CheckKind.PYTHON:
            py = PythonConfig(
                target=s["target"], timeout_s=t, args=tuple((s.get("args") or {}).items())
            )
            return lambda: probe_python(py)
    raise ValueError(f"{check.kind} checks are not probed")


def observation(result: ProbeResult, now: datetime) -> Observation:
    d = result.details
    value = d.get("value")
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    expiry = result.certificate_expiry
    return Observation(
        status=result.status_code,
        response_time_ms=result.duration_s * 1000,
        body=result.body,
        certificate_expiry_ms=(expiry - now).total_seconds() * 1000 if expiry else None,
        connected=result.connected,
        dns_rcode=d.get("rcode"),
        ip=d.get("ip"),
        value=number,
    )


@functools.lru_cache(maxsize=65536)
def _parsed(text: str) -> Condition:
    return parse_condition(text)


def judge(check: Check, result: ProbeResult, at: datetime) -> CheckRun:
    """Combine the probe's own verdict with the check's conditions into one run."""
    conds = [_parsed(c) for c in check.conditions]
    cond_ok, outcomes = evaluate_all(conds, observation(result, at))
    error = result.error
    failed = [o for o in outcomes if not o.ok]
    if error is None and failed:
        error = "condition failed: " + "; ".join(o.detail for o in failed)
    return CheckRun(
        check_id=check.id,
        tenant_id=check.tenant_id,
        kind=check.kind,
        at=at,
        ok=result.ok and cond_ok,
        duration_s=result.duration_s,
        status_code=result.status_code,
        error=error,
        conditions=tuple(ConditionResult(o.condition, o.ok, o.detail) for o in outcomes),
        phases=dict(result.phases),
        details={**result.details, "body_size": result.body_size},
        certificate_expiry=result.certificate_expiry,
    )


class ProbeExecutor:
    """Runs checks; one per process, closed on shutdown."""

    def __init__(self, clock: Clock = _now) -> None:
        self.clock = clock
        self._http: HttpProber | None = None
        # probe configs are built once per version of a check
        self._probes: dict[str, tuple[Check, Callable[[], Awaitable[ProbeResult]]]] = {}

    def _probe(self, check: Check, http: HttpProber) -> Callable[[], Awaitable[ProbeResult]]:
        cached = self._probes.get(check.id)
        if cached is not None and cached[0] is check:
            return cached[1]
        probe = _probe_for(check, http)
        if len(self._probes) > 200_000:
            self._probes.clear()
        self._probes[check.id] = (check, probe)
        return probe

    async def run(self, check: Check) -> CheckRun:
        if self._http is None:
            self._http = HttpProber()
        at = self.clock()
        try:
            probe = self._probe(check, self._http)
        except (ValueError, KeyError, TypeError) as exc:
            result = ProbeResult(ok=False, duration_s=0.0, error=f"invalid settings: {exc}")
        else:
            result = await probe()
        return judge(check, result, at)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._probes.clear()

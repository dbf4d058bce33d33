"""Run a stored check: build its probe from the settings, probe, judge the conditions.

The executor owns the shared HTTP clients; every other kind opens its own connection per
run. Heartbeats are not probed here: their runs are judged from pings (services.checks).

Checks declared in the config file are the operator's and run as declared. Every other
check (made through the API) runs behind the SSRF policy, checked again at every run
after DNS resolution and connected to the address that was checked, since DNS answers
change: settings only the config file may give fail the run, and a postgres check's
value is judged but never shown (domain/probe_targets.py).
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
from tenantwatch.domain.condition_eval import Observation, evaluate_all
from tenantwatch.domain.conditions import Condition, parse_condition
from tenantwatch.domain.probe_targets import SETTING, config_only_problem
from tenantwatch.domain.ssrf import SsrfPolicy

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


def trusted(check: Check) -> bool:
    """True for checks declared in the config file, which run without the SSRF policy."""
    return check.managed_by == "config"


def _refused(reason: str) -> Callable[[], Awaitable[ProbeResult]]:
    async def probe() -> ProbeResult:
        return ProbeResult(ok=False, duration_s=0.0, error=reason)

    return probe


def _probe_for(
    check: Check, http: HttpProber, policy: SsrfPolicy | None
) -> Callable[[], Awaitable[ProbeResult]]:
    """The probe of a check; `policy` guards every connection it makes (None: trusted)."""
    s = check.settings
    t = check.timeout_s
    if policy is not None and (problem := config_only_problem(check.kind, s)) is not None:
        return _refused(problem)
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
            return lambda: probe_tcp(tcp, policy)
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
            return lambda: probe_dns(dns_cfg, policy)
        case CheckKind.TLS:
            tls = TlsConfig(
                host=s["host"],
                port=int(s.get("port", 443)),
                server_name=s.get("server_name"),
                timeout_s=t,
                verify_chain=bool(s.get("verify_chain", True)),
                ca_file=s.get("ca_file"),
            )
            return lambda: probe_tls(tls, policy)
        case CheckKind.POSTGRES:
            pg = PostgresConfig(
                dsn=s["dsn"],
                timeout_s=t,
                query=s.get("query", "SELECT 1"),
                expected=s.get("expected"),
                reveal=policy is None,
            )
            return lambda: probe_postgres(pg, policy)
        case CheckKind.REDIS:
            rd = RedisConfig(url=s["url"], timeout_s=t)
            return lambda: probe_redis(rd, policy)
        case CheckKind.PYTHON:
            py = PythonConfig(
                target=s["target"], timeout_s=t, args=tuple((s.get("args") or {}).items())
            )
            return lambda: probe_python(py)
    raise ValueError(f"{check.kind} checks are not probed")


def observation(result: ProbeResult, now: datetime, *, hidden: bool = False) -> Observation:
    """What conditions are judged on; `hidden`: the body and value never show in details."""
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
        payload_hidden=hidden,
    )


@functools.lru_cache(maxsize=65536)
def _parsed(text: str) -> Condition:
    return parse_condition(text)


def hides_payload(check: Check) -> bool:
    """A database query's value is judged but never shown for a check made through the API
    (a tenant's query could read what its key may not)."""
    return check.kind is CheckKind.POSTGRES and not trusted(check)


def judge(check: Check, result: ProbeResult, at: datetime) -> CheckRun:
    """Combine the probe's own verdict with the check's conditions into one run."""
    conds = [_parsed(c) for c in check.conditions]
    hidden = hides_payload(check)
    cond_ok, outcomes = evaluate_all(conds, observation(result, at, hidden=hidden))
    error = result.error
    details = {**result.details, "body_size": result.body_size}
    if hidden:
        details.pop("value", None)
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
        details=details,
        certificate_expiry=result.certificate_expiry,
    )


class ProbeExecutor:
    """Runs checks; one per process, closed on shutdown.

    `policy` guards the checks made through the API; by default it allows no internal
    destination (the runtime passes check_runner.allow_private_targets)."""

    def __init__(self, clock: Clock = _now, policy: SsrfPolicy | None = None) -> None:
        self.clock = clock
        self.policy = policy if policy is not None else SsrfPolicy(setting=SETTING)
        self._http: HttpProber | None = None
        self._guarded_http: HttpProber | None = None
        # probe configs are built once per version of a check
        self._probes: dict[str, tuple[Check, Callable[[], Awaitable[ProbeResult]]]] = {}

    def _probe(self, check: Check) -> Callable[[], Awaitable[ProbeResult]]:
        cached = self._probes.get(check.id)
        if cached is not None and cached[0] is check:
            return cached[1]
        if trusted(check):
            if self._http is None:
                self._http = HttpProber()
            probe = _probe_for(check, self._http, None)
        else:
            if self._guarded_http is None:
                self._guarded_http = HttpProber(self.policy)
            probe = _probe_for(check, self._guarded_http, self.policy)
        if len(self._probes) > 200_000:
            self._probes.clear()
        self._probes[check.id] = (check, probe)
        return probe

    async def run(self, check: Check) -> CheckRun:
        at = self.clock()
        try:
            probe = self._probe(check)
        except (ValueError, KeyError, TypeError) as exc:
            result = ProbeResult(ok=False, duration_s=0.0, error=f"invalid settings: {exc}")
        else:
            result = await probe()
        return judge(check, result, at)

    async def close(self) -> None:
        for prober in (self._http, self._guarded_http):
            if prober is not None:
                await prober.close()
        self._http = self._guarded_http = None
        self._probes.clear()

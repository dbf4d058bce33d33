"""Which probe runs a check of each kind: a builder per kind taking the kind's typed spec."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from tenantwatch.adapters.probes.dns import DnsConfig, probe_dns
from tenantwatch.adapters.probes.http import HttpConfig, HttpProber
from tenantwatch.adapters.probes.postgres import PostgresConfig, probe_postgres
from tenantwatch.adapters.probes.python_check import PythonConfig, probe_python
from tenantwatch.adapters.probes.redis import RedisConfig, probe_redis
from tenantwatch.adapters.probes.tcp import TcpConfig, probe_tcp
from tenantwatch.adapters.probes.tls import TlsConfig, probe_tls
from tenantwatch.domain.check_specs import (
    DnsSpec,
    HttpSpec,
    PostgresSpec,
    PythonSpec,
    RedisSpec,
    Spec,
    TcpSpec,
    TlsSpec,
)
from tenantwatch.domain.checks import CheckKind
from tenantwatch.domain.probe_result import ProbeResult
from tenantwatch.domain.ssrf import SsrfPolicy

Probe = Callable[[], Awaitable[ProbeResult]]


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What a probe is built with besides its spec; `policy` None: a trusted check."""

    timeout_s: float
    http: HttpProber
    policy: SsrfPolicy | None


ProbeBuilder = Callable[[Spec, ProbeContext], Probe]
S = TypeVar("S", HttpSpec, TcpSpec, DnsSpec, TlsSpec, PostgresSpec, RedisSpec, PythonSpec)


def _entry(spec_type: type[S], build: Callable[[S, ProbeContext], Probe]) -> ProbeBuilder:
    def builder(spec: Spec, ctx: ProbeContext) -> Probe:
        if not isinstance(spec, spec_type):
            raise TypeError(f"expected a {spec_type.__name__}, got a {type(spec).__name__}")
        return build(spec, ctx)

    return builder


def _http(spec: HttpSpec, ctx: ProbeContext) -> Probe:
    cfg = HttpConfig(
        url=spec.url,
        method=spec.method,
        headers=spec.headers,
        body=spec.body,
        basic_auth=spec.basic_auth,
        bearer_token=spec.bearer_token,
        expected_status=spec.expected_status,
        follow_redirects=spec.follow_redirects,
        verify_tls=spec.verify_tls,
        timeout_s=ctx.timeout_s,
        ca_file=spec.ca_file,
    )
    http = ctx.http
    return lambda: http.probe(cfg)


def _tcp(spec: TcpSpec, ctx: ProbeContext) -> Probe:
    cfg = TcpConfig(
        host=spec.host, port=spec.port, timeout_s=ctx.timeout_s, send=spec.send, expect=spec.expect
    )
    policy = ctx.policy
    return lambda: probe_tcp(cfg, policy)


def _dns(spec: DnsSpec, ctx: ProbeContext) -> Probe:
    cfg = DnsConfig(
        name=spec.query_name,
        record_type=spec.record_type,
        nameserver=spec.nameserver,
        expected_answers=spec.expected_answers,
        expected_rcode=spec.expected_rcode,
        timeout_s=ctx.timeout_s,
    )
    policy = ctx.policy
    return lambda: probe_dns(cfg, policy)


def _tls(spec: TlsSpec, ctx: ProbeContext) -> Probe:
    cfg = TlsConfig(
        host=spec.host,
        port=spec.port,
        server_name=spec.server_name,
        timeout_s=ctx.timeout_s,
        verify_chain=spec.verify_chain,
        ca_file=spec.ca_file,
    )
    policy = ctx.policy
    return lambda: probe_tls(cfg, policy)


def _postgres(spec: PostgresSpec, ctx: ProbeContext) -> Probe:
    policy = ctx.policy
    cfg = PostgresConfig(
        dsn=spec.dsn,
        timeout_s=ctx.timeout_s,
        query=spec.query,
        expected=spec.expected,
        reveal=policy is None,
    )
    return lambda: probe_postgres(cfg, policy)


def _redis(spec: RedisSpec, ctx: ProbeContext) -> Probe:
    cfg = RedisConfig(url=spec.url, timeout_s=ctx.timeout_s)
    policy = ctx.policy
    return lambda: probe_redis(cfg, policy)


def _python(spec: PythonSpec, ctx: ProbeContext) -> Probe:
    cfg = PythonConfig(target=spec.target, timeout_s=ctx.timeout_s, args=spec.args)
    return lambda: probe_python(cfg)


# heartbeats are not probed: their runs are judged from pings (domain/check_judge.py)
PROBES: Mapping[CheckKind, ProbeBuilder] = {
    CheckKind.HTTP: _entry(HttpSpec, _http),
    CheckKind.TCP: _entry(TcpSpec, _tcp),
    CheckKind.DNS: _entry(DnsSpec, _dns),
    CheckKind.TLS: _entry(TlsSpec, _tls),
    CheckKind.POSTGRES: _entry(PostgresSpec, _postgres),
    CheckKind.REDIS: _entry(RedisSpec, _redis),
    CheckKind.PYTHON: _entry(PythonSpec, _python),
}

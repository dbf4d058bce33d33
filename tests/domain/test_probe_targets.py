"""Where a check made through the API may connect, decided on resolved addresses (no I/O):
internal addresses are refused unless listed, databases reach listed destinations only."""

from __future__ import annotations

from typing import Any

import pytest

from tenantwatch.domain.checks import Check, CheckKind
from tenantwatch.domain.probe_targets import (
    ProbeTarget,
    config_only_problem,
    decide,
    probe_target,
    target_host,
)
from tenantwatch.domain.ssrf import SsrfError, SsrfPolicy

STRICT = SsrfPolicy(setting="check_runner.allow_private_targets")
PUBLIC = "93.184.216.34"


def _policy(*entries: str) -> SsrfPolicy:
    return SsrfPolicy.from_allow_list(entries, setting="check_runner.allow_private_targets")


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",  # cloud metadata (link-local)
        "169.254.10.20",
        "10.0.0.5",
        "10.255.255.254",
        "192.168.1.10",
        "172.16.0.1",
        "127.0.0.1",
        "127.8.9.10",
        "0.0.0.0",  # noqa: S104
        "100.64.0.1",  # carrier-grade NAT
        "::1",
        "fe80::1",
        "fd00:ec2::254",  # AWS metadata over IPv6 (unique local)
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.5",
    ],
)
@pytest.mark.parametrize("kind", [CheckKind.HTTP, CheckKind.TCP, CheckKind.TLS])
def test_internal_addresses_are_refused_by_the_decision(kind: CheckKind, address: str) -> None:
    target = ProbeTarget("svc.example.com", 443)
    with pytest.raises(SsrfError, match=r"internal address; add it to check_runner\.allow"):
        decide(target, [address], STRICT)
    literal = ProbeTarget(address, 80)
    with pytest.raises(SsrfError, match="internal address"):
        decide(literal, [address], STRICT)


def test_public_addresses_pass_and_internal_answers_are_dropped() -> None:
    target = ProbeTarget("mixed.example.com", 443)
    assert decide(target, [PUBLIC], STRICT) == [PUBLIC]
    assert decide(target, ["10.0.0.5", PUBLIC, "127.0.0.1"], STRICT) == [PUBLIC]


def test_the_allow_list_opens_networks_and_names() -> None:
    policy = _policy("10.20.0.0/16", "status.corp.example", ".svc.cluster.local")
    assert decide(ProbeTarget("a.example", 80), ["10.20.3.4"], policy) == ["10.20.3.4"]
    with pytest.raises(SsrfError):
        decide(ProbeTarget("a.example", 80), ["10.21.3.4"], policy)
    assert decide(ProbeTarget("status.corp.example", 80), ["192.168.0.9"], policy)
    assert decide(ProbeTarget("api.ns.svc.cluster.local", 80), ["10.96.0.1"], policy)
    with pytest.raises(SsrfError, match=r"169\.254\.169\.254"):
        decide(ProbeTarget("169.254.169.254", 80), ["169.254.169.254"], policy)


def test_database_checks_reach_only_listed_destinations_public_or_not() -> None:
    db = ProbeTarget("db.example.com", 5432, listed_only=True)
    with pytest.raises(SsrfError, match=r"not on check_runner\.allow_private_targets"):
        decide(db, [PUBLIC], STRICT)
    with pytest.raises(SsrfError):
        decide(db, ["127.0.0.1"], STRICT)
    assert decide(db, [PUBLIC], _policy(f"{PUBLIC}/32")) == [PUBLIC]
    assert decide(db, ["10.0.0.7"], _policy("db.example.com")) == ["10.0.0.7"]
    assert decide(db, ["127.0.0.1", "10.0.0.7"], _policy("10.0.0.0/8")) == ["10.0.0.7"]


@pytest.mark.parametrize(
    ("kind", "settings", "target"),
    [
        (CheckKind.HTTP, {"url": "https://api.example.com/health"}, ("api.example.com", 443)),
        (CheckKind.HTTP, {"url": "http://10.0.0.1:8080/x"}, ("10.0.0.1", 8080)),
        (CheckKind.HTTP, {"url": "http://[::1]/"}, ("::1", 80)),
        (CheckKind.TCP, {"host": "db", "port": 5432}, ("db", 5432)),
        (CheckKind.TLS, {"host": "example.com"}, ("example.com", 443)),
        (
            CheckKind.DNS,
            {"query_name": "x", "nameserver": "169.254.169.253"},
            ("169.254.169.253", 53),
        ),
        (CheckKind.DNS, {"query_name": "x", "nameserver": "[::1]:5353"}, ("::1", 5353)),
        (CheckKind.POSTGRES, {"dsn": "postgresql://u:p@db.example:6432/x"}, ("db.example", 6432)),
        (CheckKind.REDIS, {"url": "redis://cache.example/0"}, ("cache.example", 6379)),
    ],
)
def test_each_kind_names_its_target(
    kind: CheckKind, settings: dict[str, Any], target: tuple[str, int]
) -> None:
    found = probe_target(kind, settings)
    assert found is not None and (found.host, found.port) == target
    assert found.listed_only is (kind in (CheckKind.POSTGRES, CheckKind.REDIS))


def test_kinds_that_connect_nowhere_a_tenant_chooses_have_no_target() -> None:
    assert probe_target(CheckKind.HEARTBEAT, {"period": 60}) is None
    assert probe_target(CheckKind.DNS, {"query_name": "example.com"}) is None


def test_a_dsn_with_several_hosts_is_refused() -> None:
    with pytest.raises(ValueError, match="exactly one host"):
        probe_target(CheckKind.POSTGRES, {"dsn": "postgresql://u@h1:5432,h2:5432/db"})
    with pytest.raises(ValueError, match="exactly one host"):
        probe_target(CheckKind.POSTGRES, {"dsn": "postgresql:///db?host=/run/postgresql"})


@pytest.mark.parametrize(
    ("kind", "settings", "words"),
    [
        (
            CheckKind.HTTP,
            {"url": "https://x.example", "ca_file": "/etc/ssl/private/key.pem"},
            "ca_file",
        ),
        (CheckKind.TLS, {"host": "x.example", "ca_file": "/etc/passwd"}, "ca_file"),
        (
            CheckKind.POSTGRES,
            {"dsn": "postgresql://u@db/x?sslrootcert=/etc/shadow"},
            "'sslrootcert'",
        ),
        (CheckKind.POSTGRES, {"dsn": "postgresql://u@db/x?passfile=/root/.pgpass"}, "'passfile'"),
        (CheckKind.POSTGRES, {"dsn": "postgresql://u@db/x?service=prod"}, "'service'"),
        (CheckKind.POSTGRES, {"dsn": "postgresql://u@db/x?host=127.0.0.1"}, "'host'"),
        (CheckKind.POSTGRES, {"dsn": "postgresql://db/x"}, "name the user"),
        (CheckKind.REDIS, {"url": "rediss://cache/0?ssl_ca_certs=/etc/shadow"}, "'ssl_ca_certs'"),
    ],
)
def test_server_file_paths_and_options_are_config_only(
    kind: CheckKind, settings: dict[str, Any], words: str
) -> None:
    problem = config_only_problem(kind, settings)
    assert problem is not None and words in problem


def test_plain_settings_are_not_config_only() -> None:
    assert config_only_problem(CheckKind.HTTP, {"url": "https://x", "ca_file": None}) is None
    dsn = "postgresql://probe:pw@db/app?sslmode=require&application_name=tw"
    assert config_only_problem(CheckKind.POSTGRES, {"dsn": dsn}) is None
    assert config_only_problem(CheckKind.REDIS, {"url": "redis://:pw@cache/0?db=2"}) is None


@pytest.mark.parametrize(
    ("kind", "settings", "host"),
    [
        (CheckKind.HTTP, {"url": "https://api.acme.example:8443/health"}, "api.acme.example"),
        (CheckKind.TCP, {"host": "db.internal", "port": 5432}, "db.internal"),
        (CheckKind.TLS, {"host": "acme.example"}, "acme.example"),
        (CheckKind.POSTGRES, {"dsn": "postgresql://u@pg.acme:5432/app"}, "pg.acme"),
        (CheckKind.REDIS, {"url": "redis://cache.acme:6379/0"}, "cache.acme"),
        (CheckKind.DNS, {"query_name": "acme.example"}, "resolver"),
        (CheckKind.DNS, {"query_name": "a", "nameserver": "1.1.1.1"}, "1.1.1.1"),
        (CheckKind.HEARTBEAT, {"period": 60}, ""),
        (CheckKind.TCP, {"host": "h"}, ""),  # unreadable settings: no host to limit
    ],
)
def test_the_host_a_check_talks_to_limits_its_concurrency(
    kind: CheckKind, settings: dict[str, object], host: str
) -> None:
    assert target_host(Check("acme.c", "acme", "c", kind, settings)) == host

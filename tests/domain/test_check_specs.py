"""Each kind's settings read into its typed spec, and unreadable settings name the problem."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tenantwatch.domain.check_specs import (
    DnsSpec,
    HeartbeatSpec,
    HttpSpec,
    InvalidSpec,
    PostgresSpec,
    PythonSpec,
    RedisSpec,
    SpecError,
    TcpSpec,
    TlsSpec,
    parse_spec,
    spec_or_invalid,
    status_ranges,
)
from tenantwatch.domain.checks import Check, CheckKind
from tenantwatch.domain.heartbeat import Schedule


def test_an_http_spec_reads_every_field_with_the_same_defaults_as_the_config() -> None:
    assert parse_spec(CheckKind.HTTP, {"url": "https://a.example/"}) == HttpSpec(
        url="https://a.example/"
    )
    spec = parse_spec(
        CheckKind.HTTP,
        {
            "url": "https://a.example/",
            "method": "POST",
            "headers": {"X-A": 1},
            "body": "hi",
            "basic_auth": {"username": "u", "password": "p"},
            "bearer_token": "t",
            "expected_status": [200, "3xx"],
            "follow_redirects": False,
            "verify_tls": False,
            "ca_file": "/ca.pem",
        },
    )
    assert spec == HttpSpec(
        url="https://a.example/",
        method="POST",
        headers=(("X-A", "1"),),
        body=b"hi",
        basic_auth=("u", "p"),
        bearer_token="t",
        expected_status=((200, 200), (300, 399)),
        follow_redirects=False,
        verify_tls=False,
        ca_file="/ca.pem",
    )


def test_a_tcp_spec_encodes_what_it_sends_and_expects() -> None:
    spec = parse_spec(CheckKind.TCP, {"host": "db", "port": "5432", "send": "PING", "expect": ""})
    assert spec == TcpSpec(host="db", port=5432, send=b"PING", expect=None)


def test_a_dns_spec_compares_answers_as_a_set() -> None:
    spec = parse_spec(CheckKind.DNS, {"query_name": "a.example", "expected_answers": ["1", "1"]})
    assert spec == DnsSpec(query_name="a.example", expected_answers=frozenset({"1"}))
    assert parse_spec(CheckKind.DNS, {"query_name": "a"}) == DnsSpec(query_name="a")


def test_tls_postgres_redis_and_python_specs() -> None:
    assert parse_spec(CheckKind.TLS, {"host": "h"}) == TlsSpec(host="h", port=443)
    assert parse_spec(CheckKind.POSTGRES, {"dsn": "postgres://h/db"}) == PostgresSpec(
        dsn="postgres://h/db", query="SELECT 1"
    )
    assert parse_spec(CheckKind.REDIS, {"url": "redis://h"}) == RedisSpec(url="redis://h")
    assert parse_spec(CheckKind.PYTHON, {"target": "m:f", "args": {"a": 1}}) == PythonSpec(
        target="m:f", args=(("a", 1),)
    )


def test_a_heartbeat_spec_gives_its_schedule() -> None:
    spec = parse_spec(CheckKind.HEARTBEAT, {"period": 60.0, "grace": "30"})
    assert spec == HeartbeatSpec(grace_s=30.0, period_s=60.0)
    assert isinstance(spec, HeartbeatSpec)
    assert spec.schedule() == Schedule(grace_s=30.0, period_s=60.0, cron=None, tz="UTC")


@pytest.mark.parametrize(
    ("kind", "settings", "error"),
    [
        (CheckKind.HTTP, {}, "'url'"),
        (CheckKind.HTTP, {"url": "http://a", "basic_auth": {"username": "u"}}, "'password'"),
        (
            CheckKind.HTTP,
            {"url": "http://a", "expected_status": ["600"]},
            "expected status '600' is not a status code; write 200, '200-299' or '2xx'",
        ),
        (CheckKind.TCP, {"host": "h", "port": "x"}, "invalid literal for int() with base 10: 'x'"),
        (CheckKind.TCP, {"host": "h"}, "'port'"),
        (CheckKind.DNS, {}, "'query_name'"),
        (
            CheckKind.TLS,
            {"host": "h", "port": None},
            "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'",
        ),
        (CheckKind.POSTGRES, {}, "'dsn'"),
        (CheckKind.REDIS, {}, "'url'"),
        (CheckKind.PYTHON, {}, "'target'"),
        (CheckKind.HEARTBEAT, {"grace": "soon"}, "could not convert string to float: 'soon'"),
    ],
)
def test_unreadable_settings_give_the_text_a_run_reports(
    kind: CheckKind, settings: dict[str, Any], error: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(kind, settings)
    assert str(caught.value) == error
    assert spec_or_invalid(kind, settings) == InvalidSpec(error)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(SpecError, match="gopher is not a check kind"):
        parse_spec("gopher", {})


def test_a_check_reads_its_spec_once_when_made() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    check = Check("c", "t", "c", CheckKind.TCP, {"host": "h", "port": 1}, created_at=at)
    assert check.spec == TcpSpec(host="h", port=1)
    broken = Check("c", "t", "c", CheckKind.TCP, {"host": "h"})
    assert broken.spec == InvalidSpec("'port'")


def test_status_ranges_read_codes_ranges_and_classes() -> None:
    assert status_ranges([204, "200-299", "5xx", "301"]) == (
        (204, 204),
        (200, 299),
        (500, 599),
        (301, 301),
    )

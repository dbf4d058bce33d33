"""The typed settings of each check kind, read once from the stored settings mapping."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tenantwatch.domain.heartbeat import Schedule

_STATUS_RANGE = re.compile(r"^([1-5]\d\d)\s*-\s*([1-5]\d\d)$")
_STATUS_CLASS = re.compile(r"^([1-5])xx$", re.IGNORECASE)


class SpecError(ValueError):
    """Settings that do not make a check of their kind; the text names what is wrong."""


def status_ranges(codes: list[int | str]) -> tuple[tuple[int, int], ...]:
    """Turn [200, "200-299", "2xx"] into inclusive ranges. Raise ValueError for bad entries."""
    out: list[tuple[int, int]] = []
    for code in codes:
        if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
            out.append((code, code))
            continue
        text = str(code).strip()
        if m := _STATUS_RANGE.fullmatch(text):
            low, high = int(m[1]), int(m[2])
            if low <= high:
                out.append((low, high))
                continue
        elif m := _STATUS_CLASS.fullmatch(text):
            out.append((int(m[1]) * 100, int(m[1]) * 100 + 99))
            continue
        elif text.isdigit() and 100 <= int(text) <= 599:
            out.append((int(text), int(text)))
            continue
        raise ValueError(
            f"expected status {code!r} is not a status code; write 200, '200-299' or '2xx'"
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class HttpSpec:
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    expected_status: tuple[tuple[int, int], ...] = ((200, 399),)
    follow_redirects: bool = True
    verify_tls: bool = True
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class TcpSpec:
    host: str
    port: int
    send: bytes | None = None
    expect: bytes | None = None


@dataclass(frozen=True, slots=True)
class DnsSpec:
    query_name: str
    record_type: str = "A"
    nameserver: str | None = None
    expected_answers: frozenset[str] | None = None
    expected_rcode: str = "NOERROR"


@dataclass(frozen=True, slots=True)
class TlsSpec:
    host: str
    port: int = 443
    server_name: str | None = None
    verify_chain: bool = True
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class PostgresSpec:
    dsn: str = field(repr=False)
    query: str = "SELECT 1"
    expected: str | None = None


@dataclass(frozen=True, slots=True)
class RedisSpec:
    url: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class PythonSpec:
    target: str
    args: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class HeartbeatSpec:
    grace_s: float = 3600.0
    period_s: float | None = None
    cron: str | None = None
    tz: str = "UTC"

    def schedule(self) -> Schedule:
        return Schedule(grace_s=self.grace_s, period_s=self.period_s, cron=self.cron, tz=self.tz)


Spec = (
    HttpSpec | TcpSpec | DnsSpec | TlsSpec | PostgresSpec | RedisSpec | PythonSpec | HeartbeatSpec
)


@dataclass(frozen=True, slots=True)
class InvalidSpec:
    """Stored settings that could not be read; a run of the check fails with `error`."""

    error: str


def _http(s: Mapping[str, Any]) -> HttpSpec:
    auth = s.get("basic_auth")
    body = s.get("body")
    return HttpSpec(
        url=s["url"],
        method=s.get("method", "GET"),
        headers=tuple((str(k), str(v)) for k, v in (s.get("headers") or {}).items()),
        body=body.encode() if isinstance(body, str) else None,
        basic_auth=(auth["username"], auth["password"]) if isinstance(auth, Mapping) else None,
        bearer_token=s.get("bearer_token"),
        expected_status=status_ranges(list(s.get("expected_status") or ["200-399"])),
        follow_redirects=bool(s.get("follow_redirects", True)),
        verify_tls=bool(s.get("verify_tls", True)),
        ca_file=s.get("ca_file"),
    )


def _tcp(s: Mapping[str, Any]) -> TcpSpec:
    send, expect = s.get("send"), s.get("expect")
    return TcpSpec(
        host=s["host"],
        port=int(s["port"]),
        send=send.encode() if send else None,
        expect=expect.encode() if expect else None,
    )


def _dns(s: Mapping[str, Any]) -> DnsSpec:
    answers = s.get("expected_answers")
    return DnsSpec(
        query_name=s["query_name"],
        record_type=s.get("record_type", "A"),
        nameserver=s.get("nameserver"),
        expected_answers=frozenset(answers) if answers is not None else None,
        expected_rcode=s.get("expected_rcode", "NOERROR"),
    )


def _tls(s: Mapping[str, Any]) -> TlsSpec:
    return TlsSpec(
        host=s["host"],
        port=int(s.get("port", 443)),
        server_name=s.get("server_name"),
        verify_chain=bool(s.get("verify_chain", True)),
        ca_file=s.get("ca_file"),
    )


def _postgres(s: Mapping[str, Any]) -> PostgresSpec:
    return PostgresSpec(dsn=s["dsn"], query=s.get("query", "SELECT 1"), expected=s.get("expected"))


def _redis(s: Mapping[str, Any]) -> RedisSpec:
    return RedisSpec(url=s["url"])


def _python(s: Mapping[str, Any]) -> PythonSpec:
    return PythonSpec(target=s["target"], args=tuple((s.get("args") or {}).items()))


def _heartbeat(s: Mapping[str, Any]) -> HeartbeatSpec:
    return HeartbeatSpec(
        grace_s=float(s.get("grace", 3600.0)),
        period_s=s.get("period"),
        cron=s.get("cron"),
        tz=s.get("tz", "UTC"),
    )


# keyed by the kinds' names (CheckKind is a StrEnum), so domain/checks.py can read specs
_READERS: dict[str, Callable[[Mapping[str, Any]], Spec]] = {
    "http": _http,
    "tcp": _tcp,
    "dns": _dns,
    "tls": _tls,
    "postgres": _postgres,
    "redis": _redis,
    "python": _python,
    "heartbeat": _heartbeat,
}


def parse_spec(kind: str, settings: Mapping[str, Any]) -> Spec:
    """Return the typed settings of a check of `kind`. Raise SpecError naming what is
    missing or unreadable (a missing field reads as its quoted name, e.g. "'url'")."""
    reader = _READERS.get(kind)
    if reader is None:
        raise SpecError(f"{kind} is not a check kind")
    try:
        return reader(settings)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise SpecError(str(exc)) from None


def spec_or_invalid(kind: str, settings: Mapping[str, Any]) -> Spec | InvalidSpec:
    """The typed settings, or InvalidSpec holding why they cannot be read."""
    try:
        return parse_spec(kind, settings)
    except SpecError as exc:
        return InvalidSpec(str(exc))

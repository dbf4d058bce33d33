"""Query a remote Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics).

Tenant enforcement rewrites the query before it leaves: the enforced matchers are added to
every selector of the parsed expression, and the tree is printed back by our own printer,
because promql-parser's `str()` loses subqueries without a step (`foo[5m:]` -> `foo[5m]`),
mangles `or` matchers and quoted label names, and prints negative `@` times as 0.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import aiohttp
import promql_parser as pp

from tenantwatch.promql.model import (
    ErrorType,
    Labels,
    Matcher,
    MatrixResult,
    PromQLError,
    QueryResult,
    Sample,
    ScalarResult,
    Series,
    StringResult,
    Value,
    VectorResult,
    labels_of,
)

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
# MatchOp values are not hashable, so this is a list searched by equality.
_MATCH_OPS = [
    (pp.MatchOp.Equal, "="),
    (pp.MatchOp.NotEqual, "!="),
    (pp.MatchOp.Re, "=~"),
    (pp.MatchOp.NotRe, "!~"),
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_KINDS: dict[str, ErrorType] = {
    k: k for k in ("bad_data", "execution", "timeout", "canceled", "internal", "unavailable")
}


# ---------------------------------------------------------------- credentials


@dataclass(frozen=True, slots=True)
class BasicAuth:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class BearerToken:
    """An `Authorization: <scheme> <token>` header; the scheme is Bearer unless told."""

    token: str = field(repr=False)
    scheme: str = "Bearer"


Auth = BasicAuth | BearerToken | None


def auth_headers(auth: Auth) -> dict[str, str]:
    """The Authorization header for auth (none for None)."""
    if isinstance(auth, BasicAuth):
        pair = f"{auth.username}:{auth.password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if isinstance(auth, BearerToken):
        return {"Authorization": f"{auth.scheme} {auth.token}"}
    return {}


def redact_url(url: str) -> str:
    """url without the user:password@ part, fit for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def with_url_credentials(url: str, auth: Auth) -> tuple[str, Auth]:
    """url without user:password@, and the auth to use: explicit auth wins over the URL's."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, auth
    from_url = BasicAuth(unquote(parts.username), unquote(parts.password or ""))
    return redact_url(url), auth or from_url


def secrets_of(url: str, auth: Auth) -> tuple[str, ...]:
    """Every credential that must never appear in a message."""
    parts = urlsplit(url)
    found = [parts.password or "", parts.username or ""]
    if isinstance(auth, BasicAuth):
        found.append(auth.password)
    elif isinstance(auth, BearerToken):
        found.append(auth.token)
    return tuple(s for s in found if len(s) >= 3)


def scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "<secret>")
    return text


# ---------------------------------------------------------------- PromQL printer


def enforce_query(query: str, enforce: Sequence[Matcher]) -> str:
    """query with enforce added to every selector; the original text when enforce is empty.

    Raises PromQLError("bad_data") when query does not parse: without a tree the matchers
    cannot be enforced, so nothing is sent.
    """
    if not enforce:
        return query
    try:
        expr = pp.parse(query)
    except ValueError as exc:
        raise PromQLError("bad_data", f"parse error: {exc}") from exc
    return _Printer(enforce).expr(expr)


def format_selector(matchers: Sequence[Matcher]) -> str:
    """`{a="b",c=~"d"}`, a series selector for match[]."""
    return "{" + ",".join(_matcher_text(m.name, m.op, m.value) for m in matchers) + "}"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _label(name: str) -> str:
    return name if _LABEL_NAME.match(name) else _quote(name)


def _matcher_text(name: str, op: str, value: str) -> str:
    return f"{_label(name)}{op}{_quote(value)}"


def _op_text(op: pp.MatchOp) -> str:
    for known, text in _MATCH_OPS:
        if op == known:
            return text
    raise PromQLError("internal", f"cannot forward the label matcher operator {op}")


def _number(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def format_duration(d: timedelta) -> str:
    """d in Prometheus' duration syntax (`1h30m`, `-5m`, `1s500ms`)."""
    ms = d // _MS
    if ms == 0:
        return "0s"
    sign, ms = ("-", -ms) if ms < 0 else ("", ms)
    out = []
    for unit, size in (
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ):
        count, ms = divmod(ms, size)
        if count:
            out.append(f"{count}{unit}")
    return sign + "".join(out)


class _Printer:
    """Prints a parsed expression back to PromQL, adding matchers to every selector."""

    def __init__(self, enforce: Sequence[Matcher]) -> None:
        self.extra = [_matcher_text(m.name, m.op, m.value) for m in enforce]

    def expr(self, e: Any) -> str:
        if isinstance(e, pp.VectorSelector):
            return self.selector(e) + self.modifiers(e.at, e.offset)
        if isinstance(e, pp.MatrixSelector):
            vs = e.vector_selector
            return f"{self.selector(vs)}[{format_duration(e.range)}]" + self.modifiers(
                vs.at, vs.offset
            )
        if isinstance(e, pp.SubqueryExpr):
            return self.subquery(e)
        if isinstance(e, pp.Call):
            return f"{e.func.name}({', '.join(self.expr(a) for a in e.args)})"
        if isinstance(e, pp.AggregateExpr):
            return self.aggregate(e)
        if isinstance(e, pp.BinaryExpr):
            return f"{self.expr(e.lhs)} {e.op}{self.bin_modifier(e.modifier)} {self.expr(e.rhs)}"
        if isinstance(e, pp.UnaryExpr):
            inner = e.expr
            negative = isinstance(inner, pp.NumberLiteral) and inner.val < 0
            text = self.expr(inner)
            return f"-({text})" if negative or isinstance(inner, pp.UnaryExpr) else f"-{text}"
        if isinstance(e, pp.ParenExpr):
            return f"({self.expr(e.expr)})"
        if isinstance(e, pp.NumberLiteral):
            return _number(e.val)
        if isinstance(e, pp.StringLiteral):
            return _quote(e.val)
        raise PromQLError("internal", f"cannot forward a {type(e).__name__} expression")

    def selector(self, vs: pp.VectorSelector) -> str:
        base = [_matcher_text(m.name, _op_text(m.op), m.value) for m in vs.matchers.matchers]
        name = vs.name or ""
        if name and not _METRIC_NAME.match(name):
            base.insert(0, _matcher_text("__name__", "=", name))
            name = ""
        groups = [
            [_matcher_text(m.name, _op_text(m.op), m.value) for m in group]
            for group in vs.matchers.or_matchers
        ]
        if groups:
            inner = " or ".join(",".join([*base, *g, *self.extra]) for g in groups)
        else:
            inner = ",".join([*base, *self.extra])
        return f"{name}{{{inner}}}"

    def subquery(self, e: pp.SubqueryExpr) -> str:
        inner = self.expr(e.expr)
        simple = (pp.VectorSelector, pp.Call, pp.ParenExpr, pp.AggregateExpr, pp.SubqueryExpr)
        if not isinstance(e.expr, simple):
            inner = f"({inner})"
        step = format_duration(e.step) if e.step is not None else ""
        return f"{inner}[{format_duration(e.range or timedelta(0))}:{step}]" + self.modifiers(
            e.at, e.offset
        )

    def aggregate(self, e: pp.AggregateExpr) -> str:
        grouping = ""
        if e.modifier is not None:
            kind = "by" if e.modifier.type == pp.AggModifierType.By else "without"
            grouping = f" {kind} ({', '.join(_label(n) for n in e.modifier.labels)}) "
        args = self.expr(e.expr)
        if e.param is not None:
            args = f"{self.expr(e.param)}, {args}"
        return f"{e.op}{grouping}({args})"

    def bin_modifier(self, m: pp.BinModifier | None) -> str:
        if m is None:
            return ""
        out = " bool" if m.return_bool else ""
        if m.matching is not None:
            kind = "on" if m.matching.type == pp.LabelModifierType.Include else "ignoring"
            out += f" {kind}({', '.join(_label(n) for n in m.matching.labels)})"
        if m.card in (pp.VectorMatchCardinality.ManyToOne, pp.VectorMatchCardinality.OneToMany):
            side = "left" if m.card == pp.VectorMatchCardinality.ManyToOne else "right"
            out += f" group_{side}({', '.join(_label(n) for n in m.group_labels or [])})"
        fill = m.fill_values
        if fill is not None and fill.lhs is not None and fill.lhs == fill.rhs:
            out += f" fill({_number(fill.lhs)})"
        elif fill is not None:
            if fill.lhs is not None:
                out += f" fill_left({_number(fill.lhs)})"
            if fill.rhs is not None:
                out += f" fill_right({_number(fill.rhs)})"
        return out

    def modifiers(self, at: pp.AtModifier | None, offset: timedelta | None) -> str:
        out = ""
        if at is not None:
            out += f" @ {_at_text(at)}"
        if offset is not None and offset != timedelta(0):
            out += f" offset {format_duration(offset)}"
        return out


def _at_text(at: pp.AtModifier) -> str:
    if at.type == pp.AtModifierType.Start:
        return "start()"
    if at.type == pp.AtModifierType.End:
        return "end()"
    try:
        when = at.at
    except BaseException as exc:
        # promql-parser panics reading an `@` before 1970; a panic is a BaseException.
        if type(exc).__name__ != "PanicException":
            raise
        when = None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when is None:
        raise PromQLError(
            "bad_data", "an @ time before 1970 cannot be forwarded to the remote backend"
        )
    ms = (when - _EPOCH) // _MS
    return f"{ms // 1000}.{ms % 1000:03d}"


# ---------------------------------------------------------------- results


def _ms(t: Any) -> int:
    return round(float(t) * 1000)


def _labels(metric: Any) -> Labels:
    if not isinstance(metric, Mapping):
        raise TypeError(f"expected a label object, got {metric!r:.80}")
    return labels_of({str(k): str(v) for k, v in metric.items()})


def decode_value(data: Mapping[str, Any]) -> Value:
    """The `data` of a Prometheus query response as a result value.

    Raises TypeError, KeyError or ValueError when data is not shaped like one.
    """
    kind, result = data["resultType"], data["result"]
    if kind == "vector":
        return VectorResult(
            tuple(
                Sample(_labels(r["metric"]), _ms(r["value"][0]), float(r["value"][1]))
                for r in result
            )
        )
    if kind == "matrix":
        return MatrixResult(
            tuple(
                Series(
                    _labels(r["metric"]),
                    tuple((_ms(t), float(v)) for t, v in r.get("values") or ()),
                )
                for r in result
            )
        )
    if kind == "scalar":
        return ScalarResult(_ms(result[0]), float(result[1]))
    if kind == "string":
        return StringResult(_ms(result[0]), str(result[1]))
    raise ValueError(f"unknown resultType {kind!r}")


def _texts(body: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(w) for w in body.get(key) or ())


def error_of(status: int, text: str, where: str) -> PromQLError:
    """A PromQLError for an unsuccessful answer, keeping Prometheus' errorType."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("status") == "error":
        fallback: ErrorType = "bad_data" if 400 <= status < 500 else "internal"
        kind = _KINDS.get(str(body.get("errorType", "")), fallback)
        return PromQLError(kind, str(body.get("error", "")) or f"HTTP {status}")
    snippet = " ".join(text.split())[:200]
    if status in (401, 403):
        return PromQLError(
            "unavailable",
            f"{where} refused the credentials (HTTP {status}); check metrics.auth",
        )
    return PromQLError("unavailable", f"{where} answered HTTP {status}: {snippet}")


def _seconds(ms: int) -> str:
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    return f"{sign}{ms // 1000}.{ms % 1000:03d}"


# ---------------------------------------------------------------- backend


class RemoteBackend:
    """The QueryBackend of a Prometheus-compatible server, through its HTTP API."""

    def __init__(
        self,
        url: str,
        *,
        auth: Auth = None,
        timeout: float = 120.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._secrets = secrets_of(url, auth)
        clean, self.auth = with_url_credentials(url, auth)
        self.url = clean.rstrip("/")
        self.timeout = timeout
        self._where = f"remote metrics backend {self.url}"
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> RemoteBackend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    async def instant(
        self,
        query: str,
        t: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
    ) -> QueryResult:
        form = [("query", enforce_query(query, enforce)), ("time", _seconds(t))]
        return await self._query("/api/v1/query", form, lookback_ms)

    async def range(
        self,
        query: str,
        start: int,
        end: int,
        step: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
    ) -> QueryResult:
        form = [
            ("query", enforce_query(query, enforce)),
            ("start", _seconds(start)),
            ("end", _seconds(end)),
            ("step", _seconds(step)),
        ]
        return await self._query("/api/v1/query_range", form, lookback_ms)

    async def series(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: int,
        maxt: int,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[Labels]:
        match = _match_params(selectors, enforce) or [("match[]", '{__name__=~".+"}')]
        data = await self._call("POST", "/api/v1/series", [*match, *_window(mint, maxt)])
        try:
            return sorted({_labels(s) for s in data})
        except (TypeError, AttributeError) as exc:
            raise self._odd(exc) from exc

    async def label_names(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: int,
        maxt: int,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]:
        form = [*_match_params(selectors, enforce), *_window(mint, maxt)]
        return self._strings(await self._call("POST", "/api/v1/labels", form))

    async def label_values(
        self,
        name: str,
        selectors: Sequence[Sequence[Matcher]],
        mint: int,
        maxt: int,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]:
        params = [*_match_params(selectors, enforce), *_window(mint, maxt)]
        path = f"/api/v1/label/{quote(name, safe='')}/values"
        return self._strings(await self._call("GET", path, params))

    # ---------------------------------------------------------------- plumbing

    async def _query(
        self, path: str, form: list[tuple[str, str]], lookback_ms: int | None
    ) -> QueryResult:
        form.append(("timeout", f"{self.timeout:g}s"))
        if lookback_ms is not None:
            form.append(("lookback_delta", f"{lookback_ms}ms"))
        body: dict[str, Any] = {}
        data = await self._call("POST", path, form, body)
        try:
            value = decode_value(data)
        except (TypeError, KeyError, ValueError, IndexError) as exc:
            raise self._odd(exc) from exc
        return QueryResult(value, _texts(body, "warnings"), _texts(body, "infos"))

    def _strings(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            raise self._odd(TypeError(f"expected a list, got {data!r:.80}"))
        return sorted({str(v) for v in data})

    def _odd(self, exc: Exception) -> PromQLError:
        return PromQLError("internal", f"{self._where} answered with an unexpected result: {exc}")

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=auth_headers(self.auth))
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        fields: list[tuple[str, str]],
        envelope: dict[str, Any] | None = None,
    ) -> Any:
        """The `data` of a successful answer; the whole body is copied into envelope."""
        url = self.url + path
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        extra = {} if self._owns_session else auth_headers(self.auth)
        send: dict[str, Any] = {"params": fields} if method == "GET" else {"data": fields}
        try:
            async with self._client().request(
                method, url, timeout=timeout, headers=extra, **send
            ) as resp:
                text = await resp.text()
                status = resp.status
        except TimeoutError as exc:
            raise PromQLError(
                "timeout", f"{self._where} did not answer within {self.timeout:g}s"
            ) from exc
        except aiohttp.ClientError as exc:
            reason = scrub(str(exc) or type(exc).__name__, self._secrets)
            raise PromQLError("unavailable", f"{self._where} is unreachable: {reason}") from exc
        if status != 200:
            error = error_of(status, text, self._where)
            raise PromQLError(error.kind, scrub(error.message, self._secrets))
        try:
            body = json.loads(text)
            data = body["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise self._odd(ValueError(f"not a Prometheus API answer: {text[:200]!r}")) from exc
        if envelope is not None and isinstance(body, dict):
            envelope.update(body)
        return data


def _match_params(
    selectors: Sequence[Sequence[Matcher]], enforce: Sequence[Matcher]
) -> list[tuple[str, str]]:
    """match[] fields: each selector with enforce added, or enforce alone when none."""
    if not selectors:
        return [("match[]", format_selector(enforce))] if enforce else []
    return [("match[]", format_selector([*s, *enforce])) for s in selectors]


def _window(mint: int, maxt: int) -> list[tuple[str, str]]:
    return [("start", _seconds(mint)), ("end", _seconds(maxt))]

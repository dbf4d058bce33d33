"""Query a remote Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics).

Tenant enforcement rewrites the query before it leaves: the enforced matchers are added to
every selector of the parsed expression by tenantwatch.promql.printer, which prints the tree
back exactly where promql-parser's own `str()` would not.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import aiohttp
import promql_parser as pp

from tenantwatch import jsonio
from tenantwatch.promql.model import (
    ErrorType,
    Matcher,
    MatrixResult,
    PromQLError,
    QueryResult,
    ScalarResult,
    Series,
    StringResult,
    Value,
    VectorResult,
    VectorSample,
    labels_of,
)
from tenantwatch.promql.printer import render, seconds, selector
from tenantwatch.types import Labels, Millis

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


# ---------------------------------------------------------------- tenant enforcement


def enforce_query(query: str, enforce: Sequence[Matcher]) -> str:
    """query with enforce added to every selector; the original text when enforce is empty.

    Raises PromQLError("bad_data") when query does not parse or cannot be printed back:
    without a tree the matchers cannot be enforced, so nothing is sent.
    """
    if not enforce:
        return query
    try:
        expr = pp.parse(query)
    except ValueError as exc:
        raise PromQLError("bad_data", f"parse error: {exc}") from exc
    try:
        return render(expr, enforce=enforce)
    except ValueError as exc:
        raise PromQLError(
            "bad_data", f"the query cannot be forwarded to the remote backend: {exc}"
        ) from exc


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
                VectorSample(_labels(r["metric"]), _ms(r["value"][0]), float(r["value"][1]))
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
        body = jsonio.loads(text)
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
        timeout_s: float | None = None,
    ) -> QueryResult:
        form = [("query", enforce_query(query, enforce)), ("time", seconds(t))]
        return await self._query("/api/v1/query", _timed(form, timeout_s), lookback_ms)

    async def range(
        self,
        query: str,
        start: int,
        end: int,
        step: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        form = [
            ("query", enforce_query(query, enforce)),
            ("start", seconds(start)),
            ("end", seconds(end)),
            ("step", seconds(step)),
        ]
        return await self._query("/api/v1/query_range", _timed(form, timeout_s), lookback_ms)

    async def series(
        self,
        selectors: Sequence[Sequence[Matcher]],
        mint: Millis,
        maxt: Millis,
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
        mint: Millis,
        maxt: Millis,
        *,
        enforce: Sequence[Matcher] = (),
    ) -> list[str]:
        form = [*_match_params(selectors, enforce), *_window(mint, maxt)]
        return self._strings(await self._call("POST", "/api/v1/labels", form))

    async def label_values(
        self,
        name: str,
        selectors: Sequence[Sequence[Matcher]],
        mint: Millis,
        maxt: Millis,
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
            body = jsonio.loads(text)
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
        return [("match[]", selector(enforce))] if enforce else []
    return [("match[]", selector([*s, *enforce])) for s in selectors]


def _window(mint: Millis, maxt: Millis) -> list[tuple[str, str]]:
    return [("start", seconds(mint)), ("end", seconds(maxt))]


def _timed(form: list[tuple[str, str]], timeout_s: float | None) -> list[tuple[str, str]]:
    """The form with Prometheus' `timeout` parameter, when the caller has one."""
    return form if timeout_s is None else [*form, ("timeout", f"{max(timeout_s, 0.001):.3f}s")]

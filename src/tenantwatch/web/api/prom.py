"""Prometheus' HTTP query API (/api/v1/query, query_range, series, labels, ...) for Grafana.

Every route needs a monitoring:read API key, sent as `Authorization: Bearer <key>` (in Grafana:
a custom HTTP header) or as HTTP basic auth with the key as the password and any user name
(Grafana's "Basic authentication" form). A key bound to a tenant only ever sees that tenant's
series: every query, series and label look-up carries a `tenant="<id>"` matcher that the engine
adds to every selector, whatever the query text says.

Answers use Prometheus' envelope and error types: bad_data is 400, execution 422, timeout and
canceled 503, internal 500. POST takes the same parameters form-encoded.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import promql_parser as pp
import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials
from prometheus_client.process_collector import ProcessCollector
from starlette.exceptions import HTTPException

from tenantwatch import __version__
from tenantwatch.domain.apikeys import Principal, Scope
from tenantwatch.gotext.times import format_rfc3339_micro
from tenantwatch.metrics.backend import QueryBackend
from tenantwatch.promql.model import Matcher, PromQLError, QueryResult
from tenantwatch.runtime.root import Runtime
from tenantwatch.types import Labels
from tenantwatch.web.api.prom_openapi import (
    ERRORS,
    BuildInfo,
    MetricMetadata,
    QueryData,
    RuntimeInfo,
    Success,
    parameters,
)
from tenantwatch.web.api.prom_params import (
    Form,
    expression_of,
    lookback_of,
    now_ms,
    read_form,
    selectors_of,
    span_of,
    timeout_of,
)
from tenantwatch.web.deps import Credentials, RuntimeDep, authenticate
from tenantwatch.web.errors import AUTH
from tenantwatch.web.prom_format import (
    TRUNCATED,
    check_range,
    failure,
    invalid,
    metric,
    parse_duration_ms,
    parse_limit,
    parse_time,
    query_data,
    sort_matrix,
    status_code,
    success,
    truncate,
    unescape_label_name,
)

log = structlog.get_logger("tenantwatch.web")
router = APIRouter(tags=["prometheus"], responses=AUTH)

API_VERSION = "3.0.0"  # the Prometheus API level served; Grafana enables features by it
Item = TypeVar("Item")

_basic = HTTPBasic(
    auto_error=False,
    description="any user name and an API key as the password (Grafana's basic auth form)",
)
BasicCredentials = Annotated[HTTPBasicCredentials | None, Depends(_basic)]


async def prom_reader(
    request: Request, rt: RuntimeDep, bearer: Credentials, basic: BasicCredentials
) -> Principal:
    """Return the caller from a Bearer key or from basic auth's password; demand read scope."""
    if basic is not None:
        bearer = HTTPAuthorizationCredentials(scheme="Bearer", credentials=basic.password)
    if bearer is None or bearer.scheme.lower() != "bearer":
        raise HTTPException(
            401,
            "missing API key; send Authorization: Bearer <key>, or basic auth with the key "
            "as the password",
            {"WWW-Authenticate": "Bearer"},
        )
    return await authenticate(request, rt, bearer, Scope.READ)


PromReader = Annotated[Principal, Depends(prom_reader)]


# -- request handling ------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    data: Any
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)


Work = Callable[[Form], Awaitable[Answer]]


async def respond(request: Request, work: Work) -> JSONResponse:
    """Run work on the request's parameters; answer in Prometheus' envelope, errors included."""
    try:
        answer = await work(await read_form(request))
    except PromQLError as exc:
        return JSONResponse(failure(exc.kind, exc.message), status_code=status_code(exc.kind))
    except Exception as exc:
        log.exception("query API error", path=request.url.path, error=type(exc).__name__)
        rid = request.scope.get("state", {}).get("request_id")
        message = f"internal error; quote request id {rid} when reporting it"
        return JSONResponse(failure("internal", message), status_code=500)
    return JSONResponse(success(answer.data, answer.warnings, answer.infos))


def backend(rt: Runtime) -> QueryBackend:
    """The runtime's query backend."""
    return rt.metrics.queries


def enforced(who: Principal) -> list[Matcher]:
    """The matchers a tenant-bound key's every selector gets."""
    return [Matcher.of("tenant", "=", who.tenant_id)] if who.tenant_id is not None else []


async def _evaluate(run: Awaitable[QueryResult], timeout_s: float) -> QueryResult:
    try:
        return await asyncio.wait_for(run, timeout_s)
    except TimeoutError:
        raise PromQLError("timeout", "query timed out in expression evaluation") from None
    except PromQLError as exc:
        if exc.kind == "bad_data" and not exc.message.startswith("invalid parameter"):
            raise invalid("query", exc.message) from None
        raise


def _query_answer(result: QueryResult, limit: int) -> Answer:
    value, cut = truncate(sort_matrix(result.value), limit)
    warnings = [*result.warnings, *([TRUNCATED] if cut else [])]
    return Answer(query_data(value), warnings, list(result.infos))


def _limited(items: list[Item], limit: int) -> tuple[list[Item], list[str]]:
    if 0 < limit < len(items):
        return items[:limit], [TRUNCATED]
    return items, []


def _routes(
    path: str,
    name: str,
    endpoint: Callable[..., Awaitable[JSONResponse]],
    *,
    summary: str,
    model: Any,
    params: Sequence[str],
    required: Sequence[str] = (),
    methods: Sequence[str] = ("GET", "POST"),
) -> None:
    for method in methods:
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            summary=summary,
            description=endpoint.__doc__,
            operation_id=f"prometheus_{name}_{method.lower()}",
            response_class=JSONResponse,
            responses={200: {"model": Success[model]}, **ERRORS},
            openapi_extra=parameters(method, params, required) if params else None,
        )


# -- routes ----------------------------------------------------------------------------------
async def query(request: Request, rt: RuntimeDep, who: PromReader) -> JSONResponse:
    """Evaluate an instant query, as Prometheus' GET|POST /api/v1/query."""

    async def work(form: Form) -> Answer:
        limit = parse_limit(form.get("limit"))
        at = form.get("time")
        t = parse_time(at, "time") if at else now_ms()
        timeout_s, lookback = timeout_of(form), lookback_of(form)
        run = backend(rt).instant(
            expression_of(form), t, enforce=enforced(who), lookback_ms=lookback, timeout_s=timeout_s
        )
        return _query_answer(await _evaluate(run, timeout_s), limit)

    return await respond(request, work)


async def query_range(request: Request, rt: RuntimeDep, who: PromReader) -> JSONResponse:
    """Evaluate a range query, as Prometheus' GET|POST /api/v1/query_range."""

    async def work(form: Form) -> Answer:
        limit = parse_limit(form.get("limit"))
        start = parse_time(form.get("start"), "start")
        end = parse_time(form.get("end"), "end")
        if end < start:
            raise invalid("end", "end timestamp must not be before start time")
        step = parse_duration_ms(form.get("step"), "step")
        check_range(start, end, step)
        timeout_s, lookback = timeout_of(form), lookback_of(form)
        run = backend(rt).range(
            expression_of(form),
            start,
            end,
            step,
            enforce=enforced(who),
            lookback_ms=lookback,
            timeout_s=timeout_s,
        )
        return _query_answer(await _evaluate(run, timeout_s), limit)

    return await respond(request, work)


async def series(request: Request, rt: RuntimeDep, who: PromReader) -> JSONResponse:
    """List the series matching any match[] selector, as Prometheus' /api/v1/series."""

    async def work(form: Form) -> Answer:
        if not form.getlist("match[]"):
            raise PromQLError("bad_data", "no match[] parameter provided")
        limit = parse_limit(form.get("limit"))
        mint, maxt = span_of(form)
        found: list[Labels] = await backend(rt).series(
            selectors_of(form), mint, maxt, enforce=enforced(who)
        )
        kept, warnings = _limited(found, limit)
        return Answer([metric(labels) for labels in kept], warnings)

    return await respond(request, work)


async def labels(request: Request, rt: RuntimeDep, who: PromReader) -> JSONResponse:
    """List label names, of the series matching match[] if given, as /api/v1/labels."""

    async def work(form: Form) -> Answer:
        limit = parse_limit(form.get("limit"))
        mint, maxt = span_of(form)
        names = await backend(rt).label_names(selectors_of(form), mint, maxt, enforce=enforced(who))
        return Answer(*_limited(names, limit))

    return await respond(request, work)


async def label_values(
    name: str, request: Request, rt: RuntimeDep, who: PromReader
) -> JSONResponse:
    """List a label's values, as /api/v1/label/<name>/values (`U__` escaped names decoded)."""

    async def work(form: Form) -> Answer:
        label = unescape_label_name(name)
        limit = parse_limit(form.get("limit"))
        mint, maxt = span_of(form)
        values = await backend(rt).label_values(
            label, selectors_of(form), mint, maxt, enforce=enforced(who)
        )
        return Answer(*_limited(values, limit))

    return await respond(request, work)


async def metadata(request: Request, who: PromReader) -> JSONResponse:
    """Metric metadata (type, help, unit) by metric name; none is kept yet, so always {}."""

    async def work(form: Form) -> Answer:
        for param in ("limit", "limit_per_metric"):
            text = form.get(param)
            if text and not text.lstrip("+-").isdigit():
                raise PromQLError("bad_data", f"{param} must be a number")
        return Answer({})

    return await respond(request, work)


async def query_exemplars(request: Request, who: PromReader) -> JSONResponse:
    """Exemplars of a query's series; none are kept, so the answer is always []."""

    async def work(form: Form) -> Answer:
        start, end = span_of(form)
        if end < start:
            raise PromQLError("bad_data", "end timestamp must not be before start timestamp")
        try:
            pp.parse(expression_of(form))
        except ValueError as exc:
            raise PromQLError("bad_data", str(exc)) from None
        return Answer([])

    return await respond(request, work)


async def format_query(request: Request, who: PromReader) -> JSONResponse:
    """Return the query pretty-printed, as /api/v1/format_query."""

    async def work(form: Form) -> Answer:
        try:
            text: str = pp.parse(expression_of(form)).prettify()
        except ValueError as exc:
            raise invalid("query", str(exc)) from None
        return Answer(text)

    return await respond(request, work)


async def buildinfo(request: Request, who: PromReader) -> JSONResponse:
    """Build information. `version` is the Prometheus API level served, which Grafana reads
    to choose features; tenantwatch's own version is in `revision` and `application`."""

    async def work(form: Form) -> Answer:
        return Answer(
            {
                "version": API_VERSION,
                "revision": f"tenantwatch-{__version__}",
                "branch": "tenantwatch",
                "buildUser": "tenantwatch",
                "buildDate": "",
                "goVersion": "",
                "application": f"tenantwatch {__version__}",
            }
        )

    return await respond(request, work)


def _process_start() -> float | None:
    for family in ProcessCollector(registry=None).collect():
        for sample in family.samples:
            if sample.name == "process_start_time_seconds":
                return float(sample.value)
    return None


async def runtimeinfo(request: Request, rt: RuntimeDep, who: PromReader) -> JSONResponse:
    """Runtime information in Prometheus' shape. CWD and hostname are left empty: tenants'
    keys may read this, and the server's layout is none of their business."""

    async def work(form: Form) -> Answer:
        now = time.time()
        started = format_rfc3339_micro(_process_start() or now)
        loaded = rt.last_config_time
        return Answer(
            {
                "startTime": started,
                "CWD": "",
                "hostname": "",
                "serverTime": format_rfc3339_micro(now),
                "reloadConfigSuccess": rt.last_reload_ok,
                "lastConfigTime": format_rfc3339_micro(loaded) if loaded else started,
                "corruptionCount": 0,
                "goroutineCount": threading.active_count(),
                "GOMAXPROCS": os.cpu_count() or 1,
                "GOMEMLIMIT": 0,
                "GOGC": "",
                "GODEBUG": "",
                "storageRetention": "15d",
            }
        )

    return await respond(request, work)


_RANGE = ("start", "end")
_routes(
    "/api/v1/query",
    "query",
    query,
    summary="Instant query (Prometheus API)",
    model=QueryData,
    params=("query", "time", "timeout", "limit", "lookback_delta", "stats"),
    required=("query",),
)
_routes(
    "/api/v1/query_range",
    "query_range",
    query_range,
    summary="Range query (Prometheus API)",
    model=QueryData,
    params=("query", *_RANGE, "step", "timeout", "limit", "lookback_delta", "stats"),
    required=("query", *_RANGE, "step"),
)
_routes(
    "/api/v1/series",
    "series",
    series,
    summary="Series by label matchers (Prometheus API)",
    model=list[dict[str, str]],
    params=("match[]", *_RANGE, "limit"),
    required=("match[]",),
)
_routes(
    "/api/v1/labels",
    "labels",
    labels,
    summary="Label names (Prometheus API)",
    model=list[str],
    params=("match[]", *_RANGE, "limit"),
)
_routes(
    "/api/v1/label/{name}/values",
    "label_values",
    label_values,
    summary="Values of a label (Prometheus API)",
    model=list[str],
    params=("match[]", *_RANGE, "limit"),
    methods=("GET",),
)
_routes(
    "/api/v1/metadata",
    "metadata",
    metadata,
    summary="Metric metadata (Prometheus API)",
    model=dict[str, list[MetricMetadata]],
    params=("metric", "limit", "limit_per_metric"),
    methods=("GET",),
)
_routes(
    "/api/v1/query_exemplars",
    "query_exemplars",
    query_exemplars,
    summary="Exemplars (Prometheus API; none are kept)",
    model=list[Any],
    params=("query", *_RANGE),
    required=("query",),
)
_routes(
    "/api/v1/format_query",
    "format_query",
    format_query,
    summary="Pretty-print a query (Prometheus API)",
    model=str,
    params=("query",),
    required=("query",),
)
_routes(
    "/api/v1/status/buildinfo",
    "buildinfo",
    buildinfo,
    summary="Build information (Prometheus API)",
    model=BuildInfo,
    params=(),
    methods=("GET",),
)
_routes(
    "/api/v1/status/runtimeinfo",
    "runtimeinfo",
    runtimeinfo,
    summary="Runtime information (Prometheus API)",
    model=RuntimeInfo,
    params=(),
    methods=("GET",),
)

"""The Prometheus-compatible query API: envelope, parameters, errors, auth and tenant isolation.

JSON-shape tests run against a backend that answers fixed results (and records what it was
asked); series, labels and queries also run against the real EmbeddedBackend over a Head.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenantwatch.domain.apikeys import Scope
from tenantwatch.metrics.backend import EmbeddedBackend
from tenantwatch.metrics.head import Head
from tenantwatch.promql.model import (
    Matcher,
    MatrixResult,
    PromQLError,
    QueryResult,
    ScalarResult,
    Series,
    StringResult,
    VectorResult,
    VectorSample,
    labels_of,
)
from tenantwatch.runtime.root import Runtime
from tenantwatch.types import Labels
from tenantwatch.web.api import prom
from tenantwatch.web.app import create_app
from tests.conftest import KeyMaker
from tests.support import bearer

T0 = 1_700_000_000_000  # ms; samples every 15 s up to T0
STEP = 15_000
UP_API = (("__name__", "up"), ("job", "api"))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the database holds nothing but the API keys these tests use."""
    return f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}"


@dataclass
class FixedBackend:
    """Answers every query with `answer` (or raises it) and records the calls."""

    answer: QueryResult | BaseException
    delay: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def _give(self, **call: Any) -> QueryResult:
        self.calls.append(call)
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    async def instant(
        self,
        query: str,
        t: int,
        *,
        enforce: Sequence[Matcher] = (),
        lookback_ms: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        return await self._give(
            kind="instant", query=query, t=t, enforce=list(enforce), lookback_ms=lookback_ms
        )

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
        return await self._give(
            kind="range",
            query=query,
            start=start,
            end=end,
            step=step,
            enforce=list(enforce),
            lookback_ms=lookback_ms,
        )

    async def series(self, *args: Any, **kwargs: Any) -> list[Labels]:
        raise AssertionError("not used")

    async def label_names(self, *args: Any, **kwargs: Any) -> list[str]:
        raise AssertionError("not used")

    async def label_values(self, *args: Any, **kwargs: Any) -> list[str]:
        raise AssertionError("not used")


def filled_head() -> Head:
    """Two tenants, two jobs each: `up` (1) and a counter growing 10 per 15 s, for 10 min."""
    head = Head()
    for tenant in ("alpha", "bravo"):
        for job in ("api", "db"):
            up = labels_of({"__name__": "up", "tenant": tenant, "job": job})
            total = labels_of({"__name__": "x_total", "tenant": tenant, "job": job})
            for i in range(41):
                t = T0 - (40 - i) * STEP
                head.append(up, t, 1.0)
                head.append(total, t, 10.0 * i)
    head.append(labels_of({"__name__": "build_info", "version": "1"}), T0, 1.0)
    return head


@dataclass
class Metrics:
    """Stands in for the runtime's metrics side where the runtime has none."""

    queries: object

    async def stop(self) -> None:
        return None


def use(runtime: Runtime, queries: object) -> None:
    """Answer the API's queries from `queries` (the runtime's own store stays unopened)."""
    metrics = getattr(runtime, "metrics", None)
    if metrics is None:
        runtime.metrics = Metrics(queries)  # type: ignore[assignment]
    else:
        metrics.queries = queries


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The real app, Prometheus routes included."""
    app = create_app(runtime.settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tw.test") as c:
        yield c


@pytest.fixture
async def reader(make_key: KeyMaker) -> dict[str, str]:
    return bearer(await make_key(Scope.READ))


@pytest.fixture
def embedded(runtime: Runtime) -> Head:
    head = filled_head()
    use(runtime, EmbeddedBackend(head))
    return head


def fixed(runtime: Runtime, answer: QueryResult | BaseException, delay: float = 0) -> FixedBackend:
    backend = FixedBackend(answer, delay)
    use(runtime, backend)
    return backend


# -- envelope and result shapes ------------------------------------------------------------
async def test_an_instant_vector_has_prometheus_envelope(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str]
) -> None:
    fixed(runtime, QueryResult(VectorResult((VectorSample(UP_API, 1_435_781_451_781, 1.0),))))
    r = await api.get(
        "/api/v1/query", params={"query": "up", "time": "1435781451.781"}, headers=reader
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"__name__": "up", "job": "api"}, "value": [1435781451.781, "1"]}
            ],
        },
    }


async def test_scalar_and_string_results(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str]
) -> None:
    fixed(runtime, QueryResult(ScalarResult(T0, 2.0)))
    r = await api.get(
        "/api/v1/query", params={"query": "1+1", "time": "1700000000"}, headers=reader
    )
    assert r.json()["data"] == {"resultType": "scalar", "result": [1700000000, "2"]}
    fixed(runtime, QueryResult(StringResult(T0, "hello")))
    r = await api.get("/api/v1/query", params={"query": '"hello"'}, headers=reader)
    assert r.json()["data"] == {"resultType": "string", "result": [1700000000, "hello"]}


async def test_a_range_answer_is_a_matrix_sorted_by_labels(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str]
) -> None:
    b = labels_of({"__name__": "x", "job": "b"})
    a = labels_of({"__name__": "x", "job": "a"})
    backend = fixed(
        runtime,
        QueryResult(
            MatrixResult((Series(b, ((T0, 1.0),)), Series(a, ((T0 - STEP, 0.5), (T0, math.nan)))))
        ),
    )
    params = {"query": "x", "start": "1699999985", "end": "2023-11-14T22:13:20Z", "step": "15s"}
    r = await api.get("/api/v1/query_range", params=params, headers=reader)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {
        "resultType": "matrix",
        "result": [
            {
                "metric": {"__name__": "x", "job": "a"},
                "values": [[1699999985, "0.5"], [1700000000, "NaN"]],
            },
            {"metric": {"__name__": "x", "job": "b"}, "values": [[1700000000, "1"]]},
        ],
    }
    assert backend.calls == [
        {
            "kind": "range",
            "query": "x",
            "start": T0 - STEP,
            "end": T0,
            "step": STEP,
            "enforce": [],
            "lookback_ms": None,
        }
    ]


async def test_warnings_and_infos_come_back_beside_data(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str]
) -> None:
    fixed(runtime, QueryResult(VectorResult(()), ("careful",), ("fyi",)))
    r = await api.get("/api/v1/query", params={"query": "up"}, headers=reader)
    body = r.json()
    assert body["warnings"] == ["careful"] and body["infos"] == ["fyi"]
    assert body["data"] == {"resultType": "vector", "result": []}


async def test_post_form_equals_get(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str]
) -> None:
    backend = fixed(runtime, QueryResult(VectorResult((VectorSample(UP_API, T0, 1.0),))))
    form = {"query": "up", "time": "2023-11-14T22:13:20Z", "lookback_delta": "1m", "stats": "all"}
    got = await api.get("/api/v1/query", params=form, headers=reader)
    posted = await api.post("/api/v1/query", data=form, headers=reader)
    assert posted.status_code == 200 and posted.json() == got.json()
    assert (
        backend.calls[0]
        == backend.calls[1]
        == {
            "kind": "instant",
            "query": "up",
            "t": T0,
            "enforce": [],
            "lookback_ms": 60_000,
        }
    )


async def test_time_defaults_to_now(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str]
) -> None:
    backend = fixed(runtime, QueryResult(VectorResult(())))
    before = int(time.time() * 1000)
    await api.get("/api/v1/query", params={"query": "up"}, headers=reader)
    assert before <= backend.calls[0]["t"] <= int(time.time() * 1000)


async def test_limit_truncates_with_a_warning(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str]
) -> None:
    samples = tuple(VectorSample(labels_of({"i": str(i)}), T0, i) for i in range(3))
    fixed(runtime, QueryResult(VectorResult(samples)))
    r = await api.get("/api/v1/query", params={"query": "x", "limit": "2"}, headers=reader)
    assert len(r.json()["data"]["result"]) == 2
    assert r.json()["warnings"] == ["results truncated due to limit"]


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"start": "100", "end": "50", "step": "1"},
            'invalid parameter "end": end timestamp must not be before start time',
        ),
        (
            {"start": "0", "end": "50", "step": "0"},
            'invalid parameter "step": zero or negative query resolution step widths are not '
            "accepted. Try a positive integer",
        ),
        (
            {"start": "0", "end": "50", "step": "-1s"},
            "invalid parameter \"step\": cannot parse '-1s' to a valid duration; write seconds "
            "(15, 0.5) or a duration (15s, 5m, 1h30m)",
        ),
        (
            {"start": "0", "end": "11001", "step": "1"},
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
            "query resolution (?step=XX)",
        ),
        (
            {"start": "soon", "end": "50", "step": "1"},
            "invalid parameter \"start\": cannot parse 'soon' to a valid timestamp; write unix "
            "seconds (1700000000.5) or RFC3339 (2024-01-02T15:04:05Z)",
        ),
        ({"end": "50", "step": "1"}, 'invalid parameter "start": required;'),
    ],
)
async def test_bad_range_parameters_are_bad_data(
    api: httpx.AsyncClient,
    runtime: Runtime,
    reader: dict[str, str],
    params: dict[str, str],
    message: str,
) -> None:
    backend = fixed(runtime, QueryResult(VectorResult(())))
    r = await api.post("/api/v1/query_range", data={"query": "up", **params}, headers=reader)
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "error" and body["errorType"] == "bad_data"
    assert body["error"].startswith(message)
    assert backend.calls == []


@pytest.mark.parametrize(
    ("error", "status", "kind", "message"),
    [
        (
            PromQLError("bad_data", "1:4: unexpected end"),
            400,
            "bad_data",
            'invalid parameter "query": 1:4: unexpected end',
        ),
        (
            PromQLError("execution", "many-to-many matching not allowed"),
            422,
            "execution",
            "many-to-many matching not allowed",
        ),
        (PromQLError("timeout", "query timed out"), 503, "timeout", "query timed out"),
        (PromQLError("internal", "broken"), 500, "internal", "broken"),
        (RuntimeError("bug"), 500, "internal", "internal error; quote request id"),
    ],
)
async def test_engine_errors_map_to_prometheus_types_and_statuses(
    api: httpx.AsyncClient,
    runtime: Runtime,
    reader: dict[str, str],
    error: BaseException,
    status: int,
    kind: str,
    message: str,
) -> None:
    fixed(runtime, error)
    r = await api.get("/api/v1/query", params={"query": "up"}, headers=reader)
    assert r.status_code == status
    body = r.json()
    assert body["status"] == "error" and body["errorType"] == kind
    assert body["error"].startswith(message)


async def test_a_query_over_its_timeout_is_503(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str]
) -> None:
    fixed(runtime, QueryResult(VectorResult(())), delay=2)
    r = await api.get("/api/v1/query", params={"query": "up", "timeout": "50ms"}, headers=reader)
    assert r.status_code == 503
    assert r.json() == {
        "status": "error",
        "errorType": "timeout",
        "error": "query timed out in expression evaluation",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, 'invalid parameter "query": no expression given'),
        ({"query": "up", "time": "noon"}, 'invalid parameter "time": cannot parse'),
        ({"query": "up", "timeout": "soon"}, 'invalid parameter "timeout": cannot parse'),
        ({"query": "up", "limit": "-1"}, 'invalid parameter "limit": limit must be non-negative'),
        ({"query": "up", "lookback_delta": "x"}, 'invalid parameter "lookback_delta": cannot'),
    ],
)
async def test_bad_instant_parameters_are_bad_data(
    api: httpx.AsyncClient,
    runtime: Runtime,
    reader: dict[str, str],
    params: dict[str, str],
    message: str,
) -> None:
    fixed(runtime, QueryResult(VectorResult(())))
    r = await api.get("/api/v1/query", params=params, headers=reader)
    assert r.status_code == 400 and r.json()["errorType"] == "bad_data"
    assert r.json()["error"].startswith(message)


async def test_a_form_body_that_is_not_utf8_is_bad_data(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str]
) -> None:
    fixed(runtime, QueryResult(VectorResult(())))
    headers = {**reader, "Content-Type": "application/x-www-form-urlencoded"}
    r = await api.post("/api/v1/query", content=b"query=\xff", headers=headers)
    assert r.status_code == 400
    assert r.json()["error"] == "error parsing form values: body is not UTF-8"


# -- auth --------------------------------------------------------------------------------------
async def test_every_route_needs_a_key(api: httpx.AsyncClient, runtime: Runtime) -> None:
    fixed(runtime, QueryResult(VectorResult(())))
    for path in (
        "/api/v1/query?query=up",
        "/api/v1/query_range",
        "/api/v1/series",
        "/api/v1/labels",
        "/api/v1/label/job/values",
        "/api/v1/metadata",
        "/api/v1/query_exemplars",
        "/api/v1/format_query",
        "/api/v1/status/buildinfo",
        "/api/v1/status/runtimeinfo",
    ):
        r = await api.get(path)
        assert r.status_code == 401, path
        assert "basic auth with the key as the password" in r.json()["detail"]


async def test_basic_auth_takes_the_key_as_password(
    api: httpx.AsyncClient, runtime: Runtime, make_key: KeyMaker
) -> None:
    fixed(runtime, QueryResult(ScalarResult(T0, 2.0)))
    key = await make_key(Scope.READ)

    def basic(user: str, password: str) -> dict[str, str]:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    r = await api.post("/api/v1/query", data={"query": "1+1"}, headers=basic("grafana", key))
    assert r.status_code == 200 and r.json()["data"]["result"][1] == "2"
    r = await api.post("/api/v1/query", data={"query": "1+1"}, headers=basic(key, "nope"))
    assert r.status_code == 401


async def test_a_tenant_key_passes_its_tenant_matcher_to_the_engine(
    api: httpx.AsyncClient, runtime: Runtime, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    backend = fixed(runtime, QueryResult(VectorResult(())))
    alpha = bearer(await make_key(Scope.READ, tenant="alpha"))
    await api.get("/api/v1/query", params={"query": '{tenant="bravo"}'}, headers=alpha)
    await api.post(
        "/api/v1/query_range",
        data={"query": "up", "start": "0", "end": "60", "step": "15"},
        headers=alpha,
    )
    assert [c["enforce"] for c in backend.calls] == [[Matcher.of("tenant", "=", "alpha")]] * 2
    assert backend.calls[0]["query"] == '{tenant="bravo"}'  # the text is not rewritten


# -- series, labels, values (EmbeddedBackend over a Head) -----------------------------------
async def test_series_lists_matching_series_sorted(
    api: httpx.AsyncClient, embedded: Head, reader: dict[str, str]
) -> None:
    r = await api.get(
        "/api/v1/series", params={"match[]": ['up{job="api"}', "build_info"]}, headers=reader
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "success",
        "data": [
            {"__name__": "build_info", "version": "1"},
            {"__name__": "up", "job": "api", "tenant": "alpha"},
            {"__name__": "up", "job": "api", "tenant": "bravo"},
        ],
    }


async def test_series_needs_a_valid_non_empty_match(
    api: httpx.AsyncClient, embedded: Head, reader: dict[str, str]
) -> None:
    r = await api.get("/api/v1/series", headers=reader)
    assert r.status_code == 400 and r.json()["error"] == "no match[] parameter provided"
    r = await api.get("/api/v1/series", params={"match[]": "up{"}, headers=reader)
    assert r.status_code == 400 and r.json()["error"].startswith('invalid parameter "match[]"')
    r = await api.get("/api/v1/series", params={"match[]": '{job=~".*"}'}, headers=reader)
    assert r.status_code == 400
    assert "at least one non-empty matcher" in r.json()["error"]


async def test_series_time_range_and_limit(
    api: httpx.AsyncClient, embedded: Head, reader: dict[str, str]
) -> None:
    params = {"match[]": "build_info", "start": "1700000001", "end": "1700000100"}
    r = await api.post("/api/v1/series", data=params, headers=reader)
    assert r.json()["data"] == []
    r = await api.get("/api/v1/series", params={"match[]": "up", "limit": "1"}, headers=reader)
    assert len(r.json()["data"]) == 1
    assert r.json()["warnings"] == ["results truncated due to limit"]


async def test_labels_and_label_values(
    api: httpx.AsyncClient, embedded: Head, reader: dict[str, str]
) -> None:
    r = await api.get("/api/v1/labels", headers=reader)
    assert r.json()["data"] == ["__name__", "job", "tenant", "version"]
    r = await api.post("/api/v1/labels", data={"match[]": "build_info"}, headers=reader)
    assert r.json()["data"] == ["__name__", "version"]
    r = await api.get("/api/v1/label/__name__/values", headers=reader)
    assert r.json()["data"] == ["build_info", "up", "x_total"]
    r = await api.get("/api/v1/label/job/values", params={"match[]": "up"}, headers=reader)
    assert r.json()["data"] == ["api", "db"]
    r = await api.get("/api/v1/label/U__j_6f_b/values", headers=reader)  # "job", escaped
    assert r.json()["data"] == ["api", "db"]
    r = await api.get("/api/v1/label/nope/values", headers=reader)
    assert r.json() == {"status": "success", "data": []}


async def test_a_tenant_key_sees_only_its_own_series_and_labels(
    api: httpx.AsyncClient, embedded: Head, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    alpha = bearer(await make_key(Scope.READ, tenant="alpha"))
    r = await api.get("/api/v1/series", params={"match[]": '{tenant="bravo"}'}, headers=alpha)
    assert r.json()["data"] == []
    r = await api.get("/api/v1/series", params={"match[]": '{__name__=~".+"}'}, headers=alpha)
    assert r.json()["data"] and {s["tenant"] for s in r.json()["data"]} == {"alpha"}
    r = await api.get("/api/v1/label/tenant/values", headers=alpha)
    assert r.json()["data"] == ["alpha"]
    r = await api.get("/api/v1/label/__name__/values", headers=alpha)
    assert r.json()["data"] == ["up", "x_total"]  # build_info has no tenant
    r = await api.get("/api/v1/labels", headers=alpha)
    assert "version" not in r.json()["data"]


# -- what Grafana calls besides queries ------------------------------------------------------
async def test_buildinfo_runtimeinfo_metadata_exemplars(
    api: httpx.AsyncClient, embedded: Head, reader: dict[str, str]
) -> None:
    info = (await api.get("/api/v1/status/buildinfo", headers=reader)).json()
    assert info["status"] == "success" and info["data"]["version"] == "3.0.0"
    assert info["data"]["application"].startswith("tenantwatch ")
    rt = (await api.get("/api/v1/status/runtimeinfo", headers=reader)).json()["data"]
    assert rt["serverTime"].endswith("Z") and rt["startTime"] <= rt["serverTime"]
    assert rt["hostname"] == "" and rt["CWD"] == ""
    meta = await api.get("/api/v1/metadata", headers=reader)
    assert meta.json() == {"status": "success", "data": {}}
    ex = await api.post(
        "/api/v1/query_exemplars",
        data={"query": "up", "start": "0", "end": "100"},
        headers=reader,
    )
    assert ex.json() == {"status": "success", "data": []}
    bad = await api.get("/api/v1/query_exemplars", params={"query": "up{"}, headers=reader)
    assert bad.status_code == 400 and bad.json()["errorType"] == "bad_data"


async def test_format_query_pretty_prints(
    api: httpx.AsyncClient, embedded: Head, reader: dict[str, str]
) -> None:
    r = await api.get("/api/v1/format_query", params={"query": "sum(up)by(job)"}, headers=reader)
    assert r.json() == {"status": "success", "data": "sum by (job) (up)"}
    r = await api.post("/api/v1/format_query", data={"query": "sum("}, headers=reader)
    assert r.status_code == 400 and r.json()["error"].startswith('invalid parameter "query"')


async def test_every_route_is_documented_with_auth_and_errors(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    ops = {
        (method.upper(), path): op
        for path, item in paths.items()
        for method, op in item.items()
        if path in {r.path for r in prom.router.routes}  # type: ignore[attr-defined]
    }
    assert ("POST", "/api/v1/query_range") in ops and ("GET", "/api/v1/label/{name}/values") in ops
    assert len(ops) == 16
    for (method, path), op in ops.items():
        assert {"401", "403"} <= set(op["responses"]), (method, path)
        if path != "/api/v1/status/buildinfo" and path != "/api/v1/status/runtimeinfo":
            assert "400" in op["responses"]
        if method == "POST":
            assert "application/x-www-form-urlencoded" in op["requestBody"]["content"]
    assert {p["name"] for p in ops[("GET", "/api/v1/query_range")]["parameters"]} >= {
        "query",
        "start",
        "end",
        "step",
    }


# -- the real engine (pass once the PromQL engine is in) -------------------------------------
async def test_instant_query_with_the_engine(
    api: httpx.AsyncClient, embedded: Head, reader: dict[str, str]
) -> None:
    r = await api.get("/api/v1/query", params={"query": "up", "time": "1700000000"}, headers=reader)
    assert r.status_code == 200, r.text
    result = r.json()["data"]["result"]
    assert {(s["metric"]["tenant"], s["metric"]["job"]) for s in result} == {
        ("alpha", "api"),
        ("alpha", "db"),
        ("bravo", "api"),
        ("bravo", "db"),
    }
    assert all(s["value"] == [1700000000, "1"] for s in result)


async def test_aggregation_with_the_engine(
    api: httpx.AsyncClient, embedded: Head, reader: dict[str, str]
) -> None:
    r = await api.post(
        "/api/v1/query",
        data={"query": "sum by (tenant) (x_total)", "time": "1700000000"},
        headers=reader,
    )
    assert r.status_code == 200, r.text
    got = {s["metric"]["tenant"]: s["value"] for s in r.json()["data"]["result"]}
    assert got == {"alpha": [1700000000, "800"], "bravo": [1700000000, "800"]}


async def test_range_rate_with_the_engine(
    api: httpx.AsyncClient, embedded: Head, reader: dict[str, str]
) -> None:
    params = {
        "query": 'rate(x_total{job="api"}[5m])',
        "start": "1699999700",
        "end": "1700000000",
        "step": "60",
    }
    r = await api.get("/api/v1/query_range", params=params, headers=reader)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["resultType"] == "matrix"
    assert [s["metric"] for s in data["result"]] == [
        {"job": "api", "tenant": "alpha"},
        {"job": "api", "tenant": "bravo"},
    ]
    for s in data["result"]:
        assert [t for t, _ in s["values"]] == list(range(1699999700, 1700000001, 60))
        assert all(math.isclose(float(v), 10 / 15) for _, v in s["values"])


async def test_a_tenant_key_queries_only_its_tenant_with_the_engine(
    api: httpx.AsyncClient, embedded: Head, make_key: KeyMaker, two_tenants: tuple[str, str]
) -> None:
    alpha = bearer(await make_key(Scope.READ, tenant="alpha"))
    at = {"time": "1700000000"}
    for query in ('{tenant="bravo"}', 'up{tenant="bravo"}', 'x_total{tenant!="alpha"}'):
        r = await api.get("/api/v1/query", params={"query": query, **at}, headers=alpha)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["result"] == [], query
    r = await api.get("/api/v1/query", params={"query": '{__name__=~".+"}', **at}, headers=alpha)
    assert r.json()["data"]["result"]
    assert {s["metric"]["tenant"] for s in r.json()["data"]["result"]} == {"alpha"}
    r = await api.get(
        "/api/v1/query", params={"query": "sum by (tenant) (up)", **at}, headers=alpha
    )
    assert r.json()["data"]["result"] == [
        {"metric": {"tenant": "alpha"}, "value": [1700000000, "2"]}
    ]


# -- side by side with a real Prometheus holding the same data -------------------------------
def _same_data(end_ms: int) -> tuple[Head, str]:
    """Samples for 30 min before end_ms, 7 ms off the 15 s grid (see tests/prometheus_server),
    as a Head and as OpenMetrics text for promtool."""
    head = Head()
    families: dict[str, list[str]] = {}
    series = {
        ("up", "gauge"): lambda i: 1.0,
        ("x", "counter"): lambda i: 10.0 * i,
        ("tiny", "gauge"): lambda i: 0.00001 * (i % 3),
        ("huge", "gauge"): lambda i: 1e17 + 1e15 * i,
    }
    for (family, kind), value in series.items():
        lines = families.setdefault(f"# TYPE {family} {kind}", [])
        name = f"{family}_total" if kind == "counter" else family
        for tenant in ("alpha", "bravo"):
            for job in ("api", "db"):
                labels = labels_of({"__name__": name, "tenant": tenant, "job": job})
                for i in range(121):
                    t = end_ms - (120 - i) * STEP + 7
                    v = value(i)
                    head.append(labels, t, v)
                    lines.append(f'{name}{{job="{job}",tenant="{tenant}"}} {v!r} {t / 1000:.3f}')
    text = "".join(
        f"{head_line}\n" + "\n".join(body) + "\n" for head_line, body in families.items()
    )
    return head, text + "# EOF\n"


def _normal(body: Any) -> Any:
    """Prometheus orders an instant vector and a series list as its storage does; sort both."""
    data = body.get("data")
    if isinstance(data, dict) and data.get("resultType") == "vector":
        data["result"].sort(key=lambda s: sorted(s["metric"].items()))
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data.sort(key=lambda m: sorted(m.items()))
    return body


async def test_answers_match_a_real_prometheus(
    api: httpx.AsyncClient, runtime: Runtime, reader: dict[str, str], tmp_path: Path
) -> None:
    from tests.prometheus_server import load_openmetrics, prometheus, require_prometheus

    require_prometheus()
    end_ms = (int(time.time()) // 60) * 60_000
    head, om = _same_data(end_ms)
    use(runtime, EmbeddedBackend(head))
    (tmp_path / "data.om").write_text(om)
    load_openmetrics(tmp_path / "prom" / "data", tmp_path / "data.om")
    end = str(end_ms // 1000)
    start = str(end_ms // 1000 - 600)
    instant = [
        "up",
        "sum by (tenant) (x_total)",
        "rate(x_total[5m])",
        "x_total > 1150",
        "tiny",
        "huge",
        "1+1",
        '"hello"',
        "up[1m]",
        "sum(",
        "nosuch",
    ]
    asks: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/v1/query", {"query": q, "time": end}) for q in instant
    ]
    asks += [
        ("POST", "/api/v1/query_range", {"query": q, "start": start, "end": end, "step": "60"})
        for q in ('rate(x_total{job="api"}[5m])', "up", "tiny", "huge", "scalar(up)")
    ]
    asks += [
        ("GET", "/api/v1/query_range", {"query": "up", "start": end, "end": start, "step": "1"}),
        ("GET", "/api/v1/query_range", {"query": "up", "start": start, "end": end, "step": "0"}),
        ("GET", "/api/v1/query_range", {"query": "up", "start": "0", "end": "11001", "step": "1"}),
        ("GET", "/api/v1/series", {"match[]": ['up{job="api"}', "x_total"]}),
        ("POST", "/api/v1/series", {"match[]": "up", "start": start, "end": end}),
        ("GET", "/api/v1/series", {}),
        ("GET", "/api/v1/labels", {}),
        ("GET", "/api/v1/labels", {"match[]": "tiny"}),
        ("GET", "/api/v1/label/job/values", {}),
        ("GET", "/api/v1/label/__name__/values", {"match[]": '{tenant="alpha"}'}),
    ]
    # error messages that differ in wording (parse errors) are compared by type and status
    exact_errors = {"/api/v1/query_range", "/api/v1/series"}
    with prometheus(tmp_path / "prom", data_dir=tmp_path / "prom" / "data") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as prom_client:
            for method, path, params in asks:
                where = {"params": params} if method == "GET" else {"data": params}
                ours = await api.request(method, path, headers=reader, **where)
                theirs = await prom_client.request(method, path, **where)
                label = f"{method} {path} {params}"
                assert ours.status_code == theirs.status_code, (label, ours.text, theirs.text)
                got, want = _normal(ours.json()), _normal(theirs.json())
                if want["status"] == "error" and path not in exact_errors:
                    assert got["errorType"] == want["errorType"], label
                    continue
                assert got == want, label

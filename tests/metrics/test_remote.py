"""RemoteBackend against a real Prometheus (Debian's 2.42) on loopback, and its printer."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tenantwatch.metrics.remote import (
    BasicAuth,
    BearerToken,
    RemoteBackend,
    enforce_query,
    redact_url,
)
from tenantwatch.promql.model import (
    Matcher,
    MatrixResult,
    PromQLError,
    QueryResult,
    ScalarResult,
    StringResult,
    VectorResult,
)
from tests.prometheus_server import PrometheusServer, load_openmetrics, prometheus
from tests.support import free_port

T0 = 1_699_999_980  # seconds, on a minute boundary
STEP = 15
POINTS = 41  # ten minutes of samples every 15 s
ACME = [Matcher.of("tenant", "=", "acme")]
GLOBEX = [Matcher.of("tenant", "=", "globex")]
NOTHING_EXCLUDED = [Matcher.of("not_a_label", "!=", "x")]


def at(seconds: float) -> int:
    """T0 + seconds, in ms, 5 ms past the sample grid (Prometheus 2.42 windows are closed)."""
    return int((T0 + seconds) * 1000) + 5


def openmetrics() -> str:
    lines = ["# TYPE cpu gauge"]
    for host, tenant, base in (("a", "acme", 0), ("b", "globex", 100)):
        lines += [
            f'cpu{{host="{host}",tenant="{tenant}"}} {base + i} {T0 + i * STEP}'
            for i in range(POINTS)
        ]
    lines.append("# TYPE mem_bytes gauge")
    for tenant, value in (("acme", 5), ("globex", 7)):
        lines += [f'mem_bytes{{tenant="{tenant}"}} {value} {T0 + i * STEP}' for i in range(POINTS)]
    return "\n".join([*lines, "# EOF", ""])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """Prometheus serving two tenants' cpu and mem_bytes, loaded from an OpenMetrics file."""
    work = tmp_path_factory.mktemp("prometheus")
    data_file = work / "data.om"
    data_file.write_text(openmetrics())
    load_openmetrics(work / "data", data_file)
    config = {"global": {"scrape_interval": "15s", "evaluation_interval": "1m"}}
    with prometheus(work, config=config) as running:
        yield running


@pytest.fixture
async def remote(server: PrometheusServer) -> AsyncIterator[RemoteBackend]:
    async with RemoteBackend(server.url, timeout=30) as backend:
        yield backend


def vector(result: QueryResult) -> dict[str, float]:
    assert isinstance(result.value, VectorResult)
    return {
        ",".join(f"{k}={v}" for k, v in s.labels if k != "__name__"): s.v
        for s in result.value.samples
    }


# ---------------------------------------------------------------- queries


async def test_instant_query_returns_each_series_latest_value(remote: RemoteBackend) -> None:
    result = await remote.instant("cpu", at(300))
    short_lookback = await remote.instant("cpu", at(300), lookback_ms=60_000)

    assert short_lookback == result
    assert isinstance(result.value, VectorResult)
    by_labels = {s.labels: (s.t, s.v) for s in result.value.samples}
    assert by_labels == {
        (("__name__", "cpu"), ("host", "a"), ("tenant", "acme")): (at(300), 20.0),
        (("__name__", "cpu"), ("host", "b"), ("tenant", "globex")): (at(300), 120.0),
    }


async def test_range_query_returns_a_point_per_step(remote: RemoteBackend) -> None:
    result = await remote.range('cpu{tenant="acme"}', at(60), at(120), 30_000)

    assert isinstance(result.value, MatrixResult)
    [series] = result.value.series
    assert dict(series.labels)["host"] == "a"
    assert series.points == ((at(60), 4.0), (at(90), 6.0), (at(120), 8.0))


async def test_scalar_and_string_results_keep_their_types(remote: RemoteBackend) -> None:
    scalar = await remote.instant("1 + 1.5", at(0))
    text = await remote.instant('"hello"', at(0))
    inf = await remote.instant("-1 / 0", at(0))

    assert scalar.value == ScalarResult(at(0), 2.5)
    assert text.value == StringResult(at(0), "hello")
    assert isinstance(inf.value, ScalarResult) and inf.value.v == -math.inf


async def test_series_labels_and_values_list_what_matches(remote: RemoteBackend) -> None:
    cpu = [Matcher.of("__name__", "=", "cpu")]
    window = (at(0), at(600))

    series = await remote.series([cpu], *window)
    names = await remote.label_names([cpu], *window)
    hosts = await remote.label_values("host", [], *window)
    everything = await remote.series([], *window)

    assert [dict(s)["host"] for s in series] == ["a", "b"]
    assert names == ["__name__", "host", "tenant"]
    assert hosts == ["a", "b"]
    assert len(everything) == 4


# ---------------------------------------------------------------- tenant enforcement


async def test_enforced_query_never_returns_another_tenants_series(
    remote: RemoteBackend,
) -> None:
    own = await remote.instant("cpu", at(300), enforce=ACME)
    foreign = await remote.instant('cpu{tenant="globex"}', at(300), enforce=ACME)
    total = await remote.instant("sum(cpu) + sum(mem_bytes)", at(300), enforce=ACME)
    ranged = await remote.range("max_over_time(cpu[1m])", at(0), at(600), 60_000, enforce=ACME)

    assert vector(own) == {"host=a,tenant=acme": 20.0}
    assert vector(foreign) == {}
    assert vector(total) == {"": 25.0}
    assert isinstance(ranged.value, MatrixResult)
    assert [dict(s.labels)["tenant"] for s in ranged.value.series] == ["acme"]


async def test_enforced_subquery_without_step_stays_a_subquery(remote: RemoteBackend) -> None:
    enforced = await remote.instant("count_over_time(cpu[5m:])", at(600), enforce=ACME)
    by_hand = await remote.instant('count_over_time(cpu{tenant="acme"}[5m:])', at(600))
    as_matrix = await remote.instant('count_over_time(cpu{tenant="acme"}[5m])', at(600))

    # 1-minute subquery steps give 5 points; the 15 s raw samples would give 20.
    assert vector(enforced) == vector(by_hand) == {"host=a,tenant=acme": 5.0}
    assert vector(as_matrix) == {"host=a,tenant=acme": 20.0}


async def test_enforced_series_and_labels_only_list_the_tenants_own(
    remote: RemoteBackend,
) -> None:
    window = (at(0), at(600))

    series = await remote.series([[Matcher.of("__name__", "=~", ".+")]], *window, enforce=GLOBEX)
    everything = await remote.series([], *window, enforce=GLOBEX)
    hosts = await remote.label_values("host", [], *window, enforce=GLOBEX)
    names = await remote.label_names([], *window, enforce=ACME)
    foreign = await remote.label_values(
        "host", [[Matcher.of("tenant", "=", "globex")]], *window, enforce=ACME
    )

    assert {dict(s)["tenant"] for s in series} == {"globex"}
    assert everything == series and len(series) == 2
    assert hosts == ["b"]
    assert names == ["__name__", "host", "tenant"]
    assert foreign == []


REWRITTEN = [
    "cpu",
    "cpu offset 1m",
    "cpu @ 1700000100",
    "cpu @ 1700000100.25 offset -30s",
    "rate(cpu[2m])",
    "rate(cpu[2m] offset 1m)",
    "max_over_time(cpu[5m:])",
    "max_over_time(rate(cpu[1m])[5m:30s] offset 30s)",
    "min_over_time((cpu + 1)[3m:])",
    "sum by (tenant) (cpu)",
    "sum without (host) (cpu)",
    "topk(1, cpu)",
    "quantile(0.5, cpu)",
    'count_values("v", mem_bytes)',
    "cpu / on(tenant) group_left mem_bytes",
    "cpu * ignoring(host) group_left() mem_bytes",
    "cpu > bool 50",
    "cpu > 50",
    "cpu and on(tenant) mem_bytes > 6",
    "mem_bytes unless cpu",
    "-cpu ^ 2",
    "-(-cpu)",
    "- - cpu",
    "1 - -cpu",
    "2 ^ 3 ^ 2",
    "(1 + 2) * 3",
    'label_replace(cpu, "h", "$1", "host", "(.*)")',
    'label_join(cpu, "hj", "-", "host", "tenant")',
    'cpu{host=~"a|b", tenant!~"x.*"}',
    'cpu{host!="a"}',
    'absent(cpu{host="zzz"})',
    "scalar(sum(mem_bytes)) * 2",
    "time() - timestamp(cpu)",
    "histogram_quantile(0.9, sum by (le) (rate(cpu[5m])))",
    "vector(1) + on() group_left sum(cpu)",
    "sort_desc(cpu)",
    "clamp(cpu, 10, 20)",
]


@pytest.mark.parametrize("query", REWRITTEN)
async def test_rewritten_query_means_what_the_original_meant(
    remote: RemoteBackend, query: str
) -> None:
    """A matcher that excludes nothing must not change any result: the printer is exact."""
    original = await remote.range(query, at(240), at(600), 60_000)
    rewritten = await remote.range(query, at(240), at(600), 60_000, enforce=NOTHING_EXCLUDED)

    assert rewritten == original


# ---------------------------------------------------------------- errors


async def test_syntax_error_is_bad_data_from_prometheus_and_when_enforcing(
    remote: RemoteBackend,
) -> None:
    with pytest.raises(PromQLError) as remote_side:
        await remote.instant("sum(cpu", at(0))
    with pytest.raises(PromQLError) as local_side:
        await remote.instant("sum(cpu", at(0), enforce=ACME)

    assert remote_side.value.kind == "bad_data"
    assert "parse error" in remote_side.value.message
    assert local_side.value.kind == "bad_data"


async def test_evaluation_error_keeps_prometheus_error_type(remote: RemoteBackend) -> None:
    with pytest.raises(PromQLError) as err:
        await remote.instant("cpu + on() cpu", at(300))

    assert err.value.kind == "execution"
    assert "many-to-many" in err.value.message or "duplicate" in err.value.message


async def test_unreachable_server_is_unavailable_and_names_no_credentials() -> None:
    port = free_port()
    url = f"http://admin:urlsecret@127.0.0.1:{port}"
    async with RemoteBackend(url, auth=BasicAuth("admin", "hunter22"), timeout=5) as backend:
        with pytest.raises(PromQLError) as err:
            await backend.instant("up", at(0))

    assert err.value.kind == "unavailable"
    assert f"127.0.0.1:{port}" in err.value.message
    assert "is unreachable" in err.value.message
    assert "hunter22" not in err.value.message
    assert "urlsecret" not in err.value.message


# ---------------------------------------------------------------- HTTP details


class Recorder:
    """A loopback HTTP server answering like Prometheus and remembering each request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], dict[str, list[str]]]] = []
        self.status = 200
        self.body = ""  # empty: a successful answer of the right shape for the path
        self.delay = 0.0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post() if request.method == "POST" else request.query
        fields: dict[str, list[str]] = {}
        for key, value in form.items():
            fields.setdefault(key, []).append(str(value))
        self.requests.append((request.method, request.path, dict(request.headers), fields))
        if self.delay:
            await asyncio.sleep(self.delay)
        body = self.body or (
            '{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}'
            if request.path.endswith(("/query", "/query_range"))
            else '{"status":"success","data":[]}'
        )
        return web.Response(status=self.status, text=body, content_type="application/json")


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    rec.url = f"http://127.0.0.1:{port}"
    yield rec
    await runner.cleanup()


async def test_basic_and_bearer_credentials_are_sent(recorder: Recorder) -> None:
    async with RemoteBackend(recorder.url, auth=BasicAuth("u", "p")) as basic:
        await basic.instant("1", at(0))
    async with RemoteBackend(recorder.url, auth=BearerToken("tok")) as bearer:
        await bearer.instant("1", at(0))

    assert recorder.requests[0][2]["Authorization"] == "Basic dTpw"
    assert recorder.requests[1][2]["Authorization"] == "Bearer tok"


async def test_query_is_posted_as_a_form_with_prometheus_parameters(recorder: Recorder) -> None:
    async with RemoteBackend(recorder.url + "/prom/", timeout=7) as backend:
        await backend.instant("max_over_time(x[5m:])", 1_700_000_000_123, lookback_ms=60_000)
        await backend.range("up", 1_000, 61_000, 15_000, enforce=ACME)
        await backend.label_values("job", [[Matcher.of("a", "=~", 'x"y')]], 0, 1000)

    (m1, p1, _, f1), (_, p2, _, f2), (m3, p3, _, f3) = recorder.requests
    assert (m1, p1) == ("POST", "/prom/api/v1/query")
    assert f1["query"] == ["max_over_time(x[5m:])"]  # no enforce: the original text
    assert f1["time"] == ["1700000000.123"]
    assert f1["lookback_delta"] == ["60000ms"]
    assert f1["timeout"] == ["7s"]
    assert p2 == "/prom/api/v1/query_range"
    assert f2["query"] == ['up{tenant="acme"}']
    assert (f2["start"], f2["end"], f2["step"]) == (["1.000"], ["61.000"], ["15.000"])
    assert (m3, p3) == ("GET", "/prom/api/v1/label/job/values")
    assert f3["match[]"] == ['{a=~"x\\"y"}']


async def test_refused_credentials_say_to_check_auth(recorder: Recorder) -> None:
    recorder.status, recorder.body = 401, "Unauthorized"
    async with RemoteBackend(recorder.url, auth=BasicAuth("u", "sekrit-pw")) as backend:
        with pytest.raises(PromQLError) as err:
            await backend.instant("up", at(0))

    assert err.value.kind == "unavailable"
    assert "check metrics.auth" in err.value.message
    assert "sekrit-pw" not in err.value.message


async def test_slow_server_is_a_timeout(recorder: Recorder) -> None:
    recorder.delay = 2.0
    async with RemoteBackend(recorder.url, timeout=0.3) as backend:
        with pytest.raises(PromQLError) as err:
            await backend.instant("up", at(0))

    assert err.value.kind == "timeout"
    assert "0.3s" in err.value.message


async def test_answer_that_is_not_prometheus_json_is_an_internal_error(
    recorder: Recorder,
) -> None:
    recorder.body = '{"status":"success","data":{"resultType":"vector","result":[{"x":1}]}}'
    async with RemoteBackend(recorder.url) as backend:
        with pytest.raises(PromQLError) as err:
            await backend.instant("up", at(0))

    assert err.value.kind == "internal"
    assert "unexpected result" in err.value.message


async def test_gateway_error_page_is_unavailable(recorder: Recorder) -> None:
    recorder.status, recorder.body = 502, "<html>Bad Gateway</html>"
    async with RemoteBackend(recorder.url) as backend:
        with pytest.raises(PromQLError) as err:
            await backend.instant("up", at(0))

    assert err.value.kind == "unavailable"
    assert "HTTP 502" in err.value.message


async def test_shared_session_gets_the_credentials_per_request(recorder: Recorder) -> None:
    async with aiohttp.ClientSession() as session:
        backend = RemoteBackend(recorder.url, auth=BearerToken("t2"), session=session)
        await backend.instant("1", at(0))
        await backend.close()
        assert not session.closed

    assert recorder.requests[0][2]["Authorization"] == "Bearer t2"


# ---------------------------------------------------------------- printer


def test_no_enforcement_sends_the_text_untouched() -> None:
    query = "max_over_time( foo [5m:] )  # comment"
    assert enforce_query(query, []) is query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("max_over_time(foo[5m:])", 'max_over_time(foo{tenant="acme"}[5m:])'),
        ("foo[1h:5m] offset 1d", 'foo{tenant="acme"}[1h:5m] offset 1d'),
        ("rate(foo[5m])[30m:]", 'rate(foo{tenant="acme"}[5m])[30m:]'),
        ('foo{a="1" or b="2"}', 'foo{a="1",tenant="acme" or b="2",tenant="acme"}'),
        ('{"my.metric", "label.x"="v"}', '{"label.x"="v",__name__="my.metric",tenant="acme"}'),
        ("foo @ 1700000000.123 offset -90s", 'foo{tenant="acme"} @ 1700000000.123 offset -1m30s'),
        ("foo @ start()", 'foo{tenant="acme"} @ start()'),
        ('x{a="q\\"uote\\\\"}', 'x{a="q\\"uote\\\\",tenant="acme"}'),
        ("- - x", '--x{tenant="acme"}'),
        ("topk(3, x)", 'topk(3, x{tenant="acme"})'),
        ("1e300 + x", "1" + "0" * 300 + ' + x{tenant="acme"}'),
    ],
)
def test_enforced_query_prints_back_exactly(query: str, expected: str) -> None:
    assert enforce_query(query, ACME) == expected


def test_enforcing_on_unparsable_text_is_bad_data() -> None:
    with pytest.raises(PromQLError) as err:
        enforce_query("rate(x[5m]", ACME)
    assert err.value.kind == "bad_data"


def test_enforcing_on_an_at_before_1970_is_bad_data_not_a_panic() -> None:
    with pytest.raises(PromQLError) as err:
        enforce_query("foo @ -10", ACME)
    assert err.value.kind == "bad_data"
    assert "before 1970" in err.value.message


def test_redacted_url_keeps_host_and_path() -> None:
    assert redact_url("http://u:p@[::1]:9090/x") == "http://[::1]:9090/x"


def test_prometheus_server_helper_reports_a_missing_data_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="promtool could not load"):
        load_openmetrics(tmp_path / "data", tmp_path / "missing.om")

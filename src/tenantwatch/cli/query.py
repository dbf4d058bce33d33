"""tenantwatch query: run PromQL against a running tenantwatch and print a table."""

from __future__ import annotations

import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import RenderableType
from rich.text import Text

from tenantwatch import jsonio
from tenantwatch.cli import tables
from tenantwatch.cli.common import console, err_console, settings_from_env
from tenantwatch.cli.numbers import significant
from tenantwatch.promql.model import PromQLError, format_labels, labels_of
from tenantwatch.settings import Settings
from tenantwatch.web.prom_format import parse_duration_ms, parse_time

BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 40
DEFAULT_POINTS = 60
HTTP_TIMEOUT_S = 130.0  # a little over the server's 2 minute query timeout


class QueryFailed(Exception):
    """The server or the network refused; the message says why and what to do."""


# -- pure --------------------------------------------------------------------------------------
def sparkline(values: Sequence[float | None], width: int = SPARK_WIDTH) -> str:
    """One bar per value (mean per column when there are more values than width); gaps and
    NaN are blanks, and bars scale between the finite minimum and maximum."""
    if not values:
        return ""
    columns = min(width, len(values))
    buckets: list[list[float]] = [[] for _ in range(columns)]
    for i, v in enumerate(values):
        if v is not None and math.isfinite(v):
            buckets[i * columns // len(values)].append(v)
    means = [sum(b) / len(b) if b else None for b in buckets]
    finite = [m for m in means if m is not None]
    if not finite:
        return " " * columns
    lo, hi = min(finite), max(finite)
    out = []
    for m in means:
        if m is None:
            out.append(" ")
        elif hi == lo:
            out.append(BARS[3])
        else:
            out.append(BARS[round((m - lo) / (hi - lo) * (len(BARS) - 1))])
    return "".join(out)


def series_name(metric: dict[str, str]) -> str:
    return format_labels(labels_of(metric))


@dataclass(frozen=True)
class RangeRow:
    series: str
    last: str
    low: str
    high: str
    spark: str


def range_rows(
    result: list[dict[str, Any]], start: int, end: int, step: int, spark_width: int = SPARK_WIDTH
) -> list[RangeRow]:
    """One row per series of a matrix: last value, minimum, maximum (4 significant digits)
    and a sparkline drawn on the step grid from start to end (ms), with blanks where the
    series has no value."""
    slots = (end - start) // step + 1
    rows = []
    for s in result:
        grid: list[float | None] = [None] * slots
        for t, v in s["values"]:
            i = (round(float(t) * 1000) - start) // step
            if 0 <= i < slots:
                grid[i] = float(v)
        finite = [float(v) for _, v in s["values"] if math.isfinite(float(v))]
        low, high = (significant(min(finite)), significant(max(finite))) if finite else ("", "")
        last = significant(s["values"][-1][1]) if s["values"] else ""
        spark = sparkline(grid, spark_width)
        rows.append(RangeRow(series_name(s["metric"]), last, low, high, spark))
    return rows


def instant_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(series, value) rows of an instant answer: a vector, a scalar or a string; numbers
    with 4 significant digits."""
    kind, result = data["resultType"], data["result"]
    if kind == "vector":
        return [(series_name(s["metric"]), significant(s["value"][1])) for s in result]
    if kind == "scalar":
        return [(kind, significant(result[1]))]
    if kind == "string":
        return [(kind, result[1])]
    return [(series_name(s["metric"]), f"{len(s['values'])} samples") for s in result]


def default_step(range_ms: int) -> int:
    """About DEFAULT_POINTS points, never finer than a second."""
    return max(1000, range_ms // DEFAULT_POINTS)


def seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}"


# -- shell -------------------------------------------------------------------------------------
def resolve_key(key: str | None, settings: Settings) -> str:
    """The key given, or the admin key `tenantwatch serve` keeps in the data directory."""
    if key:
        return key
    try:
        saved = settings.admin_key_file.read_text().strip()
    except OSError:
        saved = ""
    if saved:
        return saved
    err_console.print(
        f"[red]no API key:[/red] pass --key, set TENANTWATCH_API_KEY, or run this where "
        f"`tenantwatch serve` keeps its admin key ({settings.admin_key_file})",
        highlight=False,
    )
    raise typer.Exit(2)


def fetch(
    base_url: str,
    path: str,
    key: str,
    *,
    form: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> bytes:
    """GET (or POST `form`) one of tenantwatch's APIs; return the answer's body.

    Raise QueryFailed with Prometheus' error, the server's refusal or the network problem.
    """
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    # base_url lets only http:// and https:// URLs through
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}{path}{query}",
        data=None if form is None else urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Bearer {key}", "Accept": "*/*"},
        method="GET" if form is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as resp:  # noqa: S310
            body: bytes = resp.read()
            return body
    except urllib.error.HTTPError as exc:
        body = exc.read()
        answer = _json(body)
        if answer.get("status") == "error":
            raise QueryFailed(f"{answer.get('errorType')}: {answer.get('error')}") from None
        detail = answer.get("detail") or body[:200].decode(errors="replace") or exc.reason
        if isinstance(detail, list):  # a validation error: its sentences
            detail = "; ".join(str(d.get("msg", d)) for d in detail if isinstance(d, dict))
        hint = " (check --key or TENANTWATCH_API_KEY)" if exc.code in (401, 403) else ""
        raise QueryFailed(f"HTTP {exc.code}: {detail}{hint}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise QueryFailed(
            f"cannot reach tenantwatch at {base_url}: {reason}; is `tenantwatch serve` running? "
            "Point at it with --url or TENANTWATCH_PUBLIC_URL"
        ) from None


def call(base_url: str, path: str, form: dict[str, str], key: str) -> dict[str, Any]:
    """POST a form to the query API and return the JSON `data` answer with its notes."""
    body = fetch(base_url, path, key, form=form)
    answer = _json(body)
    if answer.get("status") != "success":
        raise QueryFailed(f"unexpected answer from {base_url}{path}: {body[:200]!r}")
    return answer


def _json(body: bytes) -> dict[str, Any]:
    try:
        answer = jsonio.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _notes(answer: dict[str, Any]) -> None:
    for note in answer.get("warnings") or []:
        err_console.print(f"[yellow]warning:[/yellow] {note}", highlight=False)
    for note in answer.get("infos") or []:
        err_console.print(f"info: {note}", highlight=False)


def base_url(url: str | None, settings: Settings) -> str:
    base = (url or settings.base_url).rstrip("/")
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        err_console.print(
            f"[red]--url:[/red] {base!r} is not an http:// or https:// URL; write e.g. "
            "http://127.0.0.1:8080",
            highlight=False,
        )
        raise typer.Exit(2)
    return base


def _ms(parse: Callable[[str, str], int], text: str, option: str) -> int:
    try:
        value = parse(text, option)
    except PromQLError as exc:
        err_console.print(f"[red]{option}:[/red] {exc.message.split(': ', 1)[-1]}", highlight=False)
        raise typer.Exit(2) from None
    return value


def query(
    expr: str = typer.Argument(..., help="PromQL expression, e.g. 'sum by (tenant) (up)'"),
    at: str | None = typer.Option(
        None,
        "--time",
        help="evaluation time (end of a range): RFC3339 or unix seconds; default now",
    ),
    span: str | None = typer.Option(
        None, "--range", help="query this far back (e.g. 1h) and show a sparkline per series"
    ),
    step: str | None = typer.Option(
        None, "--step", help="resolution of a --range query (e.g. 1m); default about 60 points"
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        help="tenantwatch's URL (default $TENANTWATCH_PUBLIC_URL or http://$TENANTWATCH_LISTEN)",
    ),
    output: tables.Output = tables.OutputOption,
    wide: bool = tables.WideOption,
    key: str | None = typer.Option(
        None,
        "--key",
        envvar="TENANTWATCH_API_KEY",
        help="API key (default: the admin key `tenantwatch serve` saved in the data directory)",
        show_default=False,
    ),
) -> None:
    """Run a PromQL query against a running tenantwatch; print a table (and sparklines for
    --range), or the API's `data` with -o json. Errors print Prometheus' error and exit 1."""
    settings = settings_from_env()
    base = base_url(url, settings)
    if step and not span:
        err_console.print("[red]--step[/red] needs --range, e.g. --range 1h --step 1m")
        raise typer.Exit(2)
    end = _ms(parse_time, at, "--time") if at else int(time.time() * 1000)
    secret = resolve_key(key, settings)
    try:
        if span:
            length = _ms(parse_duration_ms, span, "--range")
            every = _ms(parse_duration_ms, step, "--step") if step else default_step(length)
            start = end - length
            form = {
                "query": expr,
                "start": seconds(start),
                "end": seconds(end),
                "step": seconds(every),
            }
            answer = call(base, "/api/v1/query_range", form, secret)
            _notes(answer)
            if output is tables.Output.JSON:
                tables.print_json(answer["data"])
            else:
                _print_range(answer["data"], start, end, every, wide)
        else:
            answer = call(base, "/api/v1/query", {"query": expr, "time": seconds(end)}, secret)
            _notes(answer)
            if output is tables.Output.JSON:
                tables.print_json(answer["data"])
            else:
                _print_instant(answer["data"], wide)
    except QueryFailed as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None


INSTANT_COLUMNS = [tables.Col("series", wrap=True), tables.Col("value", justify="right")]
RANGE_COLUMNS = [
    tables.Col("series", wrap=True),
    tables.Col("last", justify="right", no_wrap=True),
    tables.Col("min", 2, justify="right", no_wrap=True),
    tables.Col("max", 2, justify="right", no_wrap=True),
    tables.Col("", 1, no_wrap=True),
]


def spark_width(console_width: int, wide: bool) -> int:
    """The sparkline's width: SPARK_WIDTH, or a third of a narrower terminal."""
    return SPARK_WIDTH if wide else max(10, min(SPARK_WIDTH, console_width // 3))


def _print_instant(data: dict[str, Any], wide: bool) -> None:
    rows = [[Text(series), Text(value)] for series, value in instant_rows(data)]
    tables.print_table(console, INSTANT_COLUMNS, rows, wide=wide, show_edge=False)
    if not data["result"]:
        console.print("no data", style="dim")


def _print_range(data: dict[str, Any], start: int, end: int, step: int, wide: bool) -> None:
    width = spark_width(console.width, wide)
    rows: list[list[RenderableType]] = [
        [Text(r.series), r.last, r.low, r.high, Text(r.spark, "cyan")]
        for r in range_rows(data["result"], start, end, step, width)
    ]
    tables.print_table(console, RANGE_COLUMNS, rows, wide=wide, show_edge=False)
    if not data["result"]:
        console.print("no data", style="dim")

"""Helpers both benchmarks share: process accounting, Prometheus, loading and comparing results."""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tenantwatch.metrics.exposition import SeriesCache, parse_lines_cached, parse_text
from tenantwatch.metrics.head import Head
from tenantwatch.promql.model import QueryResult, ScalarResult, VectorResult, labels_of
from tenantwatch.types import Labels

REL_TOLERANCE = 1e-6
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class BenchError(Exception):
    """The benchmark cannot run; the message says what to do."""


# -- processes --------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process has used (/proc/<pid>/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """pid and every live descendant of it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_bytes(pid: int) -> int:
    """Resident set size of the process (/proc/<pid>/statm)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_SIZE


def start_tenantwatch(workdir: Path, config_text: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start `tenantwatch serve` on a free port with config_text; return the process and
    its /metrics URL once the port accepts connections (uvicorn listens after startup).
    Raises BenchError with the end of its log when it exits or does not listen in 2 minutes."""
    from tests.support import free_port

    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "tenantwatch.yml"
    config.write_text(config_text)
    port = free_port()
    env = {
        **os.environ,
        "TENANTWATCH_DATA_DIR": str(workdir / "data"),
        "TENANTWATCH_CONFIG": str(config),
        "TENANTWATCH_LISTEN": f"127.0.0.1:{port}",
        "TENANTWATCH_LOG_LEVEL": "warning",
    }
    exe = Path(sys.executable).with_name("tenantwatch")
    with (workdir / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(exe), "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    tail = (workdir / "serve.log").read_text(errors="replace")[-2000:]
    raise BenchError(f"tenantwatch serve did not start; its log ends with:\n{tail}")


# -- statistics ---------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def geomean(values: Iterable[float]) -> float:
    """Geometric mean of the positive, finite values (NaN when there are none)."""
    usable = [v for v in values if v > 0 and math.isfinite(v)]
    if not usable:
        return math.nan
    return math.exp(sum(math.log(v) for v in usable) / len(usable))


def metric_sum(exposition: str, name: str) -> float | None:
    """Sum of every sample named `name` in a text exposition, or None when there is none."""
    found = [s.value for s in parse_text(exposition) if dict(s.labels).get("__name__") == name]
    return sum(found) if found else None


# -- Prometheus -------------------------------------------------------------------------
def require_prometheus() -> None:
    """Raise BenchError unless Debian's prometheus and promtool are on PATH."""
    from tests.prometheus_server import INSTALL_HINT, find_prometheus

    if find_prometheus() is None:
        raise BenchError(f"prometheus and promtool are not on PATH; {INSTALL_HINT}")


def create_blocks(
    openmetrics_file: Path, data_dir: Path, *, timeout: float = 3600.0, block_hours: int = 400
) -> None:
    """Turn an OpenMetrics file into TSDB blocks in data_dir with promtool.

    `--max-block-duration` is raised by default so promtool 2.42, which re-reads the whole
    file once per block window, reads it once or twice even when the samples span a week.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--quiet",
            f"--max-block-duration={block_hours}h",
            str(openmetrics_file),
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(
            f"promtool could not load {openmetrics_file}: {(done.stderr or done.stdout)[-2000:]}"
        )


class HttpClient:
    """One keep-alive HTTP/1.1 connection to a loopback server."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self._conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, path: str, params: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        url = path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            self._conn.request("GET", url)
            resp = self._conn.getresponse()
            return resp.status, resp.read()
        except (http.client.HTTPException, OSError):
            self._conn.close()
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            raise

    def close(self) -> None:
        self._conn.close()


def prom_query_body(body: bytes) -> dict[str, Any]:
    """The `data` of a Prometheus /api/v1/query answer; raises BenchError for an error."""
    doc = json.loads(body)
    if doc.get("status") != "success":
        raise BenchError(f"prometheus answered {doc.get('errorType')}: {doc.get('error')}")
    data: dict[str, Any] = doc["data"]
    return data


# -- results ----------------------------------------------------------------------------
Points = dict[Labels, float]


def prom_points(data: Mapping[str, Any]) -> Points:
    """A Prometheus instant-query `data` as labels -> value."""
    kind = data["resultType"]
    if kind == "scalar":
        return {(): float(data["result"][1])}
    if kind != "vector":
        raise BenchError(f"expected a vector or scalar from prometheus, got {kind}")
    return {labels_of(item["metric"]): float(item["value"][1]) for item in data["result"]}


def tw_points(result: QueryResult) -> Points:
    """A tenantwatch instant-query result as labels -> value."""
    value = result.value
    if isinstance(value, ScalarResult):
        return {(): value.v}
    if not isinstance(value, VectorResult):
        raise BenchError(
            f"expected a vector or scalar from tenantwatch, got {type(value).__name__}"
        )
    return {s.labels: s.v for s in value.samples}


def close_enough(a: float, b: float, rel: float = REL_TOLERANCE) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    return abs(a - b) <= rel * max(abs(a), abs(b))


@dataclass
class Comparison:
    """How two instant-query results differ: series on one side only, values apart."""

    matched: int = 0
    only_tenantwatch: list[Labels] = field(default_factory=list)
    only_prometheus: list[Labels] = field(default_factory=list)
    differ: list[tuple[Labels, float, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.only_tenantwatch or self.only_prometheus or self.differ)

    def describe(self, limit: int = 3) -> str:
        """One line: 'same N series' or what differs, with a few examples."""
        if self.ok:
            return f"same {self.matched} series"
        parts = []
        if self.only_tenantwatch:
            parts.append(
                f"{len(self.only_tenantwatch)} only in tenantwatch (e.g. {_show(self.only_tenantwatch[0])})"
            )
        if self.only_prometheus:
            parts.append(
                f"{len(self.only_prometheus)} only in prometheus (e.g. {_show(self.only_prometheus[0])})"
            )
        if self.differ:
            shown = "; ".join(f"{_show(k)}: {a!r} vs {b!r}" for k, a, b in self.differ[:limit])
            parts.append(f"{len(self.differ)} values differ ({shown})")
        return ", ".join(parts)


def _show(labels: Labels) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"


def compare(tenantwatch: Points, prometheus: Points, rel: float = REL_TOLERANCE) -> Comparison:
    """Compare two results series by series; values within rel (relative) are equal."""
    out = Comparison()
    for labels, a in tenantwatch.items():
        b = prometheus.get(labels)
        if b is None:
            out.only_tenantwatch.append(labels)
        elif close_enough(a, b, rel):
            out.matched += 1
        else:
            out.differ.append((labels, a, b))
    out.only_prometheus = [k for k in prometheus if k not in tenantwatch]
    for found in (out.only_tenantwatch, out.only_prometheus, out.differ):
        found.sort()
    return out


# -- loading ------------------------------------------------------------------------------
@dataclass
class LoadReport:
    series: int
    samples: int


def load_openmetrics(
    path: Path,
    head: Head,
    *,
    chunk_lines: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Parse an OpenMetrics file with tenantwatch's own parser and merge it into head.

    The file is parsed in chunks (each with its family's `# TYPE` line), so memory stays
    at one chunk of parsed samples. progress, when given, receives bytes read so far.
    """
    cache = SeriesCache()
    header = ""
    lines: list[str] = []
    samples = 0
    read = 0

    def flush() -> None:
        nonlocal samples
        if not lines:
            return
        parsed = parse_lines_cached(header + "".join(lines) + "# EOF\n", cache, openmetrics=True)
        samples += _merge_runs(head, parsed.labels, parsed.timestamps, parsed.values)
        lines.clear()
        if progress is not None:
            progress(read)

    with path.open(encoding="utf-8") as f:
        for line in f:
            read += len(line)
            if line[0] != "#":
                lines.append(line)
                if len(lines) >= chunk_lines:
                    flush()
            elif line.startswith("# TYPE "):
                flush()
                header = line
            elif line.startswith("# EOF"):
                break
    flush()
    return LoadReport(head.active, samples)


def _merge_runs(
    head: Head, labels: list[Labels], timestamps: Sequence[int | None], values: list[float]
) -> int:
    if not labels:
        return 0
    if any(t is None for t in timestamps):
        raise BenchError("every sample of the OpenMetrics file needs a timestamp")
    ts = np.array(timestamps, dtype=np.int64)
    vals = np.array(values, dtype=np.float64)
    start = 0
    n = len(labels)
    for i in range(1, n + 1):
        if i == n or labels[i] is not labels[start]:
            series = head.get_or_create(labels[start])
            head.samples_appended += series.merge(ts[start:i], vals[start:i])
            start = i
    return n


def eprint(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)

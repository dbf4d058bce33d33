"""A real `prometheus` process on a free loopback port, for tests and benchmarks.

`make install-dev` installs Debian's `prometheus` package (scripts/ensure-prometheus.sh).
That is Prometheus 2.42, whose lookback and range windows are left-CLOSED: a sample exactly
`lookback` (or a range's length) before the evaluation time is still selected, where
Prometheus 3.x (and tenantwatch) leave it out. Comparisons against it must keep samples
off window boundaries (e.g. offset sample times by a few milliseconds from the grid of
evaluation times, or choose ranges that are not multiples of the scrape interval).

Usage:

    paths = require_prometheus()              # skip, or fail when CI=true, if missing
    with prometheus(tmp_path, remote_write_receiver=True) as server:
        ... server.url ...

    load_openmetrics(tmp_path / "data", om_file)   # before start, then
    with prometheus(tmp_path, data_dir=tmp_path / "data") as server: ...
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support import free_port

INSTALL_HINT = (
    "install Debian's prometheus package: `make install-dev` runs "
    "scripts/ensure-prometheus.sh, or `apt-get install -y --no-install-recommends prometheus`"
)


@dataclass(frozen=True)
class PrometheusTools:
    prometheus: str
    promtool: str


def find_prometheus() -> PrometheusTools | None:
    """Paths of `prometheus` and `promtool` on PATH, or None when either is missing."""
    server, tool = shutil.which("prometheus"), shutil.which("promtool")
    if server is None or tool is None:
        return None
    return PrometheusTools(server, tool)


def require_prometheus() -> PrometheusTools:
    """The Prometheus binaries; skips the test without them, and fails it when CI=true."""
    tools = find_prometheus()
    if tools is None:
        message = f"prometheus and promtool are not on PATH; {INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (required when CI=true)", pytrace=False)
        pytest.skip(message)
    return tools


@dataclass
class PrometheusServer:
    """A running Prometheus; `url` is its base URL, e.g. http://127.0.0.1:40123."""

    url: str
    port: int
    data_dir: Path
    config_file: Path
    log_file: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL after timeout seconds)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


DEFAULT_CONFIG: dict[str, object] = {
    "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
}


def start_prometheus(
    workdir: Path,
    *,
    config: dict[str, object] | str | None = None,
    data_dir: Path | None = None,
    remote_write_receiver: bool = False,
    features: Sequence[str] = (),
    flags: Sequence[str] = (),
    ready_timeout: float = 60.0,
) -> PrometheusServer:
    """Start Prometheus on a free 127.0.0.1 port and return once /-/ready answers 200.

    config is a Prometheus configuration (a dict, or YAML text); the default scrapes
    nothing. data_dir defaults to workdir/"data" (blocks already there, e.g. from
    load_openmetrics, are served). features become `--enable-feature=...`, flags are
    passed as they are (e.g. "--query.lookback-delta=1m").
    Raises RuntimeError with the end of Prometheus' log when it does not start.
    """
    tools = require_prometheus()
    workdir.mkdir(parents=True, exist_ok=True)
    data = data_dir or workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "prometheus.yml"
    text = config if isinstance(config, str) else yaml.safe_dump(config or DEFAULT_CONFIG)
    config_file.write_text(text)
    last_error = ""
    for _ in range(3):
        port = free_port()
        log_file = workdir / f"prometheus-{port}.log"
        args = [
            tools.prometheus,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
            *(["--web.enable-remote-write-receiver"] if remote_write_receiver else []),
            *([f"--enable-feature={','.join(features)}"] if features else []),
            *flags,
        ]
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        server = PrometheusServer(
            f"http://127.0.0.1:{port}", port, data, config_file, log_file, process
        )
        if _wait_ready(server, ready_timeout):
            return server
        server.stop()
        last_error = server.log_tail()
        if "address already in use" not in last_error:
            break
    raise RuntimeError(f"prometheus did not become ready; its log ends with:\n{last_error}")


def _wait_ready(server: PrometheusServer, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


@contextmanager
def prometheus(
    workdir: Path,
    *,
    config: dict[str, object] | str | None = None,
    data_dir: Path | None = None,
    remote_write_receiver: bool = False,
    features: Sequence[str] = (),
    flags: Sequence[str] = (),
) -> Iterator[PrometheusServer]:
    """start_prometheus as a context manager that always stops the process."""
    server = start_prometheus(
        workdir,
        config=config,
        data_dir=data_dir,
        remote_write_receiver=remote_write_receiver,
        features=features,
        flags=flags,
    )
    try:
        yield server
    finally:
        server.stop()


def load_openmetrics(data_dir: Path, openmetrics_file: Path, *, timeout: float = 600.0) -> None:
    """Turn an OpenMetrics file (with timestamps, ending in `# EOF`) into TSDB blocks.

    Runs `promtool tsdb create-blocks-from openmetrics FILE data_dir`; start Prometheus on
    data_dir afterwards to serve them. Raises RuntimeError with promtool's output on failure.
    """
    tools = require_prometheus()
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            tools.promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--quiet",
            str(openmetrics_file),
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"promtool could not load {openmetrics_file}: {(done.stderr or done.stdout)[-2000:]}"
        )

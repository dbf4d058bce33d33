"""tenantwatch backfill FILE, run as a real process against a real store directory.

cli/main.py registers the command; until then it runs here through typer.run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.model import Matcher

RUNNER = "import typer; from tenantwatch.cli.backfill import backfill; typer.run(backfill)"
NOW_S = int(time.time()) - 3600


def run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TENANTWATCH_")}
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        env={**base, "TENANTWATCH_DATA_DIR": str(data_dir), "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def om_file(path: Path, series: int = 3, points: int = 4) -> Path:
    lines = ["# HELP requests Requests served.", "# TYPE requests counter"]
    for s in range(series):
        for p in range(points):
            lines.append(f'requests_total{{tenant="t{s}"}} {p * 10 + s} {NOW_S + p * 15}')
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return path


def read_store(directory: Path, name: str) -> dict[str, list[tuple[int, float]]]:
    store = MetricStore(directory)
    store.open()
    try:
        return {
            dict(s.labels)["tenant"]: [
                (int(t), float(v)) for t, v in zip(s.ts, s.vals, strict=True)
            ]
            for s in store.select([Matcher.of("__name__", "=", name)], 0, 2**62)
        }
    finally:
        store.close()


def test_it_imports_every_sample_with_its_timestamp(tmp_path: Path) -> None:
    data = tmp_path / "var"
    result = run(str(om_file(tmp_path / "in.om")), data_dir=data)
    assert result.returncode == 0, result.stderr
    assert "imported 12 samples of 3 series" in result.stdout
    found = read_store(data / "metrics", "requests_total")
    assert sorted(found) == ["t0", "t1", "t2"]
    assert found["t1"] == [((NOW_S + p * 15) * 1000, float(p * 10 + 1)) for p in range(4)]


def test_a_second_import_merges_with_what_is_there(tmp_path: Path) -> None:
    data = tmp_path / "var"
    assert run(str(om_file(tmp_path / "a.om", series=1, points=2)), data_dir=data).returncode == 0
    (tmp_path / "b.om").write_text(
        f'# TYPE requests counter\nrequests_total{{tenant="t0"}} 99 {NOW_S + 300}\n# EOF\n'
    )
    assert run(str(tmp_path / "b.om"), data_dir=data).returncode == 0
    assert [v for _, v in read_store(data / "metrics", "requests_total")["t0"]] == [0.0, 10.0, 99.0]


def test_a_sample_without_a_timestamp_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "in.om"
    path.write_text(f'# TYPE g gauge\ng{{tenant="a"}} 1 {NOW_S}\ng{{tenant="b"}} 2\n# EOF\n')
    result = run(str(path), data_dir=tmp_path / "var")
    assert result.returncode == 1
    assert f"{path}:3: sample has no timestamp" in result.stderr
    assert not (tmp_path / "var" / "metrics").exists()


def test_a_file_without_eof_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "in.om"
    path.write_text(f"# TYPE g gauge\ng 1 {NOW_S}\n")
    result = run(str(path), data_dir=tmp_path / "var")
    assert result.returncode == 1
    assert f"{path}:3: data does not end with # EOF" in result.stderr


def test_a_malformed_line_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "in.om"
    path.write_text(f"# TYPE g gauge\ng 1 {NOW_S}\ng{{a=b}} 2 {NOW_S}\n# EOF\n")
    result = run(str(path), data_dir=tmp_path / "var")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:3: ")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.om"), data_dir=tmp_path / "var")
    assert result.returncode == 1
    assert "cannot read the file" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_refuses_while_a_server_holds_the_store(tmp_path: Path) -> None:
    data = tmp_path / "var"
    server_store = MetricStore(data / "metrics")
    server_store.open()  # what the running server holds
    try:
        result = run(str(om_file(tmp_path / "in.om")), data_dir=data)
    finally:
        server_store.close()
    assert result.returncode == 1
    assert "is in use by a running tenantwatch server; stop the server" in result.stderr
    assert read_store(data / "metrics", "requests_total") == {}


def test_it_notes_samples_older_than_their_retention(tmp_path: Path) -> None:
    old = int(time.time()) - 40 * 86400
    path = tmp_path / "old.om"
    path.write_text(f'# TYPE g gauge\ng{{tenant="x"}} 1 {old}\ng{{tenant="x"}} 2 {NOW_S}\n# EOF\n')
    result = run(str(path), data_dir=tmp_path / "var")
    assert result.returncode == 0, result.stderr
    assert "1 samples are older than their tenant's retention" in result.stdout


def test_the_configured_metrics_data_dir_is_used(tmp_path: Path) -> None:
    config = tmp_path / "tw.yml"
    config.write_text(f"metrics:\n  data_dir: {tmp_path / 'store'}\n")
    result = run(
        str(om_file(tmp_path / "in.om")),
        data_dir=tmp_path / "var",
        TENANTWATCH_CONFIG=str(config),
    )
    assert result.returncode == 0, result.stderr
    assert sorted(read_store(tmp_path / "store", "requests_total")) == ["t0", "t1", "t2"]


def big_file(path: Path, *, bad_line: str | None = None) -> tuple[Path, int]:
    """Over 200,000 lines (several pieces): 60 families of 4,000 samples."""
    lines = []
    for family in range(60):
        lines.append(f"# TYPE f{family} gauge")
        for p in range(4000):
            lines.append(f'f{family}{{tenant="t"}} {p} {NOW_S - 4000 * 15 + p * 15}')
    if bad_line is not None:
        lines[-10] = bad_line
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return path, len(lines) - 10  # the bad line, 1-based


def test_a_long_file_is_imported_in_pieces(tmp_path: Path) -> None:
    data = tmp_path / "var"
    path, _ = big_file(tmp_path / "big.om")
    result = run(str(path), data_dir=data)
    assert result.returncode == 0, result.stderr
    assert "imported 240000 samples of 60 series" in result.stdout
    got = read_store(data / "metrics", "f59")
    assert [v for _, v in got["t"]] == [float(p) for p in range(4000)]


def test_a_bad_line_late_in_a_long_file_names_its_line_and_imports_nothing(
    tmp_path: Path,
) -> None:
    path, line = big_file(tmp_path / "big.om", bad_line="f59{tenant=t} 1 2")
    result = run(str(path), data_dir=tmp_path / "var")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:{line}: ")
    assert read_store(tmp_path / "var" / "metrics", "f0") == {}

"""Prometheus' own promqltest scripts (tests/promql/conformance/) pass against the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantwatch.metrics.head import Head
from tenantwatch.promql.testrunner import run_file

SCRIPTS = sorted((Path(__file__).parent / "conformance").glob("*.test"))


def test_the_conformance_scripts_are_present() -> None:
    assert len(SCRIPTS) >= 13
    assert (Path(__file__).parent / "conformance" / "NOTICE").is_file()


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_every_in_scope_case_passes(script: Path) -> None:
    result = run_file(script, Head)
    problems = [result.error] if result.error else []
    problems += [c.detail for c in result.cases if c.status == "failed"]
    assert not problems, f"{len(problems)} failed:\n\n" + "\n\n".join(problems)
    assert result.passed > 0

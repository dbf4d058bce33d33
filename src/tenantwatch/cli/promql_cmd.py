"""tenantwatch promql test FILE...: run Prometheus promqltest scripts against the engine."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from tenantwatch.metrics.head import Head
from tenantwatch.promql.testrunner import ScriptResult, run_file

app = typer.Typer(help="Work with PromQL.", no_args_is_help=True)
# Its own console: the command needs no settings, database or runtime.
console = Console(soft_wrap=True)


@app.callback()
def promql() -> None:
    """Work with PromQL."""


@app.command("test")
def test(
    files: list[Path] = typer.Argument(
        ..., help="promqltest scripts (load / clear / eval blocks)", show_default=False
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="also list skipped cases"),
) -> None:
    """Run promqltest scripts; print failures with file:line and exit 1 if any case failed."""
    passed = failed = skipped = 0
    for file in files:
        result = run_file(file, Head)
        _report(result, verbose)
        passed += result.passed
        failed += result.failed
        skipped += result.skipped
    console.print(
        f"{passed} passed, {failed} failed, {skipped} skipped", markup=False, highlight=False
    )
    if failed:
        raise typer.Exit(1)


def _report(result: ScriptResult, verbose: bool) -> None:
    if result.error:
        console.print(Text(result.error, style="red"))
    for case in result.cases:
        if case.status == "failed":
            head, _, rest = case.detail.partition("\n")
            console.print(Text("FAIL ", style="bold red") + Text(head, style="bold"))
            for line in rest.splitlines():
                console.print(Text("    " + line))
        elif case.status == "skipped" and verbose:
            line = f"{result.path}:{case.line}: {case.expr} ({case.detail})"
            console.print(Text("skip ", style="yellow") + Text(line))
    style = "red" if result.failed else "green"
    console.print(
        Text(f"{result.path}: ")
        + Text(f"{result.passed} passed, ", style="green" if result.passed else "")
        + Text(f"{result.failed} failed", style=style if result.failed else "")
        + Text(f", {result.skipped} skipped")
    )

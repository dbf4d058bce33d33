"""tenantwatch rules check FILE...: check Prometheus rule files, as `promtool check rules`."""

from __future__ import annotations

from pathlib import Path

import typer

from tenantwatch.cli.common import console, err_console
from tenantwatch.config.errors import ConfigError
from tenantwatch.rules.files import load_rule_file
from tenantwatch.rules.unittest import run_file

app = typer.Typer(help="Prometheus rule files.", no_args_is_help=True)


@app.command("check")
def check(
    files: list[Path] = typer.Argument(..., help="rule files", show_default=False),
) -> None:
    """Check rule files: YAML, groups, rule fields, durations and PromQL, as promtool does.
    Exit 1 when any file has a problem; each is printed as file:line."""
    failed = 0
    for path in files:
        console.print(f"Checking {path}", highlight=False)
        try:
            rules = load_rule_file(path)
        except ConfigError as exc:
            failed += 1
            console.print("  [red]FAILED:[/red]")
            for issue in exc.issues:
                err_console.print(str(issue), highlight=False, markup=False)
        else:
            console.print(f"  [green]SUCCESS:[/green] {rules.rule_count} rules found")
        console.print()
    if failed:
        raise typer.Exit(1)


@app.command("test")
def test(
    files: list[Path] = typer.Argument(..., help="unit-test files", show_default=False),
) -> None:
    """Run `promtool test rules` unit-test files; end with `N passed, M failed`.
    Exit 1 when any test fails."""
    passed = failed = 0
    for path in files:
        console.print(f"Unit Testing:  {path}", highlight=False)
        outcome = run_file(path)
        if outcome.error is not None:
            failed += 1
            console.print("  [red]FAILED:[/red]")
            console.print(outcome.error, highlight=False, markup=False)
            console.print()
            continue
        errors = []
        for t in outcome.tests:
            passed += t.ok
            failed += not t.ok
            errors += t.failures
        if errors:
            console.print("  [red]FAILED:[/red]")
            console.print("\n\n".join(errors), highlight=False, markup=False)
        else:
            console.print("  [green]SUCCESS[/green]")
        console.print()
    console.print(f"{passed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)

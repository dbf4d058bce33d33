"""Log format: readable lines in a terminal, JSON everywhere else, or what is configured."""

from __future__ import annotations

import pytest

from tenantwatch.logs import resolve_format
from tenantwatch.settings import Settings


@pytest.mark.parametrize(
    ("configured", "terminal", "used"),
    [
        ("auto", True, "console"),
        ("auto", False, "json"),
        ("json", True, "json"),
        ("console", False, "console"),
    ],
)
def test_auto_is_console_in_a_terminal_and_json_otherwise(
    configured: str, terminal: bool, used: str
) -> None:
    assert resolve_format(configured, terminal) == used


def test_the_format_defaults_to_auto_and_reads_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TENANTWATCH_LOG_FORMAT", raising=False)
    assert Settings().log_format == "auto"
    monkeypatch.setenv("TENANTWATCH_LOG_FORMAT", "JSON")
    assert Settings().log_format == "json"
    monkeypatch.setenv("TENANTWATCH_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()

"""The shared table helper: columns hidden by priority to fit, --wide for all, JSON values."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rich.console import Console

from tenantwatch.cli import numbers, tables
from tenantwatch.cli.tables import Col
from tenantwatch.domain.tenants import Tenant, TenantStatus

COLS = [
    Col("id", no_wrap=True),
    Col("name", 1),
    Col("region", 3),
    Col("notes", 2, wrap=True),
    Col("flag", 3),
]
ROWS = [
    ["tenant-with-a-long-id-01", "Some Tenant Name", "europe-central-2", "a " * 40, "y"],
    ["t2", "Other", "us-west-1", "short", "n"],
]


def render(width: int, wide: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, soft_wrap=True)
    tables.print_table(console, COLS, ROWS, wide=wide, title="things")
    return out.getvalue()


def headers(console_width: int) -> list[str]:
    console = Console(file=io.StringIO(), width=console_width)
    return [COLS[i].header for i in tables.fit(console, COLS, ROWS, console_width)]


def test_everything_shows_when_it_fits() -> None:
    assert headers(200) == ["id", "name", "region", "notes", "flag"]
    assert "hidden" not in render(200)


def test_the_highest_priority_numbers_go_first_and_the_rightmost_among_equals() -> None:
    # region and flag share priority 3; flag, further right, goes first, and then region
    # is hidden too, but the narrow flag column fits again once region is out
    assert headers(82) == ["id", "name", "notes", "flag"]
    assert headers(60) == ["id", "name", "flag"]
    assert headers(40) == ["id", "flag"]


def test_columns_of_priority_0_stay_however_narrow_the_terminal() -> None:
    assert headers(10) == ["id"]


@pytest.mark.parametrize("width", [40, 60, 80])
def test_no_line_is_wider_than_the_terminal_and_the_caption_says_what_is_hidden(
    width: int,
) -> None:
    shown = render(width)
    assert max(len(line) for line in shown.splitlines()) <= width
    assert "tenant-with-a-long-id-01" in shown  # identifiers are never wrapped
    assert "--wide shows them" in shown and "region" in shown


def test_wide_shows_every_column_at_its_full_width() -> None:
    shown = render(80, wide=True)
    header = next(line for line in shown.splitlines() if "id" in line and "flag" in line)
    for col in COLS:
        assert col.header in header
    assert "europe-central-2" in shown and "hidden" not in shown


def test_json_keeps_every_field_and_full_precision() -> None:
    created = datetime(2026, 3, 9, 14, 5, 1, 123456, tzinfo=UTC)
    tenant = Tenant(
        id="acme",
        name="Acme",
        tier="enterprise",
        status=TenantStatus.SUSPENDED,
        sla_overrides={"availability_percentage": Decimal("99.95"), "response_time_ms": 400},
        created_at=created,
    )
    plain = json.loads(json.dumps(tables.plain({"tenant": tenant, "ratio": 1 / 3})))
    assert plain["ratio"] == 1 / 3
    assert plain["tenant"]["status"] == "suspended"
    assert plain["tenant"]["sla_overrides"] == {
        "availability_percentage": 99.95,
        "response_time_ms": 400,
    }
    assert plain["tenant"]["created_at"] == "2026-03-09T14:05:01.123456+00:00"
    assert tables.plain(float("nan")) == "nan"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.123456789", "0.1235"),
        (1234567.0, "1234567"),
        ("98765.4321", "9.877e+04"),
        ("NaN", "NaN"),
        ("+Inf", "+Inf"),
        ("-Inf", "-Inf"),
        ("3e-7", "3e-07"),
        ("not a number", "not a number"),
    ],
)
def test_values_show_four_significant_digits(value: str | float, shown: str) -> None:
    assert numbers.significant(value) == shown


def test_durations_and_scores_are_rounded_for_reading() -> None:
    assert numbers.milliseconds(0.0032149) == "3.2 ms"
    assert numbers.milliseconds(0.2345678) == "235 ms"
    assert numbers.milliseconds(None) == "-"
    assert numbers.score(200 / 3) == "66.7"
    assert numbers.score(100.0) == "100"
    assert numbers.score(None) == "-"

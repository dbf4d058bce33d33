"""SLA reports as CSV, for the `?format=csv` download a spreadsheet opens.

Both files are one rectangular table with a header row, so a spreadsheet's filters and
pivots work and several downloads can be pasted under one another.

`tenant_csv`: one row per objective (tenant_id, period_start, period_end, objective,
target, actual, unit, met), then rows for the figures that have no target (p95 response
time, the share within the latency threshold, health score, error budget, downtime,
excluded and unknown minutes, credit) with target and met left empty.
`platform_csv`: one row per tenant.

Periods are ISO 8601 in the tenant's timezone; period_end is exclusive, and for a period
to date it is the moment the report was cut. Numbers are written in full as computed
(no rounding, no exponent); a value nobody measured is an empty cell; met is true/false,
which spreadsheets read as booleans. Tenant-supplied text that a spreadsheet would run as
a formula (starting with = + - @) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tenantwatch.sla.report import PlatformReport, TenantReport

_UNITS = {
    "availability_percentage": "%",
    "response_time_ms": "ms",
    "error_rate_percentage": "%",
    "recovery_time_minutes": "min",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | Decimal | float | bool | None

TENANT_HEADER = (
    "tenant_id",
    "period_start",
    "period_end",
    "objective",
    "target",
    "actual",
    "unit",
    "met",
)
PLATFORM_HEADER = (
    "tenant_id",
    "name",
    "tier",
    "period_start",
    "period_end",
    "availability_percentage",
    "avg_response_time_ms",
    "p95_response_time_ms",
    "error_rate_percentage",
    "recovery_time_minutes",
    "sla_compliance",
    "health_score",
    "credit_percentage",
    "violations",
)


def tenant_csv(report: TenantReport) -> str:
    """Return one tenant's report as CSV text (header row first)."""
    start, end = _local_period(report)
    rows: list[Sequence[Cell]] = []
    for o in report.compliance.objectives:
        rows.append((o.objective, o.target, o.actual, _UNITS.get(o.objective, ""), o.met))
    rows.extend((name, None, actual, unit, None) for name, actual, unit in _figures(report))
    lead = (_text(report.tenant_id), start, end)
    return _write(TENANT_HEADER, ((*lead, *row) for row in rows))


def platform_csv(report: PlatformReport) -> str:
    """Return every tenant's figures as CSV text, one row per tenant in report order."""
    return _write(PLATFORM_HEADER, (_platform_row(t) for t in report.tenants))


def _figures(report: TenantReport) -> list[tuple[str, Cell, str]]:
    """The report's figures that no objective covers: (name, value, unit)."""
    out: list[tuple[str, Cell, str]] = [("p95_response_time_ms", report.p95_response_time_ms, "ms")]
    if report.latency_within is not None:
        threshold, share = report.latency_within
        out.append((f"requests_within_{_number(threshold)}_ms_percentage", share, "%"))
    out.append(("health_score", report.health.score, "points"))
    if report.budget is not None:
        b = report.budget
        out.append(("error_budget_allowed_minutes", b.allowed_downtime_minutes, "min"))
        out.append(("error_budget_spent_minutes", b.downtime_minutes, "min"))
        out.append(("error_budget_remaining_percentage", b.remaining_ratio * 100, "%"))
        out.append(("error_budget_burn_rate", b.burn_rate, "x"))
    out.append(("downtime_minutes", sum((d.minutes for d in report.downtimes), Decimal(0)), "min"))
    out.append(("excluded_minutes", report.excluded_minutes, "min"))
    out.append(("unknown_minutes", report.unknown_minutes, "min"))
    out.append(("credit_percentage", report.credit_percentage, "%"))
    return out


def _platform_row(t: TenantReport) -> tuple[Cell, ...]:
    start, end = _local_period(t)
    return (
        _text(t.tenant_id),
        _text(t.tenant_name),
        _text(t.tier),
        start,
        end,
        t.availability_percentage,
        t.avg_response_time_ms,
        t.p95_response_time_ms,
        t.error_rate_percentage,
        t.recovery_time_minutes,
        t.sla_compliance,
        t.health.score,
        t.credit_percentage,
        "; ".join(t.violations),
    )


def _local_period(report: TenantReport) -> tuple[str, str]:
    zone = ZoneInfo(report.timezone)
    return _iso(report.period.start, zone), _iso(report.period.end, zone)


def _iso(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat()


def _write(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_cell(c) for c in row] for row in rows)
    return out.getvalue()


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _number(value)
    return str(value)


def _number(value: Decimal) -> str:
    return f"{value:f}"


def _text(value: str) -> str:
    """Tenant-supplied text, defused so a spreadsheet shows it rather than runs it."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value

"""SLA reports as CSV: one rectangular table a spreadsheet opens, empty cells for no data."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from tenantwatch.domain.tiers import SlaTargets
from tenantwatch.sla.compliance import Measured, evaluate
from tenantwatch.sla.report_csv import PLATFORM_HEADER, TENANT_HEADER, platform_csv, tenant_csv
from tests.sla.report_factory import platform_report, tenant_report


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_tenant_csv_has_one_row_per_objective_with_target_actual_unit_and_met() -> None:
    text = tenant_csv(tenant_report())
    assert next(csv.reader(io.StringIO(text))) == list(TENANT_HEADER)
    by_objective = {r["objective"]: r for r in _rows(text)}
    assert by_objective["availability_percentage"] == {
        "tenant_id": "acme",
        "period_start": "2026-11-01T00:00:00+01:00",
        "period_end": "2026-12-01T00:00:00+01:00",
        "objective": "availability_percentage",
        "target": "99.9",
        "actual": "99.52",
        "unit": "%",
        "met": "false",
    }
    assert by_objective["response_time_ms"]["met"] == "true"
    assert by_objective["recovery_time_minutes"]["unit"] == "min"


def test_figures_without_a_target_follow_the_objectives_with_target_and_met_empty() -> None:
    rows = _rows(tenant_csv(tenant_report()))
    names = [r["objective"] for r in rows]
    assert names[:4] == [
        "availability_percentage",
        "response_time_ms",
        "error_rate_percentage",
        "recovery_time_minutes",
    ]
    extra = {r["objective"]: r for r in rows[4:]}
    assert extra["requests_within_300_ms_percentage"]["actual"] == "97.25"
    assert extra["credit_percentage"]["actual"] == "10"
    assert extra["downtime_minutes"]["actual"] == "167.4"
    assert extra["error_budget_remaining_percentage"]["actual"] == "-287.500"
    assert all(r["target"] == "" and r["met"] == "" for r in extra.values())


def test_an_unmeasured_objective_is_an_empty_cell_not_a_miss() -> None:
    report = tenant_report(
        error_rate_percentage=None,
        compliance=evaluate(SlaTargets(), Measured(availability_percentage=Decimal("99.95"))),
        budget=None,
        latency_within=None,
    )
    rows = {r["objective"]: r for r in _rows(tenant_csv(report))}
    assert rows["error_rate_percentage"]["actual"] == ""
    assert rows["error_rate_percentage"]["met"] == ""
    assert "error_budget_allowed_minutes" not in rows
    assert not any(name.startswith("requests_within") for name in rows)


def test_numbers_are_written_in_full_without_an_exponent() -> None:
    report = tenant_report(excluded_minutes=Decimal("1E+2"), unknown_minutes=Decimal("0.00001"))
    rows = {r["objective"]: r for r in _rows(tenant_csv(report))}
    assert rows["excluded_minutes"]["actual"] == "100"
    assert rows["unknown_minutes"]["actual"] == "0.00001"


def test_the_platform_csv_has_one_row_per_tenant_in_the_tenants_timezone() -> None:
    tokyo = tenant_report(tenant_id="kobe", tenant_name="Kobe KK", timezone="Asia/Tokyo")
    text = platform_csv(platform_report(tenant_report(), tokyo))
    assert next(csv.reader(io.StringIO(text))) == list(PLATFORM_HEADER)
    acme, kobe = _rows(text)
    assert acme["period_start"] == "2026-11-01T00:00:00+01:00"
    assert kobe["period_start"] == "2026-11-01T08:00:00+09:00"  # the same instant
    assert acme["sla_compliance"] == "false"
    assert acme["health_score"] == "87.78"
    assert acme["violations"] == (
        "availability 99.52% is below the target 99.9%; "
        "recovery time 21.5 min is above the target 15 min"
    )


def test_no_data_in_the_platform_csv_is_an_empty_cell() -> None:
    report = tenant_report(p95_response_time_ms=None, recovery_time_minutes=None)
    (row,) = _rows(platform_csv(platform_report(report)))
    assert row["p95_response_time_ms"] == ""
    assert row["recovery_time_minutes"] == ""


def test_a_tenant_name_a_spreadsheet_would_run_as_a_formula_is_defused() -> None:
    report = tenant_report(tenant_name='=HYPERLINK("http://evil.example","x")', tenant_id="@id")
    (row,) = _rows(platform_csv(platform_report(report)))
    assert row["name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["tenant_id"] == "'@id"


def test_names_with_commas_and_quotes_stay_in_one_cell() -> None:
    report = tenant_report(tenant_name='Acme, "the" Corp')
    (row,) = _rows(platform_csv(platform_report(report)))
    assert row["name"] == 'Acme, "the" Corp'


def test_a_platform_without_tenants_is_the_header_alone() -> None:
    assert platform_csv(platform_report()).splitlines() == [",".join(PLATFORM_HEADER)]

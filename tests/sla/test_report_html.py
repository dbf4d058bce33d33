"""SLA reports as HTML: what a customer reads, in the tenant's timezone, tenant text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tenantwatch.domain.tiers import SlaTargets
from tenantwatch.sla.compliance import Measured, evaluate
from tenantwatch.sla.periods import current
from tenantwatch.sla.report import Budget, Downtime, UptimePoint
from tenantwatch.sla.report_html import platform_html, tenant_html, uptime_svg
from tests.sla.html_sections import sections
from tests.sla.report_factory import BERLIN, daily_uptime, platform_report, tenant_report

SVG = "{http://www.w3.org/2000/svg}"
DASH = "\u2013"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314  (our renderer's own output, not untrusted input)


def _bars(svg: str) -> list[ET.Element]:
    return list(_parse(svg).iter(f"{SVG}rect"))


def _svg_of(html: str) -> str:
    found = re.search(r"<svg.*?</svg>", html, re.DOTALL)
    assert found is not None
    return found.group(0)


def test_the_header_shows_the_tenant_and_the_period_in_the_tenants_timezone() -> None:
    header = sections(tenant_html(tenant_report()))["header"]
    assert ["Tenant", "Acme Corp (acme)"] in header.rows
    assert ["Tier", "premium"] in header.rows
    assert f"1 November 2026 {DASH} 30 November 2026" in header.text
    assert "times in Europe/Berlin" in header.text
    assert ["Generated", "2026-12-01 07:00 CET"] in header.rows  # 06:00 UTC


def test_a_period_to_date_says_so_and_ends_at_now_local_time() -> None:
    now = datetime(2026, 11, 18, 13, 30, tzinfo=UTC)
    header = sections(tenant_html(tenant_report(period=current("monthly", now, BERLIN))))["header"]
    assert f"1 November 2026 {DASH} 2026-11-18 14:30 CET (to date)" in header.text


def test_tenant_supplied_text_is_escaped() -> None:
    html = tenant_html(
        tenant_report(
            tenant_name="<script>alert(1)</script>",
            tier="<b>gold</b>",
            downtimes=(
                Downtime(
                    datetime(2026, 11, 4, 9, tzinfo=UTC),
                    datetime(2026, 11, 4, 10, tzinfo=UTC),
                    ('<img src="x" onerror="alert(2)">',),
                ),
            ),
        )
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>gold" not in html
    assert "<img" not in html
    assert sections(html)["incidents"].rows[1][3] == '<img src="x" onerror="alert(2)">'


def test_a_missed_report_says_not_met_and_lists_the_violations_in_words() -> None:
    summary = sections(tenant_html(tenant_report()))["summary"]
    assert "Service level not met: 2 objectives missed." in summary.text
    assert "Availability 99.52% is below the target 99.9%." in summary.text
    assert "Recovery time 21.5 min is above the target 15 min." in summary.text


def test_a_met_report_says_met_and_lists_nothing() -> None:
    measured = Measured(Decimal("99.99"), Decimal("120"), Decimal("0.1"), Decimal("4"))
    summary = sections(tenant_html(tenant_report(compliance=evaluate(SlaTargets(), measured))))
    assert "Service level met" in summary["summary"].text
    assert "below the target" not in summary["summary"].text


def test_the_health_score_shows_its_four_components() -> None:
    summary = sections(tenant_html(tenant_report()))["summary"]
    assert "Health score: 87.78 of 100" in summary.text
    assert summary.rows[1:] == [
        ["Uptime", "99.52", "0.4", "39.81"],
        ["Response time (p95)", "75.99", "0.3", "22.8"],
        ["Error rate", "95.9", "0.2", "19.18"],
        ["Resource use", "60", "0.1", "6"],
    ]


def test_each_objective_has_a_row_with_target_actual_and_status() -> None:
    rows = sections(tenant_html(tenant_report()))["objectives"].rows
    assert rows[1:] == [
        ["Availability", "at least 99.9 %", "99.52 %", "not met"],
        ["Average response time", "at most 500 ms", "212.4 ms", "met"],
        ["p95 response time", "", "480.2 ms", ""],
        ["Requests within 300 ms", "", "97.25 % within 300 ms", ""],
        ["Error rate", "at most 1 %", "0.41 %", "met"],
        ["Recovery time (mean)", "at most 15 min", "21.5 min", "not met"],
    ]


def test_an_objective_without_data_is_not_measured_rather_than_missed() -> None:
    compliance = evaluate(SlaTargets(), Measured(availability_percentage=Decimal("99.95")))
    report = tenant_report(compliance=compliance, latency_within=None)
    rows = {r[0]: r for r in sections(tenant_html(report))["objectives"].rows}
    assert rows["Error rate"] == ["Error rate", "at most 1 %", "no data", "not measured"]
    assert not any(name.startswith("Requests within") for name in rows)


def test_the_error_budget_shows_allowance_spend_burn_and_exhaustion_in_local_time() -> None:
    budget = Budget(
        allowed_downtime_minutes=Decimal("43.2"),
        downtime_minutes=Decimal("10.8"),
        remaining_ratio=Decimal("0.75"),
        burn_rate=Decimal("1.5"),
        exhaustion=datetime(2026, 11, 24, 23, 15, tzinfo=UTC),
    )
    rows = sections(tenant_html(tenant_report(budget=budget)))["budget"].rows
    assert rows == [
        ["Allowed downtime over the period", "43.2 min"],
        ["Downtime spent", "10.8 min"],
        ["Budget remaining", "75 %"],
        ["Burn rate (1 spends exactly the budget by the period's end)", "1.5\u00d7"],
        ["Budget exhausted", "2026-11-25 00:15 CET at the current burn rate"],
    ]


def test_an_overspent_budget_reads_as_exhausted_and_no_budget_means_no_section() -> None:
    assert sections(tenant_html(tenant_report()))["budget"].rows[-1] == [
        "Budget exhausted",
        "already exhausted",
    ]
    assert "budget" not in sections(tenant_html(tenant_report(budget=None)))


def test_downtimes_are_listed_in_the_tenants_timezone_with_minutes_and_checks() -> None:
    incidents = sections(tenant_html(tenant_report()))["incidents"]
    assert incidents.rows[1:] == [
        ["2026-11-04 10:12 CET", "2026-11-04 12:45 CET", "153", "api-https, checkout"],
        ["2026-11-22 00:30 CET", "2026-11-22 00:44 CET", "14.4", "api-https"],
    ]
    assert "Total downtime: 167.4 min in 2 runs." in incidents.text
    assert "monitoring side): 60 min" in incidents.text
    assert "Unknown (no check reported): 12.5 min" in incidents.text


def test_no_downtime_says_so() -> None:
    incidents = sections(tenant_html(tenant_report(downtimes=())))["incidents"]
    assert incidents.rows == []
    assert "No downtime in this period." in incidents.text


def test_the_credit_section_marks_the_step_that_applies_and_states_the_credit_owed() -> None:
    html = tenant_html(tenant_report())
    credits = sections(html)["credits"]
    assert credits.rows[1:] == [["99.9 %", "10 %"], ["99 %", "25 %"], ["95 %", "50 %"]]
    assert re.search(r'<tr class="applies"><td>99.9\xa0%</td>', html)
    assert html.count('class="applies"') == 1
    assert "Credit owed: 10 % of the period's fee." in credits.text


def test_the_report_embeds_the_uptime_chart_and_references_no_url() -> None:
    html = tenant_html(tenant_report())
    assert len(_bars(_svg_of(html))) == 30
    assert not re.search(r"(src|href)=|url\(", html)


def test_bars_below_target_are_red_and_a_slice_without_data_is_grey() -> None:
    points = daily_uptime(["100", "99.5", None, "99.9"])
    bars = _bars(uptime_svg(points, Decimal("99.9"), 400, 150, zone=BERLIN))
    assert [b.get("class") for b in bars] == ["bar ok", "bar below", "bar nodata", "bar ok"]
    assert bars[1].get("fill") == "#c62828"
    assert bars[2].get("fill") == "#d9d9d9"
    assert bars[0].get("fill") == bars[3].get("fill") != bars[1].get("fill")
    assert "no data" in ET.tostring(bars[2], encoding="unicode")


def test_the_y_axis_runs_from_the_lower_of_target_minus_one_and_the_lowest_slice_to_100() -> None:
    def labels(values: list[str | None]) -> list[str]:
        svg = _parse(uptime_svg(daily_uptime(values), Decimal("99.9"), 400, 150))
        return [t.text or "" for t in svg.iter(f"{SVG}text") if t.get("class") is None]

    assert labels(["100", "99.95"]) == ["100\xa0%", "98\xa0%"]  # floor(99.9 - 1)
    assert labels(["100", "96.4"]) == ["100\xa0%", "96\xa0%"]
    assert labels([None, None]) == ["100\xa0%", "98\xa0%"]


def test_bar_heights_follow_availability_and_the_target_line_is_dashed() -> None:
    svg = _parse(uptime_svg(daily_uptime(["100", "99", "98.5"]), Decimal("99.5"), 300, 150))
    heights = [float(b.get("height") or 0) for b in svg.iter(f"{SVG}rect")]
    assert heights[0] > heights[1] > heights[2] > 0  # the lowest slice still shows
    (target,) = [line for line in svg.iter(f"{SVG}line") if line.get("class") == "target"]
    assert target.get("stroke-dasharray")
    tops = [float(b.get("y") or 0) for b in svg.iter(f"{SVG}rect")]
    assert tops[0] < float(target.get("y1") or 0) < tops[1]


def test_axis_labels_are_local_dates_or_hours_for_hourly_slices() -> None:
    def xlabels(points: tuple[UptimePoint, ...]) -> list[str]:
        svg = _parse(uptime_svg(points, Decimal("99.9"), 600, 150, zone=BERLIN))
        return [t.text or "" for t in svg.iter(f"{SVG}text") if t.get("class") == "x-label"]

    assert xlabels(daily_uptime(["100"] * 30))[:3] == ["1 Nov", "5 Nov", "9 Nov"]
    start = datetime(2026, 11, 2, 23, tzinfo=UTC)  # midnight in Berlin
    hourly = tuple(UptimePoint(start + timedelta(hours=h), Decimal(100)) for h in range(24))
    assert xlabels(hourly)[:2] == ["00:00", "03:00"]


def test_the_platform_report_states_overall_compliance_and_lists_the_worst_tenant_first() -> None:
    fine = evaluate(
        SlaTargets(), Measured(Decimal("99.99"), Decimal("100"), Decimal("0.1"), Decimal("3"))
    )
    one_miss = evaluate(SlaTargets(), Measured(Decimal("99.5")))
    report = platform_report(
        tenant_report(tenant_id="a", tenant_name="Alpha", compliance=fine),
        tenant_report(tenant_id="b", tenant_name="Beta", compliance=one_miss),
        tenant_report(tenant_id="c", tenant_name="Gamma"),  # two objectives missed
    )
    html = platform_html(report)
    assert "Overall compliance: 33.33 % of tenants met every objective." in " ".join(
        html.replace("\xa0", " ").split()
    )
    rows = sections(html)["tenants"].rows[1:]
    assert [r[0] for r in rows] == ["Gamma c", "Beta b", "Alpha a"]
    assert rows[2][-1] == "met"
    assert rows[1][-1].startswith("not met availability 99.5% is below")


def test_the_platform_report_escapes_tenant_names_and_handles_no_tenants() -> None:
    html = platform_html(platform_report(tenant_report(tenant_name="<script>x</script>")))
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "No tenants in this report." in platform_html(platform_report())

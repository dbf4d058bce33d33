"""SLA reports as printable HTML (the PDF's source) and the uptime chart as inline SVG.

The templates live in ./templates and are rendered with autoescape on, because tenant
names, ids and check names are tenant-supplied. Times are shown in the tenant's timezone.
The documents carry their CSS and their chart inline and reference no other file or URL,
so the PDF renderer never has to fetch anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from tenantwatch.sla.compliance import ObjectiveResult
from tenantwatch.sla.report import PlatformReport, TenantReport, UptimePoint

_NBSP = "\u00a0"
_DASH = " \u2013 "  # en dash between a period's first and last day
_OBJECTIVES = {
    "availability_percentage": ("Availability", "at least", "%"),
    "response_time_ms": ("Average response time", "at most", "ms"),
    "error_rate_percentage": ("Error rate", "at most", "%"),
    "recovery_time_minutes": ("Recovery time (mean)", "at most", "min"),
}
_COMPONENTS = {
    "uptime": "Uptime",
    "response_time": "Response time (p95)",
    "error_rate": "Error rate",
    "resource_utilization": "Resource use",
}
_CHART = {"left": 46.0, "right": 46.0, "top": 10.0, "bottom": 22.0}  # margins for the labels
_MIN_BAR = 1.5  # px: a bar at the axis floor stays visible
_FILL = {"ok": "#4f7cac", "below": "#c62828", "nodata": "#d9d9d9"}  # the legend's colours


@dataclass(frozen=True)
class Row:
    """One line of the objectives table; target and met are empty for a figure with no target."""

    label: str
    target: str
    actual: str
    met: bool | None


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "ok", "below" or "nodata"
    title: str

    @property
    def fill(self) -> str:
        return _FILL[self.kind]


def tenant_html(report: TenantReport) -> str:
    """Return the tenant's SLA report as a standalone HTML document (A4, print CSS)."""
    zone = ZoneInfo(report.timezone)
    target = _availability_target(report)
    chart = ""
    if report.uptime and target is not None:
        chart = uptime_svg(report.uptime, target, zone=zone)
    return _render(
        "tenant.html.j2",
        report=report,
        period=_period_text(report),
        local=lambda at: _local(at, zone),
        rows=_objective_rows(report),
        violations=[v[:1].upper() + v[1:] for v in report.violations],
        components=[(_COMPONENTS.get(c.name, c.name), c) for c in report.health.components],
        chart=Markup(chart),  # noqa: S704  (uptime_svg's own autoescaped output)
        downtime_total=sum((d.minutes for d in report.downtimes), Decimal(0)),
        credit_step=_credit_step(report),
        pct=_pct,
        num=_show,
    )


def platform_html(report: PlatformReport) -> str:
    """Return every tenant's standing as one HTML document, the worst tenant first."""
    return _render(
        "platform.html.j2",
        report=report,
        tenants=sorted(report.tenants, key=_worst_first),
        generated=report.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        periods=sorted({_period_text(t) for t in report.tenants}),
        pct=_pct,
        num=_show,
    )


def uptime_svg(
    points: Sequence[UptimePoint],
    target_pct: Decimal,
    width: int = 640,
    height: int = 190,
    *,
    zone: tzinfo = UTC,
) -> str:
    """Return an SVG bar chart of availability per slice: red below target_pct, grey where
    nothing was measured, a dashed line at the target. The y axis runs from the lower of
    target - 1 and the lowest slice (rounded down to a whole percent) to 100."""
    measured = [p.availability_percentage for p in points if p.availability_percentage is not None]
    floor = Decimal(max(0, math.floor(min([target_pct - 1, *measured]))))
    left, top = _CHART["left"], _CHART["top"]
    plot_w = width - left - _CHART["right"]
    plot_h = height - top - _CHART["bottom"]

    def y(value: Decimal) -> float:
        return top + plot_h * float((100 - value) / (100 - floor))

    slot = plot_w / max(1, len(points))
    bars = [
        _bar(p, left + i * slot, slot, target_pct, y, top + plot_h, zone)
        for i, p in enumerate(points)
    ]
    return _render(
        "uptime.svg.j2",
        width=width,
        height=height,
        left=left,
        right=width - _CHART["right"],
        top=top,
        bottom=top + plot_h,
        bars=bars,
        target_y=y(target_pct),
        target=_pct(target_pct),
        floor=_pct(floor),
        labels=_x_labels(points, left, slot, zone),
    )


def _period_text(report: TenantReport) -> str:
    """The period as the tenant reads it: local first and last day ("to date" when cut at now)."""
    zone = ZoneInfo(report.timezone)
    first = report.period.start.astimezone(zone)
    if report.period.to_date:
        return f"{_day(first)}{_DASH}{_local(report.period.end, zone)} (to date)"
    last = (report.period.end - timedelta(microseconds=1)).astimezone(zone)
    return _day(first) if first.date() == last.date() else f"{_day(first)}{_DASH}{_day(last)}"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("tenantwatch.sla", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(name: str, **context: object) -> str:
    return _environment().get_template(name).render(context)


def _bar(
    point: UptimePoint,
    x: float,
    slot: float,
    target: Decimal,
    y: Callable[[Decimal], float],
    baseline: float,
    zone: tzinfo,
) -> Bar:
    gap = min(2.0, slot * 0.2)
    when = point.start.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    value = point.availability_percentage
    if value is None:
        top = y(Decimal(100))
        return Bar(x + gap / 2, top, slot - gap, baseline - top, "nodata", f"{when}: no data")
    top = min(y(value), baseline - _MIN_BAR)
    kind = "below" if value < target else "ok"
    return Bar(x + gap / 2, top, slot - gap, baseline - top, kind, f"{when}: {_pct(value)}")


def _x_labels(
    points: Sequence[UptimePoint], left: float, slot: float, zone: tzinfo
) -> list[tuple[float, str]]:
    if not points:
        return []
    hourly = len(points) > 1 and points[1].start - points[0].start < timedelta(days=1)
    step = math.ceil(len(points) / 8)
    out = []
    for i in range(0, len(points), step):
        at = points[i].start.astimezone(zone)
        out.append((left + (i + 0.5) * slot, f"{at:%H:%M}" if hourly else f"{at.day} {at:%b}"))
    return out


def _objective_rows(report: TenantReport) -> list[Row]:
    rows = []
    for o in report.compliance.objectives:
        rows.append(_objective_row(o))
        if o.objective == "response_time_ms":
            rows.extend(_latency_rows(report))
    return rows


def _latency_rows(report: TenantReport) -> list[Row]:
    """The latency figures reported beside the average, which have no target of their own."""
    p95 = report.p95_response_time_ms
    rows = [Row("p95 response time", "", "no data" if p95 is None else _unit(p95, "ms"), None)]
    if report.latency_within is not None:
        threshold, share = report.latency_within
        within = f"{_show(threshold)}{_NBSP}ms"
        actual = "no data" if share is None else f"{_pct(share)} within {within}"
        rows.append(Row(f"Requests within {within}", "", actual, None))
    return rows


def _objective_row(o: ObjectiveResult) -> Row:
    label, side, unit = _OBJECTIVES.get(o.objective, (o.objective, "", ""))
    actual = "no data" if o.actual is None else _unit(o.actual, unit)
    return Row(label, f"{side} {_unit(o.target, unit)}", actual, o.met)


def _availability_target(report: TenantReport) -> Decimal | None:
    for o in report.compliance.objectives:
        if o.objective == "availability_percentage":
            return o.target
    return None


def _credit_step(report: TenantReport) -> int | None:
    """Index of the schedule step that sets the credit owed (the deepest one availability
    falls below, as credits.credit_percent picks it); None when no step applies."""
    availability = report.availability_percentage
    if availability is None:
        return None
    below = [
        i for i, (threshold, _) in enumerate(report.credit_schedule) if availability < threshold
    ]
    return below[-1] if below else None


def _worst_first(t: TenantReport) -> tuple[bool, int, float, str]:
    return (t.sla_compliance, -len(t.violations), t.health.score, t.tenant_name.casefold())


def _local(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _day(at: datetime) -> str:
    return f"{at.day} {at:%B %Y}"


def _show(value: Decimal | float | None, places: int = 3) -> str:
    if value is None:
        return "—"
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return f"{rounded.normalize():f}"


def _unit(value: Decimal, unit: str) -> str:
    return f"{_show(value)}{_NBSP}{unit}" if unit else _show(value)


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else _unit(value, "%")

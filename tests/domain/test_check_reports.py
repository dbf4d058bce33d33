"""SLA verdicts: a tenant's runs against its tier, and the platform's roll-up."""

from __future__ import annotations

from datetime import UTC, datetime

from tenantwatch.domain.check_reports import platform_report, run_report, run_sla_compliant
from tenantwatch.domain.checks import CheckKind, CheckRun
from tenantwatch.domain.tenant_health import HealthStatus, TenantHealth

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _run(cid: str, kind: CheckKind, ok: bool, ms: float, error: str | None = None) -> CheckRun:
    return CheckRun(cid, "acme", kind, AT, ok, ms / 1000, error=error)


def _health(tid: str, status: HealthStatus, score: float | None) -> TenantHealth:
    return TenantHealth(tid, status, score, 1, 1, 0, (), None, {}, sla_response_time_ms=200)


def test_every_failed_run_and_a_slow_average_are_violations() -> None:
    runs = [
        _run("a", CheckKind.HTTP, True, 100),
        _run("b", CheckKind.HTTP, False, 500, "timed out"),
        _run("c", CheckKind.HEARTBEAT, True, 9000),
    ]
    report = run_report(runs, 200)
    assert report.categories == {
        "http_endpoint": "degraded",
        "database": None,
        "redis": None,
        "kubernetes": None,
        "external_apis": None,
        "heartbeat": "healthy",
    }
    assert report.response_time_ms == 300.0
    assert report.violations == (
        "b: timed out",
        "average response time 300 ms is over the tier's 200 ms",
    )
    assert not report.sla_compliant


def test_runs_within_the_tier_comply() -> None:
    report = run_report([_run("a", CheckKind.TCP, True, 10)], 200)
    assert report.sla_compliant
    assert report.categories["external_apis"] == "healthy"
    assert run_report([], 200).response_time_ms is None


def test_the_platform_lists_the_worst_first_and_counts_healthy_tenants() -> None:
    healths = [
        _health("b", HealthStatus.HEALTHY, 100.0),
        _health("a", HealthStatus.DEGRADED, 70.0),
        _health("c", HealthStatus.UNKNOWN, None),
    ]
    report = platform_report(healths)
    assert [h.tenant_id for h in report.worst_first] == ["a", "b", "c"]
    assert (report.healthy, report.degraded, report.unknown, report.total) == (1, 1, 1, 3)
    assert report.status is HealthStatus.DEGRADED
    assert report.average_score == 85.0
    assert report.sla_compliance == 33.33
    assert platform_report([]).sla_compliance == 0.0


def test_a_run_complies_when_it_passed_within_its_tenants_response_time() -> None:
    health = _health("acme", HealthStatus.HEALTHY, 100.0)
    assert run_sla_compliant(_run("a", CheckKind.HTTP, True, 200), health)
    assert not run_sla_compliant(_run("a", CheckKind.HTTP, True, 201), health)
    assert not run_sla_compliant(_run("a", CheckKind.HTTP, False, 1), health)
    assert run_sla_compliant(_run("a", CheckKind.HTTP, True, 10**6), None)

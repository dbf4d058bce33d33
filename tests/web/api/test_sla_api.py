"""Seed 002's SLA APIs over a real metric store: golden periods with hand-computed answers
(43.2 minutes down in a 30-day month is exactly 99.9 %; October in Berlin has 745 hours),
maintenance excluded, error rate from the app's counters, credits, isolation, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.promql.model import labels_of
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.tenants import TenantInput
from tenantwatch.types import Sample
from tests.conftest import KeyMaker
from tests.support import bearer

MIN = 60_000
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


NOV = ms(datetime(2026, 11, 1, tzinfo=UTC))
DEC = ms(datetime(2026, 12, 1, tzinfo=UTC))
OCT_BERLIN = ms(datetime(2026, 9, 30, 22, tzinfo=UTC))  # 1 October, 00:00 CEST
NOV_BERLIN = ms(datetime(2026, 10, 31, 23, tzinfo=UTC))  # 1 November, 00:00 CET


def up_samples(
    tenant: str, check: str, start: int, end: int, down: list[tuple[int, int]]
) -> list[Sample]:
    """One sample a minute from start to end, 0 inside the down windows; each down window
    ends with an up sample at its exact end (so sub-minute lengths are exact)."""
    labels = labels_of(
        {"__name__": "tenantwatch_check_up", "tenant": tenant, "check": check, "kind": "http"}
    )
    points = {t: 1.0 for t in range(start, end, MIN)}
    for lo, hi in down:
        for t in range(lo, hi, MIN):
            points[t] = 0.0
        points[lo] = 0.0
        points[hi] = 1.0
    return [(labels, t, v) for t, v in sorted(points.items())]


@pytest.fixture
def runtime_config() -> Config:
    return Config.model_validate(
        {
            "sla": {
                "maintenance_windows": [
                    {
                        "name": "db upgrade",
                        "tenants": ["maint"],
                        "start": "2026-11-10T02:00:00Z",
                        "end": "2026-11-10T04:00:00Z",
                    }
                ],
                "slis": {
                    "error_rate": {
                        "errors": 'sum(increase(app_requests_total{status="error"}[$__range]))',
                        "total": "sum(increase(app_requests_total[$__range]))",
                    }
                },
            }
        }
    )


@pytest.fixture
async def store(runtime: Runtime) -> AsyncIterator[Runtime]:
    await runtime.metrics.start()
    assert runtime.sla is not None
    runtime.sla.clock = lambda: NOW.timestamp()
    for tenant, tier, zone in (
        ("alpha", "enterprise", "UTC"),
        ("bravo", "basic", "UTC"),
        ("berlin", "enterprise", "Europe/Berlin"),
        ("maint", "enterprise", "UTC"),
    ):
        await runtime.tenants.create(
            SYSTEM, TenantInput(id=tenant, name=tenant.title(), tier=tier, timezone=zone)
        )
    samples: list[Sample] = []
    # alpha: 43 min 12 s down on 3 November -> exactly 99.9 % of 30 days
    down = NOV + 2 * 86400_000 + 600 * MIN
    samples += up_samples(
        "alpha", "api", NOV - 60 * MIN, DEC + 60 * MIN, [(down, down + 2_592_000)]
    )
    # bravo: 648 min down (1.5 % of 30 days: 98.5 %), two outages: 324 min each
    a, b = NOV + 86400_000, NOV + 20 * 86400_000
    samples += up_samples("bravo", "api", NOV, DEC, [(a, a + 324 * MIN), (b, b + 324 * MIN)])
    # berlin: October has 745 local hours; 44.7 min down is exactly 0.1 %
    d = OCT_BERLIN + 10 * 86400_000
    samples += up_samples("berlin", "api", OCT_BERLIN, NOV_BERLIN, [(d, d + 2_682_000)])
    # maint: two hours down, all inside the declared maintenance window
    m0 = ms(datetime(2026, 11, 10, 2, tzinfo=UTC))
    samples += up_samples("maint", "api", NOV, DEC, [(m0, m0 + 120 * MIN)])
    # alpha's app: 2,000 requests in November, 30 of them errors (1.5 %)
    ok = labels_of({"__name__": "app_requests_total", "tenant": "alpha", "status": "ok"})
    bad = labels_of({"__name__": "app_requests_total", "tenant": "alpha", "status": "error"})
    for i, t in enumerate(range(NOV - 5 * MIN, DEC + 5 * MIN, 5 * MIN)):
        samples.append((ok, t, float(min(i, 8640) * 1970 // 8640)))
        samples.append((bad, t, float(min(i, 8640) * 30 // 8640)))
    samples.sort(key=lambda s: s[1])
    runtime.metrics.appender.append_many(samples)
    return runtime


async def _get(client: httpx.AsyncClient, key: str, path: str, **params: str) -> httpx.Response:
    return await client.get(path, params=params, headers=bearer(key))


async def test_43_2_minutes_down_in_november_is_exactly_99_9(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ)
    r = await _get(client, key, "/api/v1/monitoring/sla/alpha", period="monthly", date="2026-11-15")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["availability"] == 99.9
    assert body["period"]["start"] == "2026-11-01T00:00:00Z"
    assert body["period"]["end"] == "2026-12-01T00:00:00Z"
    assert body["period"]["to_date"] is False
    objectives = {o["objective"]: o for o in body["objectives"]}
    assert objectives["availability_percentage"]["met"] is True
    assert body["error_budget"]["allowed_downtime_minutes"] == 43.2
    assert body["error_budget"]["downtime_minutes"] == 43.2
    assert body["error_budget"]["remaining_ratio"] == 0
    alerts = body["error_budget"]["burn_alerts"]
    assert [(a["severity"], a["long_window"], a["short_window"]) for a in alerts] == [
        ("page", "1h", "5m"),
        ("page", "6h", "30m"),
        ("ticket", "24h", "2h"),
        ("ticket", "72h", "6h"),
    ]
    assert [a["factor"] for a in alerts] == [14.4, 6, 3, 1]
    assert all(a["feasible"] for a in alerts)  # 1 / (1 - 0.999) = 1000
    assert body["downtimes"] == [
        {
            "start": "2026-11-03T10:00:00Z",
            "end": "2026-11-03T10:43:12Z",
            "minutes": 43.2,
            "checks": ["api"],
        }
    ]
    assert body["recovery_time"] == 43.2
    assert body["credit_percentage"] == 0
    # the app's error rate: 30 of 2,000 requests (1.5 %) misses enterprise's 0.5 %
    assert body["error_rate"] == pytest.approx(1.5, abs=1e-4)
    assert body["sla_compliance"] is False
    assert any("error rate 1.5" in v for v in body["violations"])
    # health: uptime 99.9 x 0.4 + response 100 x 0.3 + error 85 x 0.2 + resources 100 x 0.1
    assert body["health_score"] == pytest.approx(96.96, abs=0.01)
    names = [c["name"] for c in body["health_components"]]
    assert names == ["uptime", "response_time", "error_rate", "resource_utilization"]


async def test_october_in_berlin_has_745_hours(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ)
    r = await _get(
        client, key, "/api/v1/monitoring/sla/berlin", period="monthly", date="2026-10-31"
    )
    body = r.json()
    assert body["period"]["start"] == "2026-09-30T22:00:00Z"
    assert body["period"]["end"] == "2026-10-31T23:00:00Z"
    assert body["error_budget"]["allowed_downtime_minutes"] == 44.7  # 0.1 % of 745 h
    assert body["availability"] == 99.9


async def test_maintenance_is_excluded(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ)
    r = await _get(client, key, "/api/v1/monitoring/sla/maint", period="monthly", date="2026-11-02")
    body = r.json()
    assert body["availability"] == 100
    assert body["excluded_minutes"] == 120
    assert body["downtimes"] == []


async def test_credits_follow_the_tiers_schedule_and_recovery_is_the_mean(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ)
    r = await _get(client, key, "/api/v1/monitoring/sla/bravo", period="monthly", date="2026-11-30")
    body = r.json()
    assert body["availability"] == 98.5
    assert body["credit_percentage"] == 25  # below 99 %, not below 95 %
    assert body["recovery_time"] == 324
    assert body["sla_compliance"] is False
    assert "availability 98.5% is below the target 99%" in body["violations"]


async def test_the_platform_report_has_overall_compliance(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ)
    r = await _get(
        client, key, "/api/v1/monitoring/reports/sla", period="monthly", date="2026-11-15"
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total_tenants"] == 4
    met = {t["tenant_id"]: t["sla_compliance"] for t in body["tenants"]}
    # alpha misses its error rate, bravo its availability; berlin has no November data
    assert met == {"alpha": False, "bravo": False, "berlin": True, "maint": True}
    assert body["overall_compliance"] == 50


async def test_a_tenant_key_sees_only_its_tenant(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ, tenant="bravo")
    assert (await _get(client, key, "/api/v1/monitoring/sla/alpha")).status_code == 404
    assert (await _get(client, key, "/api/v1/monitoring/sla/bravo")).status_code == 200
    report = (await _get(client, key, "/api/v1/monitoring/reports/sla", date="2026-11-15")).json()
    assert [t["tenant_id"] for t in report["tenants"]] == ["bravo"]
    assert (await _get(client, key, "/api/v1/monitoring/sla/alpha/credits")).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "fortnightly"}, "period"),
        ({"period": "monthly", "date": "2027-03-01"}, "date"),
        ({"period": "7d", "date": "2026-11-01"}, "period"),
        ({"period": "monthly", "date": "not-a-date"}, "date"),
    ],
)
async def test_bad_periods_are_422_naming_the_parameter(
    store: Runtime,
    client: httpx.AsyncClient,
    make_key: KeyMaker,
    params: dict[str, str],
    field: str,
) -> None:
    key = await make_key(Scope.READ)
    r = await _get(client, key, "/api/v1/monitoring/sla/alpha", **params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", field]


async def test_the_current_period_is_to_date(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ)
    body = (await _get(client, key, "/api/v1/monitoring/sla/alpha")).json()
    assert body["period"]["start"] == "2026-12-01T00:00:00Z"
    assert body["period"]["end"] == "2026-12-07T12:00:00Z"
    assert body["period"]["full_end"] == "2027-01-01T00:00:00Z"
    assert body["period"]["to_date"] is True


async def test_the_credit_ledger_closes_last_month_and_keeps_it(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    assert store.sla is not None and store.sla_credits is not None
    month = await store.sla.platform_report(SYSTEM, "monthly")
    await store.sla_credits.record(month.tenants)
    key = await make_key(Scope.READ)
    body = (await _get(client, key, "/api/v1/monitoring/sla/bravo/credits")).json()
    rows = {e["month"]: e for e in body["items"]}
    assert rows["2026-11"]["final"] is True
    assert rows["2026-11"]["credit_percentage"] == 25
    assert rows["2026-11"]["availability_percentage"] == 98.5
    assert rows["2026-12"]["final"] is False
    # a final month is never rewritten, whatever is recorded later
    late = [r for r in (await store.sla.platform_report(SYSTEM, "monthly", None)).tenants]
    await store.sla_credits.record(late)
    again = (await _get(client, key, "/api/v1/monitoring/sla/bravo/credits")).json()
    assert {e["month"]: e["computed_at"] for e in again["items"]}["2026-11"] == rows["2026-11"][
        "computed_at"
    ]


async def test_the_daily_metrics_and_predictions_answer(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = await make_key(Scope.READ)
    r = await _get(
        client,
        key,
        "/api/v1/monitoring/metrics/alpha",
        start_date="2026-11-02",
        end_date="2026-11-04",
    )
    assert r.status_code == 200, r.text
    days = {d["date"]: d for d in r.json()["days"]}
    assert list(days) == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert days["2026-11-02"]["availability"] == 100
    assert days["2026-11-03"]["downtime_minutes"] == 43.2
    # 43.2 of 1,440 minutes down
    assert days["2026-11-03"]["availability"] == 97.0
    r = await _get(client, key, "/api/v1/monitoring/insights/alpha/predictions")
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    assert predictions["scaling_recommendation"]["action"] in ("scale_up", "scale_down", "maintain")
    r = await _get(client, key, "/api/v1/monitoring/metrics/platform")
    assert r.status_code == 200, r.text
    assert r.json()["platform_metrics"]["total_tenants"] == 4


async def test_reports_come_as_csv_and_as_a_pdf_a_customer_can_read(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    import csv
    import io

    from pypdf import PdfReader

    key = await make_key(Scope.READ)
    params = {"tenant_id": "bravo", "period": "monthly", "date": "2026-11-15"}
    r = await _get(client, key, "/api/v1/monitoring/reports/sla", **params, format="csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="sla-bravo-monthly-2026-11-01.csv"' in r.headers["content-disposition"]
    rows = {row["objective"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert float(rows["availability_percentage"]["actual"]) == 98.5
    assert rows["availability_percentage"]["met"] == "false"
    r = await _get(client, key, "/api/v1/monitoring/reports/sla", **params, format="pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "Bravo" in text and "98.5" in text and "25" in text
    assert "2026-11-02" in text  # the first outage's row
    platform = await _get(
        client,
        key,
        "/api/v1/monitoring/reports/sla",
        period="monthly",
        date="2026-11-15",
        format="csv",
    )
    tenants = [row["tenant_id"] for row in csv.DictReader(io.StringIO(platform.text))]
    assert sorted(tenants) == ["alpha", "berlin", "bravo", "maint"]


async def test_a_tenant_with_critical_checks_is_measured_by_them_alone(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    assert store.sla is not None
    job = NOV + 5 * 86400_000
    store.metrics.appender.append_many(
        up_samples("alpha", "nightly-job", NOV, DEC, [(job, job + 120 * MIN)])
    )
    key = await make_key(Scope.READ)

    async def critical(tenant_id: str | None) -> dict[str, set[str]]:
        return {"alpha": {"api"}}

    params = {"period": "monthly", "date": "2026-11-15"}
    every = (await _get(client, key, "/api/v1/monitoring/sla/alpha", **params)).json()
    assert every["availability"] < 99.9  # the job's two hours count too
    assert {c for d in every["downtimes"] for c in d["checks"]} == {"api", "nightly-job"}
    store.sla.critical = critical
    only = (await _get(client, key, "/api/v1/monitoring/sla/alpha", **params)).json()
    assert only["availability"] == 99.9
    report = (await _get(client, key, "/api/v1/monitoring/reports/sla", **params)).json()
    assert {t["tenant_id"]: t["availability"] for t in report["tenants"]}["alpha"] == 99.9


async def test_recovery_time_reads_the_tenants_incidents_when_there_are_any(
    store: Runtime, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    from datetime import timedelta

    from tenantwatch.incidents.model import Severity, Status

    assert store.incidents is not None
    times = iter(
        [datetime(2026, 11, 3, 10, 0, tzinfo=UTC), datetime(2026, 11, 3, 10, 6, tzinfo=UTC)]
    )
    store.incidents.clock = lambda: next(times)
    inc = await store.incidents.create(SYSTEM, title="db", severity=Severity.P1, tenants=["alpha"])
    await store.incidents.transition(SYSTEM, inc.id, Status.RESOLVED)
    resolved = await store.incidents.get(SYSTEM, inc.id)
    assert resolved.time_to_resolve == timedelta(minutes=6)
    key = await make_key(Scope.READ)
    body = (
        await _get(client, key, "/api/v1/monitoring/sla/alpha", period="monthly", date="2026-11-15")
    ).json()
    assert body["recovery_time"] == 6  # the incident's, not the 43.2-minute down run
    objectives = {o["objective"]: o for o in body["objectives"]}
    assert objectives["recovery_time_minutes"]["met"] is True

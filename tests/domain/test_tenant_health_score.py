"""A tenant's health score is seed 000's weighted score of what its checks tell now."""

from __future__ import annotations

from tenantwatch.domain.check_reports import platform_report
from tenantwatch.domain.checks import Check, CheckKind, CheckState, CheckStatus
from tenantwatch.domain.tenant_health import CheckHealth, TenantHealth, p95, tenant_health

U, D, N = CheckStatus.UP, CheckStatus.DOWN, CheckStatus.UNKNOWN


def _h(
    cid: str,
    status: CheckStatus,
    *,
    ms: float | None = 100,
    failures: int = 0,
    kind: CheckKind = CheckKind.HTTP,
    details: dict[str, float] | None = None,
) -> CheckHealth:
    check = Check(id=cid, tenant_id="t", name=cid, kind=kind, settings={})
    duration = None if ms is None else ms / 1000
    state = CheckState(cid, status=status, failures=failures, last_duration_s=duration)
    return CheckHealth(check, state, details or {})


def _parts(h: TenantHealth) -> dict[str, float]:
    return {c.name: c.score for c in h.components}


def test_a_tenant_with_every_check_up_and_fast_scores_100() -> None:
    h = tenant_health("t", [_h("a", U, ms=0.2), _h("b", U, ms=0.1), _h("c", U, ms=0.2)], 500)
    # p95 0.0002 s: response time 100 - 0.01 = 99.99; 40 + 29.997 + 20 + 10 = 99.997 -> 100
    assert h.score == 100.0
    assert _parts(h) == {
        "uptime": 100.0,
        "response_time": 100 - 0.0002 * 50,
        "error_rate": 100.0,
        "resource_utilization": 100.0,
    }


def test_one_check_down_out_of_two_with_a_p95_of_0_4_s() -> None:
    h = tenant_health("t", [_h("api", U, ms=400), _h("db", D, ms=100)], 500)
    # uptime 1/2: 50 x 0.4 = 20
    # p95 of (0.1, 0.4) by nearest rank (the 2nd of 2): 0.4 s, 100 - 50 x 0.4 = 80; x 0.3 = 24
    # error rate 50 %: max(0, 100 - 10 x 50) = 0; x 0.2 = 0
    # no CPU or memory figures: 100 x 0.1 = 10
    # 20 + 24 + 0 + 10 = 54
    assert h.score == 54.0
    assert _parts(h) == {
        "uptime": 50.0,
        "response_time": 80.0,
        "error_rate": 0.0,
        "resource_utilization": 100.0,
    }
    assert [(c.weight, c.weighted) for c in h.components] == [
        (0.4, 20.0),
        (0.3, 24.0),
        (0.2, 0.0),
        (0.1, 10.0),
    ]


def test_a_failing_check_counts_as_an_error_before_it_is_down() -> None:
    checks = [_h(f"c{i}", U, ms=10 * i) for i in range(1, 20)]
    checks.append(_h("c20", U, ms=200, failures=1))
    h = tenant_health("t", checks, 500)
    # uptime 20/20: 40; p95 of 0.01 .. 0.20 s by nearest rank (the 19th of 20): 0.19 s,
    # 100 - 9.5 = 90.5, x 0.3 = 27.15; error rate 1/20 = 5 %: 100 - 50 = 50, x 0.2 = 10;
    # resources 10. 40 + 27.15 + 10 + 10 = 87.15
    assert h.score == 87.15
    assert _parts(h)["error_rate"] == 50.0


def test_cpu_at_80_percent_lowers_the_resource_component_to_20() -> None:
    sampler = _h("sampler", U, ms=None, kind=CheckKind.PYTHON)
    h = tenant_health(
        "t",
        [CheckHealth(sampler.check, sampler.state, {"cpu_percent": 80, "memory_percent": 30})],
        500,
    )
    # 100 - max(80, 30) = 20, x 0.1 = 2; a python check times no round trip, so p95 is 0:
    # 40 + 30 + 20 + 2 = 92
    assert _parts(h)["resource_utilization"] == 20.0
    assert h.score == 92.0


def test_memory_use_counts_when_it_is_the_larger() -> None:
    h = tenant_health(
        "t", [_h("a", U, ms=None, details={"cpu_percent": 10, "memory_percent": 90})], 500
    )
    assert _parts(h)["resource_utilization"] == 10.0


def test_connection_and_client_counts_are_no_cpu_or_memory_use() -> None:
    busy = {"connections_used_ratio": 0.95, "used_memory": 8e9, "connected_clients": 900}
    h = tenant_health("t", [_h("db", U, ms=None, kind=CheckKind.POSTGRES, details=busy)], 500)
    assert _parts(h)["resource_utilization"] == 100.0
    assert h.score == 100.0


def test_an_unknown_tenant_has_no_score_and_no_components() -> None:
    h = tenant_health("t", [_h("a", N)], 500)
    assert (h.score, h.components) == (None, ())
    assert tenant_health("t", [], 500).components == ()


def test_unknown_checks_are_left_out_of_every_component() -> None:
    h = tenant_health("t", [_h("a", U, ms=0), _h("new", N, ms=5000)], 500)
    assert h.score == 100.0


def test_p95_is_the_nearest_rank() -> None:
    assert p95([]) == 0.0
    assert p95([0.3]) == 0.3
    assert p95([0.4, 0.1]) == 0.4  # rank ceil(0.95 x 2) = 2
    assert p95([float(i) for i in range(1, 21)]) == 19.0  # rank ceil(0.95 x 20) = 19
    assert p95([float(i) for i in range(1, 101)]) == 95.0


def test_the_platform_averages_and_sorts_the_new_scores() -> None:
    good = tenant_health("good", [_h("a", U), _h("b", U)], 500)  # 98.5
    bad = tenant_health("bad", [_h("api", U, ms=400), _h("db", D)], 500)  # 54
    new = tenant_health("new", [_h("a", N)], 500)
    report = platform_report([good, new, bad])
    assert [h.tenant_id for h in report.worst_first] == ["bad", "good", "new"]
    assert report.average_score == 76.25  # (98.5 + 54) / 2, to two decimals like the scores

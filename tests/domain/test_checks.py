"""Check state moves with thresholds; checks spread over their interval; tenant health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tenantwatch.domain.checks import (
    Check,
    CheckKind,
    CheckState,
    CheckStatus,
    advance,
    offset_s,
    public_settings,
    slot_of,
    slot_start,
)
from tenantwatch.domain.tenant_health import CheckHealth, HealthStatus, tenant_health

T0 = datetime(2026, 11, 22, tzinfo=UTC)
CHECK = Check(id="c1", tenant_id="acme", name="c1", kind=CheckKind.HTTP, settings={})


def feed(outcomes: str, check: Check = CHECK) -> list[CheckStatus]:
    """Run a sequence of results ('+' pass, '-' fail); return the status after each."""
    state = CheckState("c1")
    seen = []
    for i, ch in enumerate(outcomes):
        state, _ = advance(
            check, state, ok=ch == "+", error="boom", duration_s=0.1, now=T0 + timedelta(i)
        )
        seen.append(state.status)
    return seen


U, D, N = CheckStatus.UP, CheckStatus.DOWN, CheckStatus.UNKNOWN


def test_down_after_three_failures_up_after_two_successes() -> None:
    assert feed("+--+---++") == [U, U, U, U, U, U, D, D, U]


def test_a_flapping_target_never_changes_state() -> None:
    assert set(feed("+-+-+--+-+--+")) == {U}
    assert feed("---+-+-+-")[-1] is D


def test_a_new_check_is_unknown_until_it_passes_or_fails_enough() -> None:
    assert feed("--") == [N, N]
    assert feed("---") == [N, N, D]


def test_changes_carry_time_and_reason() -> None:
    state = CheckState("c1", status=U)
    changes = []
    for i in range(3):
        state, change = advance(
            CHECK, state, ok=False, error="status 503", duration_s=0.1, now=T0 + timedelta(i)
        )
        changes.append(change)
    assert changes[:2] == [None, None]
    last = changes[2]
    assert last is not None and (last.old, last.new) == (U, D)
    assert last.at == T0 + timedelta(2) and "3 failed runs in a row: status 503" in last.reason
    assert state.since == last.at


def test_offsets_are_stable_and_spread_over_the_interval() -> None:
    offsets = [offset_s(f"check-{i}", 60) for i in range(1000)]
    assert offsets == [offset_s(f"check-{i}", 60) for i in range(1000)]
    assert all(0 <= o < 60 for o in offsets)
    per_decile = [sum(1 for o in offsets if k * 6 <= o < (k + 1) * 6) for k in range(10)]
    assert min(per_decile) > 70 and max(per_decile) < 130


def test_slots() -> None:
    assert slot_of(125.0, 60, 5) == 2
    assert slot_start(2, 60, 5) == 125.0
    assert slot_of(124.99, 60, 5) == 1


def test_a_dsn_password_in_the_query_is_hidden_too() -> None:
    shown = public_settings({"dsn": "postgresql://u@db/app?sslmode=require&password=pg-secret"})
    assert "pg-secret" not in repr(shown) and "sslmode=require" in shown["dsn"]
    assert public_settings({"url": "redis://cache:6379/0"})["url"] == "redis://cache:6379/0"


def test_public_settings_hide_secrets() -> None:
    shown = public_settings(
        {
            "url": "https://user:pw@example.com/x",
            "bearer_token": "s3cret",
            "basic_auth": {"username": "u", "password": "pw2"},
            "headers": {"Authorization": "Bearer zzz", "Accept": "json"},
        },
    )
    text = repr(shown)
    assert "s3cret" not in text and "pw2" not in text and "zzz" not in text and ":pw@" not in text
    assert shown["headers"]["Accept"] == "json"


def _h(
    cid: str,
    status: CheckStatus,
    *,
    failures: int = 0,
    ms: float = 100,
    critical: bool = False,
    details: dict[str, float] | None = None,
    kind: CheckKind = CheckKind.HTTP,
) -> CheckHealth:
    check = Check(id=cid, tenant_id="t", name=cid, kind=kind, settings={}, critical=critical)
    state = CheckState(cid, status=status, failures=failures, last_duration_s=ms / 1000)
    return CheckHealth(check, state, details or {})


def test_tenant_health_rules() -> None:
    healthy = tenant_health("t", [_h("a", U), _h("b", U)], 500)
    # uptime 100 x 0.4 + (100 - 50 x 0.1 s) x 0.3 + errors 100 x 0.2 + resources 100 x 0.1
    # = 40 + 28.5 + 20 + 10
    assert (healthy.status, healthy.score) == (HealthStatus.HEALTHY, 98.5)
    degraded = tenant_health("t", [_h("a", U), _h("b", U), _h("c", D)], 500)
    # uptime 2/3: 66.67 x 0.4 = 26.67; p95 0.1 s: 95 x 0.3 = 28.5; errors 33.3 %:
    # max(0, 100 - 333) = 0; resources 10. 26.667 + 28.5 + 0 + 10 = 65.17
    assert degraded.status is HealthStatus.DEGRADED and degraded.score == 65.17
    assert degraded.reasons == ("c is down: down",) or "c is down" in degraded.reasons[0]
    slow = tenant_health("t", [_h("a", U, ms=900), _h("b", U)], 500)
    # p95 of (0.1, 0.9) by nearest rank is 0.9 s: (100 - 45) x 0.3 = 16.5; 40 + 16.5 + 20 + 10
    assert slow.status is HealthStatus.DEGRADED and slow.score == 86.5
    failing = tenant_health("t", [_h("a", U, failures=1)], 500)
    assert failing.status is HealthStatus.DEGRADED
    half = tenant_health("t", [_h("a", U), _h("b", D)], 500)
    assert half.status is HealthStatus.UNHEALTHY
    critical = tenant_health("t", [_h("a", U), _h("b", U), _h("c", D, critical=True)], 500)
    assert critical.status is HealthStatus.UNHEALTHY
    unknown = tenant_health("t", [_h("a", N)], 500)
    assert unknown.status is HealthStatus.UNKNOWN and unknown.score is None


def test_a_heartbeat_jobs_run_time_is_not_held_against_the_api_response_target() -> None:
    nightly = _h("nightly-export", U, ms=1_800_000, kind=CheckKind.HEARTBEAT)
    api = _h("api", U, ms=120)
    health = tenant_health("t", [nightly, api], 500)
    # p95 is the api's 0.12 s alone: 40 + (100 - 6) x 0.3 + 20 + 10 = 98.2 (with the job's
    # 1,800 s the response-time component would be 0 and the score 70)
    assert (health.status, health.score, health.reasons) == (HealthStatus.HEALTHY, 98.2, ())
    assert health.avg_response_time_ms == 120.0  # the job's half hour is no response time


def test_only_http_checks_are_held_against_the_api_response_target() -> None:
    slow_query = _h("db", U, ms=900, kind=CheckKind.POSTGRES)
    assert tenant_health("t", [slow_query], 500).status is HealthStatus.HEALTHY
    slow_api = _h("api", U, ms=900)
    assert tenant_health("t", [slow_query, slow_api], 500).status is HealthStatus.DEGRADED


def test_resource_figures_roll_up() -> None:
    h = tenant_health(
        "t",
        [
            _h("db", U, details={"connections_in_use": 12, "max_connections": 100}),
            _h("cache", U, details={"used_memory": 1024.0, "connected_clients": 3}),
        ],
        500,
    )
    assert h.resources == {
        "connections_in_use": 12.0,
        "max_connections": 100.0,
        "used_memory": 1024.0,
        "connected_clients": 3.0,
    }

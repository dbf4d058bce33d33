"""A run's verdict: the probe's own, the conditions', and what a tenant may see of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tenantwatch.domain.check_judge import heartbeat_run, hides_payload, judge, observation
from tenantwatch.domain.check_specs import SpecError
from tenantwatch.domain.checks import Check, CheckKind
from tenantwatch.domain.heartbeat import HeartbeatState
from tenantwatch.domain.probe_result import ProbeResult

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _check(kind: CheckKind, settings: dict[str, object], **kw: object) -> Check:
    return Check("acme.c", "acme", "c", kind, settings, **kw)  # type: ignore[arg-type]


def test_failed_conditions_make_the_error_when_the_probe_passed() -> None:
    check = _check(
        CheckKind.HTTP,
        {"url": "http://a/"},
        conditions=("[STATUS] == 200", "[RESPONSE_TIME] < 100"),
    )
    run = judge(check, ProbeResult(ok=True, duration_s=0.25, status_code=200), AT)
    assert not run.ok
    assert run.error == "condition failed: [RESPONSE_TIME] (250) < 100"
    assert [c.ok for c in run.conditions] == [True, False]
    assert run.details == {"body_size": 0}


def test_the_probes_own_error_wins() -> None:
    check = _check(CheckKind.HTTP, {"url": "http://a/"}, conditions=("[STATUS] == 200",))
    run = judge(check, ProbeResult(ok=False, duration_s=1.0, error="timed out"), AT)
    assert run.error == "timed out"


def test_a_query_value_of_a_check_made_through_the_api_is_judged_but_never_shown() -> None:
    check = _check(CheckKind.POSTGRES, {"dsn": "postgres://u@h/db"}, conditions=("[VALUE] > 1",))
    assert hides_payload(check)
    assert not hides_payload(_check(CheckKind.POSTGRES, {"dsn": "x"}, managed_by="config"))
    run = judge(check, ProbeResult(ok=True, duration_s=0.0, details={"value": "42"}), AT)
    assert run.ok
    assert "value" not in run.details


def test_an_observation_reads_numbers_and_the_certificate_expiry() -> None:
    result = ProbeResult(
        ok=True,
        duration_s=0.5,
        certificate_expiry=AT + timedelta(seconds=2),
        details={"value": "3.5", "rcode": "NOERROR"},
    )
    obs = observation(result, AT)
    assert (obs.value, obs.response_time_ms, obs.certificate_expiry_ms) == (3.5, 500.0, 2000.0)
    assert obs.dns_rcode == "NOERROR"
    assert observation(ProbeResult(ok=True, duration_s=0, details={"value": "x"}), AT).value is None


def test_a_heartbeat_run_is_the_verdict_on_its_pings() -> None:
    check = _check(CheckKind.HEARTBEAT, {"period": 3600.0, "grace": 60.0})
    fresh = HeartbeatState(created=AT, last_ping=AT)
    assert heartbeat_run(check, fresh, AT + timedelta(minutes=30)).ok
    late = heartbeat_run(check, fresh, AT + timedelta(hours=2))
    assert not late.ok
    assert late.details["last_ping"] == AT.isoformat()


def test_a_heartbeat_with_unreadable_settings_says_why() -> None:
    check = _check(CheckKind.HEARTBEAT, {"grace": "soon"})
    with pytest.raises(SpecError, match="could not convert string to float"):
        heartbeat_run(check, HeartbeatState(created=AT), AT)

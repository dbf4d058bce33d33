"""What holds an alert back: silences, inhibition, time intervals, flapping, acknowledgement."""

from __future__ import annotations

from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.config import parse_alertmanager_config
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.routing import LabelMatcher
from tenantwatch.alertmanager.silences import Silence
from tenantwatch.alertmanager.suppression import (
    inhibited_by,
    inhibition_sources,
    muted,
    time_muted,
)
from tenantwatch.domain.flapping import FlapState

NOW = 1_700_000_000.0  # a Tuesday, 22:13 UTC


def record(ends_at: float = NOW + 300, **labels: str) -> AlertRecord:
    a = AmAlert.of(
        labels=labels, annotations={}, starts_at=NOW - 60, ends_at=ends_at, updated_at=NOW - 60
    )
    return AlertRecord(a, "api", NOW - 60, NOW - 60)


def silence(sid: str, name: str, ends_at: float = NOW + 60) -> Silence:
    return Silence(
        id=sid,
        matchers=(LabelMatcher.of("alertname", "=", name),),
        starts_at=NOW - 60,
        ends_at=ends_at,
        updated_at=NOW - 60,
        created_by="ops",
        comment="",
    )


AM = parse_alertmanager_config(
    """
route:
  receiver: r
  routes:
    - receiver: r
      matchers: [team="night"]
      active_time_intervals: [nights]
    - receiver: r
      matchers: [team="muted"]
      mute_time_intervals: [nights]
receivers: [{name: r}]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
time_intervals:
  - name: nights
    time_intervals: [{times: [{start_time: "20:00", end_time: "23:59"}]}]
""",
    "am.yml",
)


def test_flapping_and_acknowledged_firing_alerts_are_muted_until_they_resolve() -> None:
    quiet = record(alertname="Quiet")
    flapping = record(alertname="Flap")
    flapping = AlertRecord(flapping.alert, "api", 0, 0, flap=FlapState(flapping=True))
    acked = record(alertname="Acked")
    acked = AlertRecord(acked.alert, "api", 0, 0, ack_at=NOW - 1, ack_until=NOW + 10)
    recs = {r.fingerprint: r for r in (quiet, flapping, acked)}
    assert not muted({"alertname": "Quiet"}, recs, [], NOW)
    assert muted({"alertname": "Flap"}, recs, [], NOW)
    assert muted({"alertname": "Acked"}, recs, [], NOW)
    assert not muted({"alertname": "Acked"}, recs, [], NOW + 11)  # the ack ran out
    assert muted({"alertname": "Quiet"}, recs, [silence("s", "Quiet")], NOW)


def test_only_firing_sources_inhibit_and_they_are_named_by_fingerprint() -> None:
    critical = record(alertname="Down", severity="critical", service="api")
    old = record(NOW - 1, alertname="Old", severity="critical", service="db")
    recs = [critical, old]
    rules = AM.inhibit_rules
    assert inhibition_sources(recs, rules, NOW) == [critical.alert.label_map()]
    assert inhibition_sources(recs, (), NOW) == []
    target = {"alertname": "Slow", "severity": "warning", "service": "api"}
    assert inhibited_by(target, recs, rules, NOW) == [critical.fingerprint]
    assert inhibited_by({**target, "service": "db"}, recs, rules, NOW) == []


def test_routes_keep_to_their_active_and_out_of_their_mute_intervals() -> None:
    night, muted_route = AM.route.routes
    evening = NOW  # 22:13 UTC
    morning = NOW + 10 * 3600  # 08:13 UTC
    assert not time_muted(night, AM.time_intervals, evening)
    assert time_muted(night, AM.time_intervals, morning)
    assert time_muted(muted_route, AM.time_intervals, evening)
    assert not time_muted(muted_route, AM.time_intervals, morning)
    assert not time_muted(AM.route, AM.time_intervals, evening)

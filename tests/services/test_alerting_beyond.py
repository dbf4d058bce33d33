"""Beyond Alertmanager: flap detection, escalation with on-call, PagerDuty acknowledgements,
occurrence counting and acknowledgement muting, on the alert manager with a test clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.migrate import migrate
from tenantwatch.adapters.db.repos.alerting import SqlAlertRepo
from tenantwatch.alertmanager.config import parse_alertmanager_config
from tenantwatch.alertmanager.outgoing import Outgoing
from tenantwatch.config.alerting_model import EscalationConfig
from tenantwatch.domain.flapping import FlapConfig
from tenantwatch.services.alerting import AlertingService, Incoming
from tenantwatch.services.escalation import Escalator
from tenantwatch.workers.alert_manager import AlertManagerWorker

AM = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 10s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{url: "http://127.0.0.1:9/hook"}]
  - name: pd
    pagerduty_configs: [{routing_key: "0123456789abcdef0123456789abcdef", url: "http://127.0.0.1:9/pd"}]
  - name: team-slack
    webhook_configs: [{url: "http://127.0.0.1:9/slack"}]
  - name: team-mail
    webhook_configs: [{url: "http://127.0.0.1:9/mail"}]
  - name: alice-pager
    webhook_configs: [{url: "http://127.0.0.1:9/alice"}]
"""


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    await migrate(eng)
    yield eng
    await eng.dispose()


def service(
    engine: AsyncEngine,
    clock: Clock,
    sent: list[Outgoing],
    config: str = AM,
    escalation: EscalationConfig | None = None,
    tiers: dict[str, str] | None = None,
) -> AlertingService:
    am = parse_alertmanager_config(config, "am.yml")

    async def enqueue(items: Sequence[Outgoing]) -> None:
        sent.extend(items)

    async def tenant_tiers() -> dict[str, str]:
        return dict(tiers or {})

    return AlertingService(
        am,
        SqlAlertRepo(engine),
        enqueue,
        external_url="http://tw",
        now=clock,
        flap_config=FlapConfig(window_s=3600, digest_interval_s=600),
        escalator=Escalator(escalation, am.receivers) if escalation else None,
        tenant_tiers=tenant_tiers,
    )


def body(item: Outgoing) -> dict[str, Any]:
    assert item.request.body is not None
    parsed: dict[str, Any] = json.loads(item.request.body)
    return parsed


async def test_a_flapping_alert_pages_once_then_stays_quiet(engine: AsyncEngine) -> None:
    clock = Clock(1_000_000.0)
    sent: list[Outgoing] = []
    svc = service(engine, clock, sent)
    labels = {"alertname": "Wobbly", "tenant": "alpha"}
    for i in range(14):  # firing, resolved, firing, ... every 30 s
        clock.t += 30
        ends = None if i % 2 == 0 else clock.t
        await svc.post([Incoming(labels, {}, clock.t - 1, ends)])
        await svc.tick(clock.t)
    notices = [b for b in map(body, sent) if "flapping" in b["alerts"][0]["annotations"]]
    assert len(notices) == 1
    assert notices[0]["alerts"][0]["annotations"]["flapping"].startswith("started flapping")
    record = next(iter(svc.records.values()))
    assert record.flapping
    before = len(sent)
    for _ in range(4):  # more changes while flapping: nothing individual goes out
        clock.t += 30
        await svc.post([Incoming(labels, {}, clock.t - 1, None)])
        await svc.tick(clock.t)
    assert len(sent) == before
    # a quiet hour later it stops flapping and says so
    clock.t += 3600
    svc._last_maintenance = 0.0
    await svc.tick(clock.t)
    last = body(sent[-1])["alerts"][0]["annotations"]["flapping"]
    assert last.startswith("stopped flapping")


async def test_escalation_reaches_channels_then_whoever_is_on_call(engine: AsyncEngine) -> None:
    clock = Clock(1_700_000_000.0)
    sent: list[Outgoing] = []
    escalation = EscalationConfig(
        enabled=True,
        channels={"slack": "team-slack", "email": "team-mail"},
        oncall={
            "primary": {
                "timezone": "UTC",
                "rotations": [
                    {"users": ["alice"], "start": "2023-01-02T09:00", "length": "weekly"}
                ],
            }
        },
        users={"alice": "alice-pager"},
    )
    svc = service(engine, clock, sent, escalation=escalation, tiers={"alpha": "professional"})
    labels = {"alertname": "DbDown", "tenant": "alpha", "severity": "critical"}
    await svc.post([Incoming(labels, {"summary": "db down"}, clock.t, None)])
    await svc.tick(clock.t)
    escalations = [s for s in sent if s.group_key.startswith("escalation/")]
    assert sorted(s.receiver for s in escalations) == ["team-mail", "team-slack"]
    clock.t += 61  # professional critical: the primary on-call after a minute
    await svc.tick(clock.t)
    escalations = [s for s in sent if s.group_key.startswith("escalation/")]
    assert sorted(s.receiver for s in escalations) == ["alice-pager", "team-mail", "team-slack"]
    note = body(escalations[-1])["alerts"][0]["annotations"]["escalation"]
    assert note == "escalation step 1: oncall:primary"
    # acknowledged: the secondary step (minute 2) never goes out
    (record,) = svc.records.values()
    await svc.acknowledge(record.fingerprint, None, "bob", "on it", None)
    clock.t += 120
    await svc.tick(clock.t)
    assert len([s for s in sent if s.group_key.startswith("escalation/")]) == 3


async def test_acknowledging_tells_pagerduty_with_the_same_dedup_key(engine: AsyncEngine) -> None:
    clock = Clock(1_700_000_000.0)
    sent: list[Outgoing] = []
    config = AM.replace("receiver: hook\n  group_by", "receiver: pd\n  group_by")
    svc = service(engine, clock, sent, config=config)
    await svc.post([Incoming({"alertname": "Down", "severity": "critical"}, {}, clock.t, None)])
    await svc.tick(clock.t)
    (trigger,) = sent
    assert body(trigger)["event_action"] == "trigger"
    (record,) = svc.records.values()
    await svc.acknowledge(record.fingerprint, None, "bob", None, None)
    ack = body(sent[-1])
    assert ack["event_action"] == "acknowledge"
    assert ack["dedup_key"] == body(trigger)["dedup_key"]
    assert sent[-1].alert_status == "acknowledged"


async def test_repeats_within_an_hour_count_as_occurrences(engine: AsyncEngine) -> None:
    clock = Clock(1_700_000_000.0)
    svc = service(engine, clock, [])
    labels = {"alertname": "Spiky"}
    await svc.post([Incoming(labels, {}, clock.t, None)])
    clock.t += 60
    await svc.post([Incoming(labels, {}, clock.t - 60, clock.t)])  # resolved
    clock.t += 600
    await svc.post([Incoming(labels, {}, clock.t, None)])  # fires again within the hour
    (record,) = svc.records.values()
    assert record.occurrences == 2
    clock.t += 7200
    await svc.post([Incoming(labels, {}, clock.t - 1, clock.t - 1)])
    clock.t += 10
    await svc.post([Incoming(labels, {}, clock.t, None)])  # a new series: count restarts
    (record,) = svc.records.values()
    assert record.occurrences == 1


async def test_state_survives_a_restart(engine: AsyncEngine) -> None:
    clock = Clock(1_700_000_000.0)
    sent: list[Outgoing] = []
    svc = service(engine, clock, sent)
    await svc.post([Incoming({"alertname": "Kept", "tenant": "alpha"}, {}, clock.t, None)])
    await svc.tick(clock.t)
    assert len(sent) == 1
    again = service(engine, clock, sent)
    worker = AlertManagerWorker(again)
    await worker.start()
    try:
        clock.t += 15
        await again.tick(clock.t)
        assert len(sent) == 1  # the notification log came back: no second notification
        assert [r.alert.label_map()["alertname"] for r in again.records.values()] == ["Kept"]
    finally:
        await worker.stop()


async def test_a_silence_can_end_when_its_alerts_resolve(engine: AsyncEngine) -> None:
    from tenantwatch.alertmanager.routing import LabelMatcher
    from tenantwatch.alertmanager.silences import Silence

    clock = Clock(1_700_000_000.0)
    sent: list[Outgoing] = []
    svc = service(engine, clock, sent)
    silence = Silence(
        id="",
        matchers=(LabelMatcher.of("alertname", "=", "Deploy"),),
        starts_at=clock.t - 1,
        ends_at=clock.t + 86400,
        updated_at=clock.t,
        created_by="ops",
        comment="until the deploy alerts clear",
        end_on_resolve=True,
    )
    sid = await svc.save_silence(silence)
    labels = {"alertname": "Deploy"}
    await svc.post([Incoming(labels, {}, clock.t, None)])
    await svc.tick(clock.t)
    assert sent == []  # silenced
    assert svc.silence_status(svc.silences[sid]) == "active"
    clock.t += 60
    await svc.post([Incoming(labels, {}, clock.t - 60, clock.t)])  # resolved
    await svc.tick(clock.t)
    assert svc.silence_status(svc.silences[sid]) == "expired"
    assert sent == []  # the receiver never heard of it, so no resolution either
    clock.t += 60
    await svc.post([Incoming(labels, {}, clock.t, None)])  # fires again: no longer silenced
    clock.t += 1
    await svc.tick(clock.t)
    assert [body(s)["status"] for s in sent] == ["firing"]


async def test_groups_due_together_go_to_the_outbox_in_one_write(engine: AsyncEngine) -> None:
    clock = Clock(1_700_000_000.0)
    sent: list[Outgoing] = []
    svc = service(engine, clock, sent)
    writes: list[int] = []
    recorded = svc.enqueue

    async def counting(items: Sequence[Outgoing]) -> None:
        writes.append(len(items))
        await recorded(items)

    svc.enqueue = counting
    await svc.post([Incoming({"alertname": f"A{i}"}, {}, clock.t, None) for i in range(5)])
    await svc.tick(clock.t)
    assert writes == [5]  # five groups (group_by alertname), one outbox write
    assert sorted(body(o)["groupLabels"]["alertname"] for o in sent) == [f"A{i}" for i in range(5)]
    assert len(svc.nflog) == 5  # and each group's log entry


async def test_each_notification_names_its_alerts_and_group(engine: AsyncEngine) -> None:
    clock = Clock(1_700_000_000.0)
    sent: list[Outgoing] = []
    svc = service(engine, clock, sent)
    await svc.post(
        [Incoming({"alertname": "Down", "instance": i}, {}, clock.t, None) for i in ("a", "b")]
    )
    await svc.tick(clock.t)
    [item] = sent
    payload = body(item)
    assert sorted(item.fingerprints) == sorted(a["fingerprint"] for a in payload["alerts"])
    assert len(item.fingerprints) == 2
    assert item.group_key == payload["groupKey"]


INHIBITING = AM.replace(
    "receivers:",
    """inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
receivers:""",
    1,
)


async def test_only_firing_critical_alerts_inhibit_their_services_warnings(
    engine: AsyncEngine,
) -> None:
    clock = Clock(1_700_000_000.0)
    sent: list[Outgoing] = []
    svc = service(engine, clock, sent, config=INHIBITING)
    await svc.post(
        [
            Incoming(
                {"alertname": "Down", "severity": "critical", "service": "api"}, {}, None, None
            ),
            Incoming(
                {"alertname": "Slow", "severity": "warning", "service": "api"}, {}, None, None
            ),
            Incoming({"alertname": "Slow", "severity": "warning", "service": "db"}, {}, None, None),
            Incoming(
                {"alertname": "Old", "severity": "critical", "service": "db"},
                {},
                clock.t - 9,
                clock.t - 1,
            ),
        ]
    )
    await svc.tick(clock.t)
    got = {
        body(o)["groupLabels"]["alertname"]: [a["labels"]["service"] for a in body(o)["alerts"]]
        for o in sent
    }
    # api's warning is inhibited by api's critical; db's critical is resolved, so it is not
    assert got == {"Down": ["api"], "Slow": ["db"]}

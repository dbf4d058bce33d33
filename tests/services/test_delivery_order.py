"""The alert manager, the outbox and the real senders against a loopback receiver that is
down while 30 groups go firing -> resolved: once it is back, the last payload each group
got is the resolved one, as from Alertmanager, and the stale firing ones are superseded.
PagerDuty's acknowledge comes after the trigger it acknowledges, unless a resolve
replaces both."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.migrate import migrate
from tenantwatch.adapters.db.repos.alerting import SqlAlertRepo
from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo
from tenantwatch.adapters.notifiers import Notifiers
from tenantwatch.alertmanager.config import parse_alertmanager_config
from tenantwatch.alertmanager.notify_payloads import group_key_hash
from tenantwatch.domain.outbox import RetryPolicy
from tenantwatch.services.alerting import AlertingService, Incoming
from tenantwatch.workers.outbox import OutboxWorker
from tests.receivers import running_receiver

T0 = 1_800_000_000.0
NAMES = [f"Group{i:02d}" for i in range(30)]


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


def config(url: str) -> str:
    return f"""
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 10s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{url}"}}]
"""


async def test_after_an_outage_each_groups_receiver_ends_on_the_resolved_payload(
    engine: AsyncEngine,
) -> None:
    clock = Clock(T0)
    repo = SqlNotificationRepo(engine)
    notifiers = Notifiers(allow_private=["127.0.0.1/32"])
    worker = OutboxWorker(repo, notifiers.deliver, policy=RetryPolicy(), now=clock)
    try:
        async with running_receiver() as rec:
            svc = AlertingService(
                parse_alertmanager_config(config(rec.url + "/hook"), "am.yml"),
                SqlAlertRepo(engine),
                worker.enqueue,
                external_url="http://tw",
                now=clock,
            )
            rec.status = 503  # the receiver is down
            await svc.post([Incoming({"alertname": n}, {}, T0 - 60, None) for n in NAMES])
            assert await svc.tick(clock.t) == 30
            assert await worker.run_once(clock.t) == 30  # each answered 503
            clock.t = T0 + 5
            await svc.post([Incoming({"alertname": n}, {}, T0 - 60, T0 + 5) for n in NAMES])
            clock.t = T0 + 10
            assert await svc.tick(clock.t) == 30  # the resolutions, while firing ones retry
            for _ in range(10_000):  # each time something falls due, until nothing waits
                counts = await repo.counts()
                if counts["pending"] + counts["sending"] == 0:
                    break
                due = await repo.next_due()
                assert due is not None
                clock.t = max(clock.t, due)
                if clock.t >= T0 + 120:
                    rec.status = 200  # back after two minutes
                await worker.run_once(clock.t)
    finally:
        await notifiers.close()
    assert counts == {"pending": 0, "sending": 0, "sent": 30, "dead": 0, "superseded": 30}
    last: dict[str, dict[str, Any]] = {}
    for body in rec.json_bodies():
        last[body["groupLabels"]["alertname"]] = body
    assert sorted(last) == NAMES
    assert {name: body["status"] for name, body in last.items()} == dict.fromkeys(NAMES, "resolved")
    assert all(body["alerts"][0]["status"] == "resolved" for body in last.values())
    rows = await repo.list(before_id=None, limit=100)
    by_id = {r.id: r for r in rows}
    stale = [r for r in rows if r.status == "superseded"]
    assert {r.alert_status for r in stale} == {"firing"}
    for r in stale:
        newer = by_id[r.superseded_by or 0]
        assert (newer.alert_status, newer.status, newer.group_key) == (
            "resolved",
            "sent",
            r.group_key,
        )
    # what went out after the receiver came back: only the resolutions
    answered_ok = [json.loads(req.body) for req in rec.requests[len(rec.requests) - 30 :]]
    assert {b["status"] for b in answered_ok} == {"resolved"}


PD = """
route:
  receiver: pd
  group_by: [alertname]
  group_wait: 0s
  group_interval: 10s
  repeat_interval: 1h
receivers:
  - name: pd
    pagerduty_configs:
      - routing_key: 0123456789abcdef0123456789abcdef
        url: "URL"
"""


async def test_a_pagerduty_acknowledge_follows_its_trigger_and_a_resolve_replaces_both(
    engine: AsyncEngine,
) -> None:
    clock = Clock(T0)
    repo = SqlNotificationRepo(engine)
    notifiers = Notifiers(allow_private=["127.0.0.1/32"])
    worker = OutboxWorker(repo, notifiers.deliver, policy=RetryPolicy(), now=clock)
    try:
        async with running_receiver() as rec:
            svc = AlertingService(
                parse_alertmanager_config(PD.replace("URL", rec.url + "/pd"), "am.yml"),
                SqlAlertRepo(engine),
                worker.enqueue,
                external_url="http://tw",
                now=clock,
            )
            rec.status = 503
            await svc.post([Incoming({"alertname": n}, {}, T0 - 60, None) for n in ("A", "B")])
            await svc.tick(clock.t)
            assert await worker.run_once(clock.t) == 2  # both triggers answered 503
            clock.t = T0 + 5
            for record in list(svc.records.values()):
                await svc.acknowledge(record.fingerprint, None, "alice", "on it", None)
            await svc.post([Incoming({"alertname": "B"}, {}, T0 - 60, T0 + 5)])
            clock.t = T0 + 10
            await svc.tick(clock.t)  # B's resolve
            back_from: int | None = None
            while (counts := await repo.counts())["pending"] + counts["sending"]:
                due = await repo.next_due()
                assert due is not None
                clock.t = max(clock.t, due)
                if clock.t >= T0 + 60 and back_from is None:
                    rec.status, back_from = 202, len(rec.requests)
                await worker.run_once(clock.t)
    finally:
        await notifiers.close()
    assert back_from is not None
    delivered: dict[str, list[str]] = {}
    for body in rec.json_bodies()[back_from:]:  # what PagerDuty accepted
        delivered.setdefault(body["dedup_key"], []).append(body["event_action"])
    assert delivered == {
        group_key_hash('{}:{alertname="A"}'): ["trigger", "acknowledge"],
        group_key_hash('{}:{alertname="B"}'): ["resolve"],  # nothing left to acknowledge
    }
    assert (counts["dead"], counts["superseded"]) == (0, 2)  # B's trigger and acknowledge

"""The alert manager's loop: it loads the state, flushes groups as they fall due or as
alerts arrive, and stops when told."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tenantwatch.alertmanager.config import parse_alertmanager_config
from tenantwatch.alertmanager.outgoing import Outgoing
from tenantwatch.services.alerting import (
    ESCALATION_TICK_S,
    MAINTENANCE_S,
    AlertingService,
    Incoming,
)
from tenantwatch.workers.alert_manager import AlertManagerWorker, wait_s
from tests.services.memory_alert_repo import MemoryAlertRepo

AM = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
receivers:
  - name: hook
    webhook_configs: [{url: "http://127.0.0.1:9/hook"}]
"""


def test_the_loop_sleeps_until_the_next_group_is_due_within_its_bounds() -> None:
    assert wait_s(None, 100.0, escalating=False) == MAINTENANCE_S
    assert wait_s(None, 100.0, escalating=True) == ESCALATION_TICK_S
    assert wait_s(102.5, 100.0, escalating=False) == 2.5
    assert wait_s(99.0, 100.0, escalating=False) == 0.0
    assert wait_s(1000.0, 100.0, escalating=False) == MAINTENANCE_S


async def test_a_posted_alert_wakes_the_loop_and_its_group_goes_out() -> None:
    sent: list[Outgoing] = []
    arrived = asyncio.Event()

    async def enqueue(items: Sequence[Outgoing]) -> None:
        sent.extend(items)
        arrived.set()

    svc = AlertingService(
        parse_alertmanager_config(AM, "am.yml"), MemoryAlertRepo(), enqueue, external_url=""
    )
    worker = AlertManagerWorker(svc)
    await worker.start()
    try:
        await svc.post([Incoming({"alertname": "Down"}, {}, None, None)])
        async with asyncio.timeout(10):
            await arrived.wait()
    finally:
        await worker.stop()
    [item] = sent
    assert item.receiver == "hook"
    await worker.stop()  # stopping twice is harmless


async def test_starting_loads_the_stored_alerts_back_into_their_groups() -> None:
    repo = MemoryAlertRepo()

    async def nowhere(items: Sequence[Outgoing]) -> None:
        pass

    config = parse_alertmanager_config(AM, "am.yml")
    first = AlertingService(config, repo, nowhere, external_url="")
    await first.post([Incoming({"alertname": "Kept"}, {}, None, None)])
    again = AlertingService(config, repo, nowhere, external_url="")
    worker = AlertManagerWorker(again)
    await worker.start()
    try:
        assert [g.receiver for g in again.dispatcher.groups()] == ["hook"]
        assert list(again.records) == list(first.records)
    finally:
        await worker.stop()

"""Running an incident's actions: concurrency, failures, cooldowns, dry runs, the timeline."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tenantwatch.adapters.actions import KubernetesExecutor, ShellExecutor, WebhookExecutor
from tenantwatch.domain.ssrf import SsrfPolicy
from tenantwatch.incidents.actions import (
    ActionKind,
    ActionSpec,
    Executor,
    Matchers,
    Outcome,
    OutcomeStatus,
    PastRun,
)
from tenantwatch.incidents.model import (
    AffectedTenant,
    EntryKind,
    Incident,
    LinkedAlert,
    Severity,
    Status,
)
from tenantwatch.services.incident_actions import MemoryActionHistory, respond
from tests.adapters.actions.kube_api import KubeApi, running_kube_api
from tests.receivers import Receiver, running_receiver

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def incident(*tenants: str, id: str = "INC-20261207-0001") -> Incident:
    return Incident(
        id=id,
        title="API down",
        severity=Severity.P1,
        status=Status.OPEN,
        detected_at=NOW,
        tenants=tuple(AffectedTenant(t, "basic", NOW) for t in tenants),
        alerts=tuple(
            LinkedAlert(f"fp-{t}", "ApiDown", t, {"alertname": "ApiDown", "tenant": t}, True, NOW)
            for t in tenants
        ),
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as rec:
        yield rec


@pytest.fixture
async def kube() -> AsyncIterator[KubeApi]:
    async with running_kube_api() as api:
        api.replicas[("tenant-acme", "api")] = 2
        yield api


@pytest.fixture
async def executors() -> AsyncIterator[dict[ActionKind, Executor]]:
    webhook = WebhookExecutor(SsrfPolicy.from_allow_list(["127.0.0.1"]))
    kube = KubernetesExecutor()
    found: dict[ActionKind, Executor] = {
        ActionKind.WEBHOOK: webhook,
        ActionKind.TICKET: webhook,
        ActionKind.SHELL: ShellExecutor(),
        ActionKind.KUBERNETES_SCALE: kube,
        ActionKind.KUBERNETES_RESTART: kube,
    }
    try:
        yield found
    finally:
        await webhook.close()


class Raising:
    async def run(self, spec: ActionSpec, params: Mapping[str, Any], dry_run: bool) -> Outcome:
        raise RuntimeError("executor bug")


class Hanging:
    async def run(self, spec: ActionSpec, params: Mapping[str, Any], dry_run: bool) -> Outcome:
        await asyncio.sleep(60)
        raise AssertionError("not reached")


async def test_a_failing_action_does_not_stop_the_others(
    receiver: Receiver, executors: dict[ActionKind, Executor]
) -> None:
    specs = [
        ActionSpec("broken-hook", ActionKind.WEBHOOK, params={"url": "http://127.0.0.1:9/"}),
        ActionSpec(
            "bad-exit", ActionKind.SHELL, params={"argv": [sys.executable, "-c", "exit(1)"]}
        ),
        ActionSpec("raises", ActionKind.BLOCK_IP, params={"url": receiver.url, "ip": "10.0.0.1"}),
        ActionSpec("ticket", ActionKind.TICKET, params={"url": receiver.url + "/ticket"}),
    ]
    with_bug = executors | {ActionKind.BLOCK_IP: Raising()}
    outcomes, entries = await respond(incident("acme"), specs, with_bug, MemoryActionHistory(), NOW)
    assert [(o.action, o.status) for o in outcomes] == [
        ("broken-hook", OutcomeStatus.FAILED),
        ("bad-exit", OutcomeStatus.FAILED),
        ("raises", OutcomeStatus.FAILED),
        ("ticket", OutcomeStatus.DONE),
    ]
    assert outcomes[2].detail == "RuntimeError: executor bug"
    assert [r.path for r in receiver.requests] == ["/ticket"]
    assert json.loads(receiver.requests[0].body)["title"] == "INC-20261207-0001: API down"
    assert [e.kind for e in entries] == [EntryKind.ACTION] * 4
    assert [e.data["status"] for e in entries] == ["failed", "failed", "failed", "done"]
    assert {e.data["tenant"] for e in entries} == {"acme"}


async def test_actions_run_concurrently_and_a_hanging_one_fails_at_the_overall_deadline(
    receiver: Receiver, executors: dict[ActionKind, Executor]
) -> None:
    receiver.delay = 0.3
    specs = [
        ActionSpec("hangs", ActionKind.KUBERNETES_RESTART),
        *(
            ActionSpec(f"hook{i}", ActionKind.WEBHOOK, params={"url": receiver.url})
            for i in range(3)
        ),
    ]
    loop = asyncio.get_running_loop()
    began = loop.time()
    outcomes, _ = await respond(
        incident("acme"),
        specs,
        executors | {ActionKind.KUBERNETES_RESTART: Hanging()},
        MemoryActionHistory(),
        NOW,
        within=timedelta(seconds=0.8),
    )
    took = loop.time() - began
    assert 0.8 <= took < 3  # the deadline, not the hanging action's 60 s
    # three 0.3 s webhooks finish within 0.8 s only side by side
    assert [o.status for o in outcomes] == [OutcomeStatus.FAILED] + [OutcomeStatus.DONE] * 3
    assert outcomes[0].detail == "no outcome within the overall 0.8s; cancelled"


async def test_the_second_run_within_the_cooldown_is_skipped_with_a_reason(
    receiver: Receiver, executors: dict[ActionKind, Executor]
) -> None:
    history = MemoryActionHistory()
    spec = ActionSpec(
        "hook", ActionKind.WEBHOOK, params={"url": receiver.url}, cooldown=timedelta(minutes=5)
    )
    first, _ = await respond(incident("acme"), [spec], executors, history, NOW)
    later = NOW + timedelta(minutes=2)
    second, entries = await respond(incident("acme"), [spec], executors, history, later)
    assert first[0].status is OutcomeStatus.DONE
    assert (second[0].status, second[0].detail) == (
        OutcomeStatus.SKIPPED,
        "cooldown: ran for tenant acme at 2026-12-07T12:00:00Z; next run after 2026-12-07T12:05:00Z",
    )
    assert entries[0].text.startswith("action hook for acme: skipped: cooldown")
    assert len(receiver.requests) == 1
    third, _ = await respond(
        incident("acme"), [spec], executors, history, NOW + timedelta(minutes=5)
    )
    assert third[0].status is OutcomeStatus.DONE
    assert len(receiver.requests) == 2


async def test_max_per_hour_holds_across_incidents(
    receiver: Receiver, executors: dict[ActionKind, Executor]
) -> None:
    history = MemoryActionHistory()
    spec = ActionSpec("hook", ActionKind.WEBHOOK, params={"url": receiver.url}, max_per_hour=2)
    statuses = []
    for n, tenant in enumerate(["acme", "globex", "initech"]):
        inc = incident(tenant, id=f"INC-20261207-000{n}")
        outcomes, _ = await respond(inc, [spec], executors, history, NOW + timedelta(minutes=n))
        statuses.append(outcomes[0].status)
    assert statuses == [OutcomeStatus.DONE, OutcomeStatus.DONE, OutcomeStatus.SKIPPED]
    assert len(receiver.requests) == 2


async def test_dry_run_never_calls_the_servers_and_records_what_it_would_do(
    receiver: Receiver, kube: KubeApi, executors: dict[ActionKind, Executor]
) -> None:
    k8s = {"api_server": kube.url, "namespace": "tenant-{{ tenant }}", "deployment": "api"}
    specs = [
        ActionSpec("hook", ActionKind.WEBHOOK, params={"url": receiver.url}, dry_run=True),
        ActionSpec("scale", ActionKind.KUBERNETES_SCALE, params=k8s | {"factor": 2}, dry_run=True),
        ActionSpec("restart", ActionKind.KUBERNETES_RESTART, params=k8s, dry_run=True),
    ]
    history = MemoryActionHistory()
    outcomes, entries = await respond(incident("acme"), specs, executors, history, NOW)
    assert [o.status for o in outcomes] == [OutcomeStatus.DRY_RUN] * 3
    assert [e.data["detail"] for e in entries] == [
        f"would call webhook via POST {receiver.url}",
        f"would scale to current x 2 replicas deployment tenant-acme/api at {kube.url}",
        f"would restart deployment tenant-acme/api at {kube.url}",
    ]
    assert all(e.data["dry_run"] for e in entries)
    assert receiver.requests == [] and kube.requests == []
    assert await history.recent("scale", NOW) == [
        PastRun("scale", incident("acme").id, "acme", NOW)
    ]


async def test_a_real_scale_reaches_the_kubernetes_api_and_the_timeline(
    kube: KubeApi, executors: dict[ActionKind, Executor]
) -> None:
    params = {
        "api_server": kube.url,
        "token": "t",
        "namespace": "tenant-{{ tenant }}",
        "deployment": "api",
        "factor": 2,
    }
    spec = ActionSpec("scale", ActionKind.KUBERNETES_SCALE, params=params)
    outcomes, entries = await respond(
        incident("acme"), [spec], executors, MemoryActionHistory(), NOW
    )
    assert outcomes[0].status is OutcomeStatus.DONE
    assert kube.replicas[("tenant-acme", "api")] == 4
    assert entries[0].text == (
        f"action scale for acme: done: scaled deployment tenant-acme/api from 2 to 4 replicas at {kube.url}"
    )


async def test_awaiting_approval_and_unmatched_actions_run_nothing(
    receiver: Receiver, executors: dict[ActionKind, Executor]
) -> None:
    specs = [
        ActionSpec("needs-ok", ActionKind.WEBHOOK, params={"url": receiver.url}, approval=True),
        ActionSpec(
            "p4-only",
            ActionKind.WEBHOOK,
            params={"url": receiver.url},
            matchers=Matchers(severities=(Severity.P4,)),
        ),
    ]
    history = MemoryActionHistory()
    outcomes, entries = await respond(incident("acme"), specs, executors, history, NOW)
    assert [(o.action, o.status) for o in outcomes] == [
        ("needs-ok", OutcomeStatus.AWAITING_APPROVAL)
    ]
    assert entries[0].data["status"] == "awaiting_approval"
    assert receiver.requests == [] and await history.recent("needs-ok", NOW) == []
    approved, _ = await respond(
        incident("acme"), specs, executors, history, NOW, approved={"needs-ok"}
    )
    assert approved[0].status is OutcomeStatus.DONE


async def test_an_action_kind_without_an_executor_fails_alone(
    receiver: Receiver, executors: dict[ActionKind, Executor]
) -> None:
    specs = [
        ActionSpec("maint", ActionKind.MAINTENANCE, params={"url": receiver.url}),
        ActionSpec("hook", ActionKind.WEBHOOK, params={"url": receiver.url}),
    ]
    outcomes, _ = await respond(incident("acme"), specs, executors, MemoryActionHistory(), NOW)
    assert [(o.status, o.detail) for o in outcomes] == [
        (OutcomeStatus.FAILED, "no executor for maintenance actions is configured"),
        (OutcomeStatus.DONE, f"call webhook via POST {receiver.url}: 200"),
    ]


class BrokenHistory(MemoryActionHistory):
    def __init__(self, *, reading: bool) -> None:
        super().__init__()
        self.reading = reading

    async def recent(self, action: str, since: datetime) -> list[PastRun]:
        if self.reading:
            raise OSError("database is locked")
        return list(await super().recent(action, since))

    async def record(self, run: PastRun) -> None:
        raise OSError("disk full")


@pytest.mark.parametrize("reading", [True, False])
async def test_without_a_working_history_nothing_runs_and_the_timeline_says_why(
    receiver: Receiver, executors: dict[ActionKind, Executor], reading: bool
) -> None:
    spec = ActionSpec("hook", ActionKind.WEBHOOK, params={"url": receiver.url})
    history = BrokenHistory(reading=reading)
    outcomes, entries = await respond(incident("acme", "globex"), [spec], executors, history, NOW)
    error = "OSError: database is locked" if reading else "OSError: disk full"
    assert [(o.tenant, o.status, o.detail) for o in outcomes] == [
        (t, OutcomeStatus.FAILED, f"not run: the action history is unavailable ({error})")
        for t in ("acme", "globex")
    ]
    assert len(entries) == 2 and receiver.requests == []

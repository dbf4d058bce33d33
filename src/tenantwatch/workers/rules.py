"""Run rule groups on their intervals, as Prometheus' rule manager schedules them.

Each group runs at a stable offset within its interval (a hash of its key) and is evaluated
by rules/evaluate.py at one timestamp; the manager writes the samples it gives (recording
rules, ALERTS / ALERTS_FOR_STATE) to the metric store, sends the alerts due to the alert
manager, and persists every alert's state so pending timers, firing alerts and
keep_firing_for survive a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

import structlog

from tenantwatch.metrics.backend import QueryBackend
from tenantwatch.rules.alerting import Alert, AlertState, OutgoingAlert
from tenantwatch.rules.evaluate import AlertSettings, evaluate_group
from tenantwatch.rules.files import Rule
from tenantwatch.rules.status import GroupStatus, ManagedGroup, RuleAlerts, RuleStatus
from tenantwatch.types import Sample

log = structlog.get_logger(__name__)


class RuleStateStore(Protocol):
    async def load(self, group_key: str) -> RuleAlerts: ...

    async def save(self, group_key: str, rules: Sequence[Rule], alerts: RuleAlerts) -> None: ...


AlertSink = Callable[[list[OutgoingAlert], str | None], Awaitable[None]]


def group_offset(key: str, interval_s: float) -> float:
    """A stable offset within the interval, so groups do not all evaluate at once."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return (digest % max(1, int(interval_s * 1000))) / 1000.0


def eval_time(now: float, interval_s: float, offset_s: float) -> float:
    """The latest evaluation slot at or before now (Prometheus' EvalTimestamp)."""
    return now - ((now - offset_s) % interval_s)


class RuleManager:
    def __init__(
        self,
        groups: Sequence[ManagedGroup],
        queries: QueryBackend,
        write: Callable[[list[Sample]], None],
        send: AlertSink,
        state: RuleStateStore,
        *,
        default_interval_s: float = 60.0,
        external_labels: Mapping[str, str] | None = None,
        external_url: str = "",
        resend_delay_s: float = 60.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.queries = queries
        self.write = write
        self.send = send
        self.state = state
        self.default_interval_s = default_interval_s
        self.external_labels = dict(external_labels or {})
        self.external_url = external_url
        self.resend_delay_s = resend_delay_s
        self.now = now
        self.status: dict[str, GroupStatus] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stop = asyncio.Event()
        self._started = False
        self.set_groups(groups)

    def set_groups(self, groups: Sequence[ManagedGroup]) -> None:
        """Replace the groups; unchanged groups keep their state and timers."""
        fresh: dict[str, GroupStatus] = {}
        for managed in groups:
            old = self.status.get(managed.key)
            interval = managed.group.interval_s or self.default_interval_s
            if old is not None and old.managed == managed:
                fresh[managed.key] = old
                continue
            status = GroupStatus(
                managed, interval, rules=[RuleStatus() for _ in managed.group.rules]
            )
            if old is not None:
                status.alerts = old.alerts
            fresh[managed.key] = status
        for key in set(self.status) - set(fresh):
            task = self._tasks.pop(key, None)
            if task is not None:
                task.cancel()
        self.status = fresh
        if self._started:
            self._spawn()

    async def start(self) -> None:
        self._stop = asyncio.Event()
        self._started = True
        for key, status in self.status.items():
            try:
                status.alerts = await self.state.load(key)
            except Exception as exc:
                log.error("cannot restore rule alert state", group=key, error=repr(exc))
        self._spawn()

    def _spawn(self) -> None:
        for key in self.status:
            task = self._tasks.get(key)
            if task is None or task.done():
                self._tasks[key] = asyncio.create_task(self._run(key), name=f"rules {key}")

    async def stop(self) -> None:
        self._stop.set()
        self._started = False
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self, key: str) -> None:
        while not self._stop.is_set():
            status = self.status.get(key)
            if status is None:
                return
            offset = group_offset(key, status.interval_s)
            now = self.now()
            slot = eval_time(now, status.interval_s, offset)
            if status.last_evaluation is not None and slot <= status.last_evaluation:
                slot += status.interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(0.0, slot - self.now()))
            if self._stop.is_set():
                return
            try:
                await self.evaluate_group(key, slot)
            except Exception as exc:  # one broken group never stops the others
                log.error("rule group evaluation failed", group=key, error=repr(exc))

    async def evaluate_group(self, key: str, ts: float) -> GroupStatus:
        """Evaluate every rule of the group once at ts (seconds) and act on the results."""
        status = self.status[key]
        started = time.perf_counter()
        settings = AlertSettings(self.external_labels, self.external_url, self.resend_delay_s)
        result = await evaluate_group(status, self.queries, ts, settings)
        if result.samples:
            self.write(result.samples)
        if result.outgoing:
            await self.send(result.outgoing, status.managed.tenant)
        await self.state.save(key, status.managed.group.rules, status.alerts)
        status.last_evaluation = ts
        status.duration_s = time.perf_counter() - started
        return status

    def active_alerts(self) -> list[tuple[GroupStatus, Rule, Alert]]:
        """Pending and firing alerts of every group, for /api/v1/alerts."""
        out: list[tuple[GroupStatus, Rule, Alert]] = []
        for status in self.status.values():
            for i, alerts in status.alerts.items():
                if i >= len(status.managed.group.rules):
                    continue
                rule = status.managed.group.rules[i]
                out.extend(
                    (status, rule, a) for a in alerts.values() if a.state is not AlertState.INACTIVE
                )
        return out

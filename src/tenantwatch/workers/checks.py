"""The check scheduler: runs every enabled check once per interval, fairly, within limits.

- Each check runs at a stable offset within its interval (a hash of its id, spread over
  its jitter, by default the whole interval), so checks spread evenly and never bunch up
  after a restart.
- Run slots are claimed in the database before a run (`claim=True`, on PostgreSQL): with
  several `--role checks` workers each slot is won by exactly one of them, and a killed
  worker's checks are claimed by the others at their next slot.
- Due checks wait in one queue per tenant; the dispatcher takes them round-robin across
  tenants within a global and a per-host concurrency limit. A quarter of the global limit
  is held back for tenants running fewer checks than their fair share, so one tenant's
  slow targets never hold every slot.
- Results are recorded in batches (state, history, rollups); the process that owns the
  metric store writes them as samples (workers.check_samples).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import heapq
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from tenantwatch.domain.check_judge import heartbeat_run
from tenantwatch.domain.checks import Check, CheckKind, CheckRun, offset_s, slot_of, slot_start
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.services.checks import CheckService, RecordOutcome
from tenantwatch.services.ports import CheckExecutor

log = structlog.get_logger(__name__)

REFRESH_S = 5.0
FLUSH_S = 0.5
MAX_BATCH = 2000


HostOf = Callable[[Check], str]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Planned:
    check: Check
    interval_s: float
    offset: float
    host: str


@dataclass
class _Flow:
    """Queues and counters of the dispatcher."""

    queues: dict[str, deque[_Planned]] = field(default_factory=dict)
    rotation: deque[str] = field(default_factory=deque)
    inflight: int = 0
    by_tenant: dict[str, int] = field(default_factory=dict)
    by_host: dict[str, int] = field(default_factory=dict)
    busy: set[str] = field(default_factory=set)  # check ids queued or running


class CheckScheduler:
    def __init__(
        self,
        service: CheckService,
        executor: CheckExecutor,
        tiers: TierCatalog,
        *,
        host_of: HostOf,
        claim: bool = False,
        concurrency: int = 256,
        per_host: int = 32,
        worker: str | None = None,
        clock: Callable[[], float] = time.time,
        refresh_s: float = REFRESH_S,
        flush_s: float = FLUSH_S,
    ) -> None:
        self.service = service
        self.executor = executor
        self.tiers = tiers
        self.host_of = host_of
        self.claim = claim
        self.concurrency = concurrency
        self.per_host = per_host
        self.worker = worker or worker_name()
        self.clock = clock
        self.refresh_s = refresh_s
        self.flush_s = flush_s
        self.plan: dict[str, _Planned] = {}
        self._frozen = False
        self._checks: dict[str, Check] = {}
        self._heap: list[tuple[float, str]] = []
        self._version: object = None
        self._flow = _Flow()
        self._pending: list[CheckRun] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.runs_done = 0
        self.runs_recorded = 0

    # -- planning ---------------------------------------------------------------------------

    async def refresh(self) -> bool:
        """Reload the checks when any changed; return True when the plan changed."""
        version = await self.service.checks_version()
        if version == self._version:
            return False
        version, checks, tiers = await self.service.enabled_checks()
        self._version = version
        now = self.clock()
        plan: dict[str, _Planned] = {}
        for check in checks:
            tier = self.tiers.get(tiers[check.tenant_id])
            interval = check.effective_interval(tier.check_interval_seconds if tier else 60.0)
            spread = min(check.jitter_s if check.jitter_s is not None else interval, interval)
            plan[check.id] = _Planned(
                check, interval, offset_s(check.id, spread), self.host_of(check)
            )
        self.plan = plan
        self._checks = {cid: p.check for cid, p in plan.items()}
        if not self._frozen:
            # The plan and everything loaded at start-up live as long as the process; moving
            # them out of the cyclic collector's reach keeps its full passes short (they
            # otherwise walk every check on every pass and cost a fifth of the CPU per run).
            gc.freeze()
            self._frozen = True
        self._heap = []
        for p in plan.values():
            slot = slot_of(now, p.interval_s, p.offset)
            heapq.heappush(self._heap, (slot_start(slot + 1, p.interval_s, p.offset), p.check.id))
        return True

    def due(self, now: float) -> list[tuple[_Planned, int]]:
        """Pop every check whose slot has started; reschedule each for its next slot."""
        out = []
        while self._heap and self._heap[0][0] <= now:
            _, check_id = heapq.heappop(self._heap)
            p = self.plan.get(check_id)
            if p is None:
                continue
            slot = slot_of(now, p.interval_s, p.offset)
            heapq.heappush(self._heap, (slot_start(slot + 1, p.interval_s, p.offset), check_id))
            out.append((p, slot))
        return out

    # -- dispatching ------------------------------------------------------------------------

    async def dispatch(self, due: Sequence[tuple[_Planned, int]]) -> None:
        flow = self._flow
        wanted = [(p, s) for p, s in due if p.check.id not in flow.busy]
        if not wanted:
            return
        if self.claim:
            won = await self.service.claim(self.worker, [(p.check.id, s) for p, s in wanted])
            wanted = [(p, s) for p, s in wanted if p.check.id in won]
        heartbeats = [p.check for p, _ in wanted if p.check.kind is CheckKind.HEARTBEAT]
        if heartbeats:
            await self._judge_heartbeats(heartbeats)
        for p, _ in wanted:
            if p.check.kind is CheckKind.HEARTBEAT:
                continue
            tenant = p.check.tenant_id
            queue = flow.queues.get(tenant)
            if queue is None:
                queue = flow.queues[tenant] = deque()
                flow.rotation.append(tenant)
            queue.append(p)
            flow.busy.add(p.check.id)
        self._pump()

    async def _judge_heartbeats(self, checks: Sequence[Check]) -> None:
        states = await self.service.heartbeat_states([c.id for c in checks])
        now = datetime.fromtimestamp(self.clock(), UTC)
        for check in checks:
            state = states.get(check.id)
            if state is not None:
                self._pending.append(heartbeat_run(check, state, now))

    def _eligible(self, p: _Planned, tenants_waiting: int) -> bool:
        flow = self._flow
        if p.host and flow.by_host.get(p.host, 0) >= self.per_host:
            return False
        share = max(1, self.concurrency // max(1, tenants_waiting))
        reserve = self.concurrency // 4 if tenants_waiting > 1 else 0
        mine = flow.by_tenant.get(p.check.tenant_id, 0)
        return mine < share or self.concurrency - flow.inflight > reserve

    def _pump(self) -> None:
        flow = self._flow
        idle_rounds = 0
        while (
            flow.inflight < self.concurrency and flow.rotation and idle_rounds < len(flow.rotation)
        ):
            tenant = flow.rotation[0]
            flow.rotation.rotate(-1)
            queue = flow.queues[tenant]
            waiting = len(flow.rotation)
            if not queue:
                del flow.queues[tenant]
                flow.rotation.remove(tenant)
                continue
            if not self._eligible(queue[0], waiting):
                idle_rounds += 1
                continue
            idle_rounds = 0
            p = queue.popleft()
            self._start(p)

    def _start(self, p: _Planned) -> None:
        flow = self._flow
        flow.inflight += 1
        tenant = p.check.tenant_id
        flow.by_tenant[tenant] = flow.by_tenant.get(tenant, 0) + 1
        if p.host:
            flow.by_host[p.host] = flow.by_host.get(p.host, 0) + 1
        task = asyncio.create_task(self._run(p))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, p: _Planned) -> None:
        try:
            run = await self.executor.run(p.check)
            self._pending.append(run)
            self.runs_done += 1
        except Exception as exc:  # a probe bug must not stop the scheduler
            log.error("check run failed", check=p.check.id, error=repr(exc))
        finally:
            flow = self._flow
            flow.inflight -= 1
            flow.by_tenant[p.check.tenant_id] -= 1
            if p.host:
                flow.by_host[p.host] -= 1
            flow.busy.discard(p.check.id)
            self._pump()

    # -- recording --------------------------------------------------------------------------

    async def flush(self) -> RecordOutcome | None:
        if not self._pending:
            return None
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        try:
            outcome = await self.service.record(batch, self._checks)
        except Exception as exc:
            log.error("cannot record check runs; will retry", error=repr(exc), runs=len(batch))
            self._pending = batch + self._pending
            return None
        self.runs_recorded += len(batch)
        for change in outcome.changes:
            log.info(
                "check state changed",
                check=change.check_id,
                tenant=change.tenant_id,
                old=str(change.old),
                new=str(change.new),
                reason=change.reason,
            )
        return outcome

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Schedule until stop is set; then let running checks finish and record them."""
        flusher = asyncio.create_task(self._flush_forever(stop))
        last_refresh = -1e18
        try:
            while not stop.is_set():
                now = self.clock()
                if now - last_refresh >= self.refresh_s:
                    try:
                        await self.refresh()
                    except Exception as exc:
                        log.error("cannot load checks", error=repr(exc))
                    last_refresh = now
                try:
                    await self.dispatch(self.due(now))
                except Exception as exc:
                    log.error("cannot dispatch checks", error=repr(exc))
                wait = min(self.refresh_s, 0.25)
                if self._heap:
                    wait = max(0.005, min(wait, self._heap[0][0] - self.clock()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
        finally:
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=15)
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            while self._pending and await self.flush() is not None:
                pass
            await self.executor.close()

    async def _flush_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.flush_s)
            await self.flush()

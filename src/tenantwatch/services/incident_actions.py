"""Automated response for one incident: plan its actions, run the runnable ones concurrently
within one overall timeout, record each run, and return the outcomes with their timeline
entries. A failing, hanging or missing executor gives a failed outcome, never an exception."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from tenantwatch.incidents.actions import (
    ActionKind,
    ActionSpec,
    Executor,
    Outcome,
    OutcomeStatus,
    PastRun,
    Planned,
    PlanStatus,
    entry_for,
    not_run,
    plan,
)
from tenantwatch.incidents.model import Entry, Incident

__all__ = ["ActionHistory", "MemoryActionHistory", "respond"]


class ActionHistory(Protocol):
    """Where runs of actions are remembered, for cooldowns and hourly limits."""

    async def recent(self, action: str, since: datetime) -> Sequence[PastRun]:
        """Runs of `action` at or after `since`, oldest first."""
        ...

    async def record(self, run: PastRun) -> None: ...


class MemoryActionHistory:
    """ActionHistory in this process's memory; runs older than `keep` are dropped."""

    def __init__(self, keep: timedelta = timedelta(days=1)) -> None:
        self._runs: list[PastRun] = []
        self._keep = keep

    async def recent(self, action: str, since: datetime) -> Sequence[PastRun]:
        return [r for r in self._runs if r.action == action and r.at >= since]

    async def record(self, run: PastRun) -> None:
        self._runs = [r for r in self._runs if run.at - r.at <= self._keep]
        self._runs.append(run)


async def respond(
    incident: Incident,
    specs: Sequence[ActionSpec],
    executors: Mapping[ActionKind, Executor],
    history: ActionHistory,
    now: datetime,
    *,
    approved: Collection[str] = (),
    within: timedelta = timedelta(minutes=2),
) -> tuple[list[Outcome], list[Entry]]:
    """Run the incident's actions that may run now and return every planned run's outcome
    (done, failed, dry run, skipped with its reason, awaiting approval) in plan order, with
    one ACTION timeline entry each. Runs are recorded in `history` before they start, so a
    concurrent call sees them; an action still running after `within` is cancelled and
    failed."""
    past, unknown = await _past_runs(history, specs, now)
    planned = plan(incident, specs, past, now, approved)
    for i, item in enumerate(planned):
        if item.status is PlanStatus.RUN and unknown is None:
            unknown = await _record(history, PastRun(item.spec.name, incident.id, item.tenant, now))
        if item.status is PlanStatus.RUN and unknown is not None:
            planned[i] = replace(item, status=PlanStatus.INVALID, reason=unknown)
    tasks = {
        id(item): asyncio.create_task(_run_one(item, executors, now))
        for item in planned
        if item.status is PlanStatus.RUN
    }
    if tasks:
        await asyncio.wait(tasks.values(), timeout=within.total_seconds())
    late = [t for t in tasks.values() if not t.done()]
    for pending in late:
        pending.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    outcomes: list[Outcome] = []
    for item in planned:
        task = tasks.get(id(item))
        if task is None:
            outcome = not_run(item, incident.id, now)
        elif task in late:
            detail = f"no outcome within the overall {within.total_seconds():g}s; cancelled"
            spec = item.spec
            outcome = Outcome(
                spec.name, spec.kind, OutcomeStatus.FAILED, detail, now, now, spec.dry_run
            )
        else:
            outcome = task.result()
        outcomes.append(replace(outcome, tenant=item.tenant, incident_id=incident.id))
    return outcomes, [entry_for(o) for o in outcomes]


async def _past_runs(
    history: ActionHistory, specs: Sequence[ActionSpec], now: datetime
) -> tuple[list[PastRun], str | None]:
    """The runs that bear on cooldowns and limits now, or why they could not be read."""
    past: list[PastRun] = []
    try:
        for name in dict.fromkeys(s.name for s in specs):
            longest = max([timedelta(hours=1), *(s.cooldown for s in specs if s.name == name)])
            past.extend(await history.recent(name, now - longest))
    except Exception as exc:  # without the history no cooldown or limit holds: run nothing
        return [], _unavailable(exc)
    return past, None


async def _record(history: ActionHistory, run: PastRun) -> str | None:
    try:
        await history.record(run)
    except Exception as exc:  # an unrecorded run would escape its cooldown: do not run it
        return _unavailable(exc)
    return None


def _unavailable(exc: Exception) -> str:
    return f"not run: the action history is unavailable ({type(exc).__name__}: {exc})"


async def _run_one(
    item: Planned, executors: Mapping[ActionKind, Executor], now: datetime
) -> Outcome:
    spec = item.spec
    executor = executors.get(spec.kind)
    if executor is None:
        detail = f"no executor for {spec.kind} actions is configured"
        return Outcome(spec.name, spec.kind, OutcomeStatus.FAILED, detail, now, now, spec.dry_run)
    try:
        outcome = await executor.run(spec, item.params, spec.dry_run)
    except Exception as exc:  # executors should not raise; the incident flow never breaks
        detail = f"{type(exc).__name__}: {exc}"
        return Outcome(spec.name, spec.kind, OutcomeStatus.FAILED, detail, now, now, spec.dry_run)
    return replace(outcome, dry_run=spec.dry_run or outcome.dry_run)

"""After incidents change, their automated actions run (services/incident_actions.py
plans and runs them) and each outcome joins the incident's timeline. A failing action,
or a failing history, never breaks the incident flow: it is an outcome like any other."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import timedelta

import structlog

from tenantwatch.incidents.actions import ActionKind, ActionSpec, Executor
from tenantwatch.incidents.model import Incident
from tenantwatch.services.incident_actions import ActionHistory, respond
from tenantwatch.services.incidents import IncidentService

log = structlog.get_logger(__name__)


class IncidentResponder:
    def __init__(
        self,
        incidents: IncidentService,
        specs: Sequence[ActionSpec],
        executors: Mapping[ActionKind, Executor],
        history: ActionHistory,
        *,
        within: timedelta = timedelta(minutes=2),
    ) -> None:
        self.incidents = incidents
        self.specs = tuple(specs)
        self.executors = executors
        self.history = history
        self.within = within
        self._running: set[asyncio.Task[int]] = set()

    def spawn(self, changed: Sequence[Incident]) -> None:
        """after() in the background (an intake answers at once; actions may take long)."""
        if not self.specs or not changed:
            return
        task = asyncio.create_task(self.after(changed), name="incident actions")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def close(self) -> None:
        """Close the executors that hold connections (the webhook's HTTP session)."""
        await self.drain()
        for executor in {id(e): e for e in self.executors.values()}.values():
            close = getattr(executor, "close", None)
            if close is not None:
                await close()

    async def drain(self) -> None:
        """Wait for the actions spawn() started (stop, and tests)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def after(self, changed: Sequence[Incident]) -> int:
        """Run the actions of the active incidents that changed; return outcomes recorded."""
        if not self.specs:
            return 0
        recorded = 0
        for incident in changed:
            if not incident.active:
                continue
            try:
                _, entries = await respond(
                    incident,
                    self.specs,
                    self.executors,
                    self.history,
                    self.incidents.clock(),
                    within=self.within,
                )
                await self.incidents.record(incident.id, entries)
                recorded += len(entries)
            except Exception as exc:  # never stop the incident flow
                log.warning("incident actions failed", incident=incident.id, error=repr(exc))
        return recorded

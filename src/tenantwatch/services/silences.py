"""Silences: save, update as Alertmanager does, end the ones waiting for their alerts to
resolve, and report them with their state for the API."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from tenantwatch.alertmanager.routing import LabelMatcher
from tenantwatch.alertmanager.silences import (
    Silence,
    SilenceState,
    apply_resolution,
    silence_state,
)
from tenantwatch.alertmanager.silences import update as update_silence
from tenantwatch.alertmanager.suppression import firing_label_sets
from tenantwatch.gotext.times import format_rfc3339_nano
from tenantwatch.services.alert_store import AlertStore
from tenantwatch.services.errors import NotFound

_STATE_ORDER = {"active": 0, "pending": 1, "expired": 2}


@dataclass(frozen=True, slots=True)
class SilenceReport:
    """A silence and its state when asked."""

    silence: Silence
    state: SilenceState


def tenant_scoped(
    matchers: tuple[LabelMatcher, ...], tenant: str | None
) -> tuple[LabelMatcher, ...]:
    """The matchers of a silence made with a tenant's key: without a `tenant="..."`
    matcher they get one naming the tenant, so it mutes only the tenant's alerts."""
    if tenant is not None and not any(m.name == "tenant" and m.op == "=" for m in matchers):
        return (*matchers, LabelMatcher.of("tenant", "=", tenant))
    return matchers


class SilenceService:
    def __init__(
        self, store: AlertStore, now: Callable[[], float], changed: Callable[[], None]
    ) -> None:
        """`changed()` tells the dispatch loop to look again."""
        self.store = store
        self.now = now
        self.changed = changed

    async def save(self, silence: Silence) -> str:
        """Store the silence (a new id when it has none); return its id."""
        now = self.now()
        if not silence.id:
            silence = replace(silence, id=str(uuid.uuid4()), updated_at=now)
        await self.store.save_silence(silence)
        self.changed()
        return silence.id

    async def update(self, old: Silence, new: Silence) -> str:
        """Alertmanager's update: in place when only the end or comment change, else the
        old silence is expired and a new one made. Return the id of the one that holds."""
        kept, replaced = update_silence(old, new, self.now())
        if replaced is not None:
            await self.save(replaced)
        return await self.save(kept)

    def get(self, silence_id: str, tenant: str | None = None) -> Silence:
        """The silence; NotFound when there is none, or it is another tenant's."""
        s = self.store.silences.get(silence_id)
        if s is None or (tenant is not None and s.tenant_id != tenant):
            raise NotFound(f"no silence {silence_id!r}")
        return s

    def state(self, s: Silence) -> SilenceState:
        return silence_state(s, self.now())

    async def end_resolved(self, now: float) -> None:
        """An end_on_resolve silence ends once nothing it muted fires any more."""
        watched = [x for x in self.store.silences.values() if x.end_on_resolve and x.ends_at > now]
        if not watched:
            return
        firing = firing_label_sets(self.store.records.values(), now)
        for silence in watched:
            fresh = apply_resolution(silence, firing, now)
            if fresh != silence:
                await self.save(fresh)

    # -- reports -----------------------------------------------------------------------------
    def report(self, silence_id: str, tenant: str | None) -> SilenceReport:
        s = self.get(silence_id, tenant)
        return SilenceReport(s, self.state(s))

    def reports(self, tenant: str | None, having: Sequence[LabelMatcher]) -> list[SilenceReport]:
        """The tenant's silences (all with None) that have every matcher of `having`:
        active first, then pending, then expired, each by end time."""
        out = []
        for s in self.store.silences.values():
            if tenant is not None and s.tenant_id != tenant:
                continue
            have = {(m.name, m.op, m.value) for m in s.matchers}
            if not all((m.name, m.op, m.value) in have for m in having):
                continue
            out.append(SilenceReport(s, self.state(s)))
        # by the end time as the API writes it, as this list has always been ordered
        out.sort(
            key=lambda r: (_STATE_ORDER.get(r.state, 3), format_rfc3339_nano(r.silence.ends_at))
        )
        return out

"""Check results as metric samples: tenantwatch_check_up, _duration_seconds and the rest.

The samples come from the stored results, read back in id order by the process that owns
the metric store (`SampleTailer`): one path whether the checks ran in this process or in
separate `--role checks` workers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence

import structlog

from tenantwatch.domain.checks import CheckRun, CheckStatus
from tenantwatch.promql.model import labels_of
from tenantwatch.services.checks import CheckService
from tenantwatch.types import Sample

log = structlog.get_logger(__name__)

SampleSink = Callable[[list[Sample]], None]
TAIL_EVERY_S = 1.0
TAIL_BATCH = 5000


def _adder(out: list[Sample], r: CheckRun) -> Callable[..., None]:
    base = {"tenant": r.tenant_id, "check": r.check_id, "kind": str(r.kind)}
    t = int(r.at.timestamp() * 1000)

    def add(name: str, value: float, extra: Mapping[str, str] | None = None) -> None:
        out.append((labels_of({"__name__": name, **base, **(extra or {})}), t, value))

    return add


def run_samples(runs: Sequence[CheckRun]) -> list[Sample]:
    """The samples of stored runs, each at its run's time.

    - tenantwatch_check_up: 1 when the run passed (probe and conditions), else 0, as
      blackbox_exporter's probe_success;
    - tenantwatch_check_status: 1 while the check's state is up, 0 while down (after the
      failure/success thresholds); absent while unknown;
    - tenantwatch_check_duration_seconds, tenantwatch_check_phase_duration_seconds{phase},
      tenantwatch_check_status_code (http), tenantwatch_check_certificate_expiry_timestamp_seconds.
    """
    out: list[Sample] = []
    for r in runs:
        add = _adder(out, r)
        add("tenantwatch_check_up", 1.0 if r.ok else 0.0)
        add("tenantwatch_check_duration_seconds", r.duration_s)
        for phase, seconds in r.phases.items():
            add("tenantwatch_check_phase_duration_seconds", seconds, {"phase": phase})
        if r.status_code is not None:
            add("tenantwatch_check_status_code", float(r.status_code))
        if r.certificate_expiry is not None:
            add(
                "tenantwatch_check_certificate_expiry_timestamp_seconds",
                r.certificate_expiry.timestamp(),
            )
        if r.state is not None and r.state is not CheckStatus.UNKNOWN:
            add("tenantwatch_check_status", 1.0 if r.state is CheckStatus.UP else 0.0)
    return out


class SampleTailer:
    """Writes each newly stored check result as samples, once, in id order."""

    def __init__(self, service: CheckService, sink: SampleSink) -> None:
        self.service = service
        self.sink = sink
        self.last_id: int | None = None
        self.written = 0

    async def start_at_end(self) -> None:
        """Skip the results stored before now (earlier processes wrote their samples)."""
        self.last_id = await self.service.last_run_id()

    async def poll(self) -> int:
        """Write the samples of results stored since the last poll; return how many runs."""
        after = self.last_id or 0
        rows = await self.service.runs_after(after, TAIL_BATCH)
        if not rows:
            return 0
        try:
            self.sink(run_samples([run for _, run in rows]))
        except ValueError as exc:  # e.g. a sample older than the series' last: skip it
            log.warning("cannot write check samples", error=str(exc), runs=len(rows))
        self.last_id = rows[-1][0]
        self.written += len(rows)
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                while await self.poll() == TAIL_BATCH:
                    pass
            except Exception as exc:  # the database may be briefly away; try again
                log.warning("cannot read check results for samples", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TAIL_EVERY_S)

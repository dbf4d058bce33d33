"""Past days of the simulation as OpenMetrics with timestamps, for `tenantwatch backfill`.

One simulated second is drawn every `step` seconds and counted as the whole step, so two
days take a few thousand ticks instead of 172,800; the series are those of /metrics, with
the job and instance labels a scrape of the app adds. Before `fine_start` the draws can be
sparser (`coarse_step`), so weeks of history stay quick to write and to import. The demo's
check results (check_history.py) come from the same fault schedule.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TextIO

from prometheus_client.core import Metric

from .check_history import CheckSpec, check_history
from .exposition import Totals
from .faults import Fault, scheduled_faults
from .simulation import HistogramDelta, Tick, tick
from .tenants import TenantSpec

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class _Family:
    name: str
    kind: str
    help: str
    series: dict[SeriesKey, array[float]] = field(default_factory=dict)


def scaled(one: Tick, factor: int) -> Tick:
    """Return the tick counted factor times over: counters and histograms scaled, gauges kept."""
    return Tick(
        now=one.now,
        counters={
            name: {key: value * factor for key, value in series.items()}
            for name, series in one.counters.items()
        },
        histograms={
            name: {
                key: HistogramDelta(tuple(c * factor for c in d.counts), d.total * factor)
                for key, d in series.items()
            }
            for name, series in one.histograms.items()
        },
        gauges=one.gauges,
    )


class _Schedule:
    """The faults active at a time, found by bisecting their (sorted) starts."""

    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults = sorted(faults, key=lambda f: f.start)
        self.starts = [f.start for f in self.faults]
        self.longest = max((f.end - f.start for f in self.faults), default=0.0)

    def active(self, now: int) -> list[Fault]:
        lo = bisect.bisect_left(self.starts, now - self.longest)
        hi = bisect.bisect_left(self.starts, now + 1)
        return [x for x in self.faults[lo:hi] if x.start < now + 1 and x.end > now]


EARLIEST_UTC_OFFSET_S = 14 * 3600  # the earliest timezone's month starts 14 h before UTC's


def history_start(end: int, days: float, *, previous_month: bool = False) -> int:
    """Where a history of `days` before end starts; with previous_month, no later than the
    start of the calendar month before end's in any timezone (UTC+14's, rounded to an hour)."""
    start = end - int(days * 86_400)
    if not previous_month:
        return start
    this_month = datetime.fromtimestamp(end, UTC).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    return min(start, int(last_month.timestamp()) - EARLIEST_UTC_OFFSET_S)


def sample_times(
    start: int,
    end: int,
    step: int,
    *,
    coarse_step: int | None = None,
    fine_start: int | None = None,
) -> list[int]:
    """Times of the app's samples: every coarse_step from start, then every step from
    fine_start (both rounded up to their step) to before end."""
    if coarse_step is None or fine_start is None or fine_start <= start:
        return list(range(-(-start // step) * step, end, step))
    fine_first = -(-fine_start // step) * step
    coarse = range(-(-start // coarse_step) * coarse_step, min(fine_first, end), coarse_step)
    return [*coarse, *range(fine_first, end, step)]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    return ",".join(f'{name}="{_escape(value)}"' for name, value in pairs)


def _record(families: dict[str, _Family], metrics: Iterable[Metric], extra: dict[str, str]) -> None:
    for metric in metrics:
        family = families.setdefault(
            metric.name, _Family(metric.name, metric.type, metric.documentation)
        )
        for sample in metric.samples:
            labels = tuple(sorted({**sample.labels, **extra}.items()))
            family.series.setdefault((sample.name, labels), array("d")).append(sample.value)


def history(
    tenants: Sequence[TenantSpec],
    seed: int,
    *,
    start: int,
    end: int,
    step: int,
    target: dict[str, str],
    coarse_step: int | None = None,
    fine_start: int | None = None,
    checks: Sequence[CheckSpec] = (),
    check_step: int = 60,
) -> Iterator[str]:
    """Yield OpenMetrics lines (no newline) of the series /metrics shows, every step seconds
    from start (rounded up to a step) to before end, with target's labels; then the checks'
    samples every check_step seconds (check_history); `# EOF` last.

    With coarse_step and fine_start, the app's series are drawn every coarse_step seconds
    before fine_start, each draw counted as the whole gap since the previous one.
    The same arguments always give the same lines.
    """
    times = sample_times(start, end, step, coarse_step=coarse_step, fine_start=fine_start)
    faults = scheduled_faults(tenants, seed, start, end)
    schedule = _Schedule(faults)
    totals = Totals()
    families: dict[str, _Family] = {}
    first_gap = (
        coarse_step if coarse_step and fine_start and times and times[0] < fine_start else step
    )
    previous = times[0] - first_gap if times else 0
    for now in times:
        gap, previous = now - previous, now
        totals.add(scaled(tick(tenants, seed, now, schedule.active(now)), gap))
        _record(families, totals.collect(), target)
    stamps = [f"{now}" for now in times]
    for family in families.values():
        yield f"# TYPE {family.name} {family.kind}"
        yield f"# HELP {family.name} {_escape(family.help)}"
        for (name, labels), values in family.series.items():
            prefix = f"{name}{{{_labels(labels)}}} "
            for stamp, value in zip(stamps, values, strict=True):
                yield f"{prefix}{value!r} {stamp}"
    yield from check_history(checks, seed, faults, start=start, end=end, step=check_step)
    yield "# EOF"


def write_history(lines: Iterable[str], out: TextIO) -> int:
    """Write the lines to out, one per line; return how many sample lines were written."""
    samples = 0
    for line in lines:
        out.write(line)
        out.write("\n")
        samples += not line.startswith("#")
    return samples

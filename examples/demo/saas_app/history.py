"""Past days of the simulation as OpenMetrics with timestamps, for `tenantwatch backfill`.

One simulated second is drawn every `step` seconds and counted as the whole step, so two
days take a few thousand ticks instead of 172,800; the series are those of /metrics, with
the job and instance labels a scrape of the app adds.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from prometheus_client.core import Metric

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


def _active(faults: Sequence[Fault], now: int) -> list[Fault]:
    return [x for x in faults if x.start < now + 1 and x.end > now]


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
) -> Iterator[str]:
    """Yield OpenMetrics lines (no newline) of the series /metrics shows, every step seconds
    from start (rounded up to a step) to before end, with target's labels; `# EOF` last.

    The same arguments always give the same lines.
    """
    first = -(-start // step) * step
    times = list(range(first, end, step))
    faults = scheduled_faults(tenants, seed, first, end)
    totals = Totals()
    families: dict[str, _Family] = {}
    for now in times:
        totals.add(scaled(tick(tenants, seed, now, _active(faults, now)), step))
        _record(families, totals.collect(), target)
    stamps = [f"{now}" for now in times]
    for family in families.values():
        yield f"# TYPE {family.name} {family.kind}"
        yield f"# HELP {family.name} {_escape(family.help)}"
        for (name, labels), values in family.series.items():
            prefix = f"{name}{{{_labels(labels)}}} "
            for stamp, value in zip(stamps, values, strict=True):
                yield f"{prefix}{value!r} {stamp}"
    yield "# EOF"


def write_history(lines: Iterable[str], out: TextIO) -> int:
    """Write the lines to out, one per line; return how many sample lines were written."""
    samples = 0
    for line in lines:
        out.write(line)
        out.write("\n")
        samples += not line.startswith("#")
    return samples

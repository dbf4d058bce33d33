"""Time-based availability from a check's up samples (`tenantwatch_check_up`: 1 or 0).

Each sample holds its state until the next one, for at most `max_gap_s` (a check that
stopped reporting is unknown, not down). The accounting rules are explicit:
- a down run shorter than `min_downtime_s` counts as up (a blip below the SLA's minimum
  downtime period);
- excluded windows (maintenance, and time when the probing side itself failed) count
  neither up nor down;
- values between 0 and 1 (a degraded state, if a check reports one) count as `degraded`
  says: "up", "down", or "partial" (the value's share of the time is up).
Availability = up / (up + down); None when nothing was measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Window = tuple[int, int]  # [start, end) in ms


@dataclass(frozen=True)
class Rules:
    min_downtime_s: float = 0.0
    max_gap_s: float = 300.0
    degraded: Literal["up", "down", "partial"] = "down"


@dataclass(frozen=True)
class Availability:
    up_ms: float
    down_ms: float
    excluded_ms: float
    unknown_ms: float
    downtimes: tuple[Window, ...] = field(default=())

    @property
    def ratio(self) -> float | None:
        measured = self.up_ms + self.down_ms
        return None if measured <= 0 else self.up_ms / measured


def _merge(windows: Sequence[Window]) -> list[Window]:
    out: list[Window] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _overlap(window: Window, merged: Sequence[Window]) -> int:
    start, end = window
    return sum(max(0, min(end, e) - max(start, s)) for s, e in merged)


def _states(
    samples: Sequence[tuple[int, float]], period: Window, max_gap_ms: int
) -> list[tuple[int, int, float]]:
    """(start, end, value) runs within the period, equal neighbours merged."""
    lo, hi = period
    runs: list[tuple[int, int, float]] = []
    for i, (t, v) in enumerate(samples):
        until = t + max_gap_ms
        if i + 1 < len(samples):
            until = min(until, samples[i + 1][0])
        start, end = max(t, lo), min(until, hi)
        if end <= start:
            continue
        if runs and runs[-1][1] == start and runs[-1][2] == v:
            runs[-1] = (runs[-1][0], end, v)
        else:
            runs.append((start, end, v))
    return runs


def availability(
    samples: Sequence[tuple[int, float]],
    period: Window,
    *,
    rules: Rules = Rules(),
    excluded: Sequence[Window] = (),
) -> Availability:
    """The period's availability from ascending (ms, value) samples."""
    lo, hi = period
    skip = _merge([(max(s, lo), min(e, hi)) for s, e in excluded])
    up = down = 0.0
    downtimes: list[Window] = []
    covered = 0
    skipped_in_runs = 0
    min_down_ms = rules.min_downtime_s * 1000
    for start, end, value in _states(samples, period, round(rules.max_gap_s * 1000)):
        length = end - start
        covered += length
        counted = length - _overlap((start, end), skip)
        skipped_in_runs += length - counted
        if value >= 1:
            share = 1.0
        elif value <= 0:
            share = 0.0
        else:
            share = {"up": 1.0, "down": 0.0, "partial": value}[rules.degraded]
        if share < 1 and length < min_down_ms:
            share = 1.0  # shorter than the minimum downtime period: not downtime
        up += counted * share
        down += counted * (1 - share)
        if share < 1 and counted > 0:
            downtimes.append((start, end))
    excluded_ms = float(sum(e - s for s, e in skip))
    # time without samples is unknown, unless it is excluded anyway
    unknown = (hi - lo) - covered - (excluded_ms - skipped_in_runs)
    return Availability(up, down, excluded_ms, max(0.0, float(unknown)), tuple(downtimes))

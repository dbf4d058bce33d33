"""Flap detection (after Nagios) and the notification policy for flapping alerts.

Nagios keeps an alert's last 21 check results and computes a "percent state change"
in which each of the 20 possible changes is weighted linearly from oldest to newest
(its code uses 0.75..1.25); it starts flapping at or above the high threshold (50%) and
stops at or below the low one (25%), leaving the state alone in between.

Our alerts change on pushes and evaluations, not on a fixed check cadence, so we keep
the timestamps of the last `history` (21) changes and weigh them by age instead of by
slot: a change happening now weighs `high_weight` (1.2), one `window_s` old weighs
`low_weight` (0.8), and older ones drop out. The percent is 100 * the weighted sum /
(history - 1), capped at 100: with one change per slot of a regular 21-check history it
is Nagios' number. By default 10 changes within the last hour mean flapping.

While an alert flaps its individual notifications are suppressed: it pages once when it
starts flapping, then at most one digest per `digest_interval_s` summarizing the
changes since the last notice, and one notice when it stops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

FlapDecision = Literal["notify", "suppress", "page_flapping", "digest", "stopped"]


@dataclass(frozen=True, slots=True)
class FlapConfig:
    history: int = 21
    window_s: float = 3600.0
    high_threshold: float = 50.0
    low_threshold: float = 25.0
    low_weight: float = 0.8
    high_weight: float = 1.2
    digest_interval_s: float = 3600.0
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.history < 3:
            raise ValueError("flapping history must keep at least 3 changes (default 21)")
        if not (math.isfinite(self.window_s) and self.window_s > 0):
            raise ValueError("flapping window must be positive, e.g. '1h'")
        if not 0 <= self.low_threshold < self.high_threshold <= 100:
            raise ValueError("flapping thresholds need 0 <= low < high <= 100 (defaults 25 and 50)")
        if not 0 < self.low_weight <= self.high_weight:
            raise ValueError("flapping weights need 0 < low_weight <= high_weight")
        if not (math.isfinite(self.digest_interval_s) and self.digest_interval_s > 0):
            raise ValueError("flapping digest interval must be positive, e.g. '1h'")


@dataclass(frozen=True, slots=True)
class FlapState:
    transitions: tuple[float, ...] = ()  # times of changes within the window, oldest first
    flapping: bool = False
    digest_pending_since: float | None = None  # first change suppressed since the last notice
    percent: float = 0.0
    flapping_since: float | None = None
    last_notice_at: float | None = None  # when 'flapping started' or the last digest went out
    suppressed: int = 0  # changes suppressed since the last notice
    digest_changes: int = 0  # changes summarized by the digest sent at last_notice_at


def percent_state_change(transitions: tuple[float, ...], now: float, cfg: FlapConfig) -> float:
    """Return the weighted percent state change at `now` (0..100)."""
    total = 0.0
    span = cfg.high_weight - cfg.low_weight
    for t in transitions:
        age = now - t
        if 0 <= age < cfg.window_s:
            total += cfg.high_weight - span * age / cfg.window_s
    return min(100.0, 100.0 * total / (cfg.history - 1))


def _recent(transitions: tuple[float, ...], now: float, cfg: FlapConfig) -> tuple[float, ...]:
    kept = tuple(t for t in transitions if now - t < cfg.window_s)
    return kept[-cfg.history :]


def observe(state: FlapState, changed: bool, now: float, cfg: FlapConfig) -> FlapState:
    """Return the state after one observation at `now` (`changed`: the alert changed state).

    Call it on every change, and with changed=False when `next_evaluation` says so, so
    that a quiet alert stops flapping and digests go out.
    """
    transitions = _recent((*state.transitions, now) if changed else state.transitions, now, cfg)
    percent = percent_state_change(transitions, now, cfg)
    if not cfg.enabled:
        return FlapState(transitions=transitions, percent=percent)
    # Nagios: start at >= high, stop at <= low, keep the current state in between
    flapping = percent > cfg.low_threshold if state.flapping else percent >= cfg.high_threshold
    base = replace(state, transitions=transitions, percent=percent)
    if flapping and not state.flapping:
        return replace(
            base,
            flapping=True,
            flapping_since=now,
            last_notice_at=now,
            digest_pending_since=None,
            suppressed=0,
            digest_changes=0,
        )
    if not flapping:
        return FlapState(transitions=transitions, percent=percent)
    suppressed = state.suppressed + (1 if changed else 0)
    pending = state.digest_pending_since
    if changed and pending is None:
        pending = now
    last = state.last_notice_at if state.last_notice_at is not None else now
    if pending is not None and now >= last + cfg.digest_interval_s:
        return replace(
            base,
            last_notice_at=now,
            digest_pending_since=None,
            suppressed=0,
            digest_changes=suppressed,
        )
    return replace(base, digest_pending_since=pending, suppressed=suppressed)


def flap_decision(prev: FlapState, new: FlapState, now: float, cfg: FlapConfig) -> FlapDecision:
    """Return what to do with the notification for the observation that led to `new`.

    'page_flapping': it started flapping, page once instead of the usual notification;
    'digest': send the digest (new.digest_changes changes since the last notice);
    'suppress': flapping, send nothing; 'stopped': it stopped flapping, say so with the
    current status; 'notify': not flapping, the usual pipeline decides.
    """
    if not cfg.enabled and not prev.flapping:
        return "notify"
    if new.flapping and not prev.flapping:
        return "page_flapping"
    if prev.flapping and not new.flapping:
        return "stopped"
    if new.flapping:
        digest_now = new.last_notice_at == now and prev.last_notice_at != now
        return "digest" if digest_now else "suppress"
    return "notify"


def next_evaluation(state: FlapState, now: float, cfg: FlapConfig) -> float | None:
    """Return when to call observe(changed=False) next: the digest due time or the moment
    the percent decays to the low threshold, whichever is first; None when not flapping."""
    if not state.flapping or not cfg.enabled:
        return None
    candidates = [_stop_time(state.transitions, now, cfg)]
    if state.digest_pending_since is not None and state.last_notice_at is not None:
        candidates.append(max(now, state.last_notice_at + cfg.digest_interval_s))
    return min(candidates)


def _stop_time(transitions: tuple[float, ...], now: float, cfg: FlapConfig) -> float:
    """The first moment at or after now when, with no new changes, the percent is <= low.

    Between two moments where a change leaves the window the percent falls linearly, and
    at such a moment it drops by that change's weight, so the crossing is found exactly.
    """
    low = cfg.low_threshold

    def reached(t: float) -> bool:
        return percent_state_change(transitions, t, cfg) <= low

    if reached(now):
        return now
    span = cfg.high_weight - cfg.low_weight
    scale = 100.0 / (cfg.history - 1)
    start = now
    for end in sorted(t + cfg.window_s for t in transitions if t + cfg.window_s > now):
        active = [t for t in transitions if t <= start < t + cfg.window_s]
        if active and span > 0:
            # scale * sum(high_weight - span * (T - t) / window) == low, solved for T
            n = len(active)
            crossing = ((n * cfg.high_weight - low / scale) * cfg.window_s / span + sum(active)) / n
            if start <= crossing < end:
                while not reached(crossing):  # absorb rounding
                    crossing = math.nextafter(crossing, math.inf)
                return max(crossing, start)
        if reached(end):
            return end
        start = end
    return start


def count_occurrence(
    first_occurred: float | None,
    last_occurred: float | None,
    count: int,
    now: float,
    window_s: float = 3600.0,
) -> tuple[float, float, int]:
    """Return (first, last, count) after one more occurrence at `now` (seed 002 grouping).

    A repeat within `window_s` of the series' first occurrence increments it; otherwise
    (or with no series yet) a new series starts at `now` with count 1.
    """
    if first_occurred is None or now - first_occurred > window_s or now < first_occurred:
        return now, now, 1
    last = now if last_occurred is None else max(last_occurred, now)
    return first_occurred, last, max(count, 1) + 1

"""The ping intake's per-token buckets: limited before the token is looked up, bounded in
memory, and refilled with time."""

from __future__ import annotations

from typing import Any

import pytest

from tenantwatch.domain.ping_limit import PingLimited
from tenantwatch.workers import pings
from tenantwatch.workers.pings import PingIntake


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _intake(clock: _Clock, **kw: Any) -> PingIntake:
    return PingIntake(object(), monotonic=clock, **kw)  # type: ignore[arg-type]


def test_a_token_is_limited_and_refills_while_others_are_not() -> None:
    clock = _Clock()
    intake = _intake(clock, burst=2, rate=0.25)
    intake.limit("a")
    intake.limit("a")
    with pytest.raises(PingLimited) as info:
        intake.limit("a")
    assert info.value.retry_after_s == 4
    intake.limit("b")  # another token has its own bucket
    clock.now += 4
    intake.limit("a")


def test_buckets_stay_bounded_under_a_flood_of_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pings, "MAX_BUCKETS", 100)
    clock = _Clock()
    intake = _intake(clock, burst=5, rate=0.01)
    for _ in range(5):
        intake.limit("busy")
    for i in range(1000):
        intake.limit(f"random-{i}")
        assert len(intake._buckets) <= 100
    with pytest.raises(PingLimited):
        intake.limit("busy")  # new tokens cannot push out a spent bucket

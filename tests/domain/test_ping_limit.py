"""The per-token ping bucket: bursts up to its size, refills at its rate, says how long to wait."""

from __future__ import annotations

from tenantwatch.domain.ping_limit import Bucket, take


def _spend(bucket: Bucket | None, now: float, n: int) -> tuple[Bucket | None, list[int | None]]:
    waits: list[int | None] = []
    for _ in range(n):
        bucket, wait = take(bucket, now, burst=60, rate=1.0)
        waits.append(wait)
    return bucket, waits


def test_a_burst_is_taken_then_the_next_ping_waits() -> None:
    _, waits = _spend(None, 100.0, 61)
    assert waits[:60] == [None] * 60
    assert waits[60] == 1


def test_the_bucket_refills_at_its_rate() -> None:
    bucket, _ = _spend(None, 0.0, 60)
    bucket, wait = take(bucket, 0.5, burst=60, rate=1.0)
    assert wait == 1  # half a ping back: wait the rest, rounded up
    bucket, wait = take(bucket, 1.0, burst=60, rate=1.0)
    assert wait is None
    _, wait = take(bucket, 1.1, burst=60, rate=0.1)
    assert wait == 10


def test_cron_style_pings_are_never_limited() -> None:
    """A job every minute pings /start and then success, with curl's retries on top."""
    bucket: Bucket | None = None
    for minute in range(24 * 60):
        for offset in (0.0, 0.2, 0.4, 30.0, 30.1):
            bucket, wait = take(bucket, minute * 60 + offset, burst=60, rate=1.0)
            assert wait is None


def test_a_bucket_refills_to_its_burst_and_no_further() -> None:
    bucket, _ = _spend(None, 0.0, 10)
    assert bucket is not None
    assert bucket.level(5.0, burst=60, rate=1.0) == 55.0
    assert bucket.level(10.0, burst=60, rate=1.0) == bucket.level(99.0, burst=60, rate=1.0) == 60

"""How often one heartbeat token may be pinged: a token bucket per token, pure (`now` in).

A bucket holds up to `burst` pings and refills at `rate` pings per second, so cron-style
use (a /start and a finish per run, retries included) never meets it, while a flood on
one token is answered 429 with the seconds until the next ping is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class PingLimited(Exception):
    """Too many pings on one token; `retry_after_s` until the next one is taken."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many pings for this check; retry in {retry_after_s} s "
            "(a job pings once or twice per run)"
        )
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Bucket:
    """Pings left (fractions refill over time) as of `at` (seconds, any monotonic clock)."""

    tokens: float
    at: float

    def level(self, now: float, *, burst: int, rate: float) -> float:
        """Pings left at `now`; at `burst` the bucket is as good as new (it may be forgotten)."""
        return min(float(burst), self.tokens + max(0.0, now - self.at) * rate)


def take(
    bucket: Bucket | None, now: float, *, burst: int, rate: float
) -> tuple[Bucket, int | None]:
    """Spend one ping. Return the bucket after it and None when the ping is allowed, or
    the bucket and the whole seconds to wait (for Retry-After) when it is not."""
    tokens = float(burst) if bucket is None else bucket.level(now, burst=burst, rate=rate)
    if tokens >= 1.0:
        return Bucket(tokens - 1.0, now), None
    return Bucket(tokens, now), max(1, math.ceil((1.0 - tokens) / rate))

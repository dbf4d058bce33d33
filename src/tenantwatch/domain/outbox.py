"""When to retry a notification, when to give up, and how fast one target may be sent to.

Retries back off exponentially (base x factor^(attempt-1), capped) with a deterministic
jitter from the notification's id, never sooner than a Retry-After the receiver gave (a
429 without one waits at least 5 s). After max_attempts the notification is dead, with the
last reason. A token bucket per target (Slack: 1 per second per webhook) spaces sends.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

MIN_429_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 2.0
    factor: float = 2.0
    cap_s: float = 600.0

    def backoff(self, attempts: int, seed: str) -> float:
        raw = min(self.cap_s, self.base_s * self.factor ** max(0, attempts - 1))
        jitter = int.from_bytes(hashlib.sha256(f"{seed}:{attempts}".encode()).digest()[:4], "big")
        return raw * (0.5 + 0.5 * jitter / 0xFFFFFFFF)  # between half and the full backoff


@dataclass(frozen=True, slots=True)
class Decision:
    retry_at: float | None  # None: dead
    reason: str = ""


def next_attempt(
    policy: RetryPolicy,
    attempts: int,
    now: float,
    seed: str,
    *,
    retryable: bool,
    retry_after_s: float | None,
    status_code: int | None,
    error: str,
) -> Decision:
    """After a failed attempt (attempts counts it): retry when, or dead and why."""
    if not retryable:
        return Decision(None, f"not retryable: {error}")
    if attempts >= policy.max_attempts:
        return Decision(None, f"gave up after {attempts} attempts: {error}")
    wait = policy.backoff(attempts, seed)
    if retry_after_s is not None:
        wait = max(wait, retry_after_s)
    elif status_code == 429:
        wait = max(wait, MIN_429_WAIT_S)
    return Decision(now + wait, error)


@dataclass
class RateLimiter:
    """Token buckets per key; `rates` are sends per second by kind (default: unlimited)."""

    rates: dict[str, float] = field(default_factory=lambda: {"slack": 1.0})
    _next: dict[str, float] = field(default_factory=dict)

    def reserve(self, kind: str, key: str, now: float) -> float:
        """The time this send may go (now or later), reserving that slot."""
        rate = self.rates.get(kind)
        if not rate:
            return now
        at = max(now, self._next.get(key, 0.0))
        self._next[key] = at + 1.0 / rate
        return at

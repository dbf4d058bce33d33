"""When to retry a notification, when to give it up, and how fast one target may be sent to.

Retries back off exponentially (base x factor^(attempt-1), capped) with full jitter drawn
from a seed (the notification's id), so a given notification always waits the same and a
burst of failures does not retry in lock-step. A retry never comes sooner than the
receiver's Retry-After; a 429 without one waits at least 5 s. After `max_attempts` the
notification is dead, with the last reason. A token bucket per target (Slack: 1 per second
per webhook URL) spaces sends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

MIN_429_WAIT_S = 5.0


class AttemptResult(Protocol):
    """What a delivery attempt reported (adapters/notifiers DeliveryResult fits)."""

    @property
    def ok(self) -> bool: ...
    @property
    def retryable(self) -> bool: ...
    @property
    def status_code(self) -> int | None: ...
    @property
    def retry_after_s(self) -> float | None: ...
    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a notification after an attempt: sent, retry at a time, or dead."""

    outcome: Literal["sent", "retry", "dead"]
    retry_at: float | None = None
    reason: str | None = None

    @classmethod
    def sent(cls) -> Decision:
        return cls("sent")

    @classmethod
    def retry(cls, at: float, reason: str) -> Decision:
        return cls("retry", retry_at=at, reason=reason)

    @classmethod
    def dead(cls, reason: str) -> Decision:
        return cls("dead", reason=reason)


def failure_text(result: AttemptResult) -> str:
    """A one-line description of a failed attempt: the sender's error, else its status."""
    if result.error:
        return result.error
    if result.status_code is not None:
        return f"HTTP {result.status_code}"
    return "failed without a reason"


def unit_interval(seed: str, attempt: int) -> float:
    """A number in [0, 1) that depends only on (seed, attempt)."""
    digest = hashlib.sha256(f"{seed}\x00{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    # 12 attempts over about 12 to 24 minutes: a receiver down for minutes still gets all
    max_attempts: int = 12
    base_s: float = 2.0
    factor: float = 2.0
    cap_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if not self.base_s > 0 or not self.cap_s >= self.base_s:
            raise ValueError(
                f"backoff needs 0 < base_s <= cap_s (got base_s={self.base_s}, cap_s={self.cap_s})"
            )
        if not self.factor >= 1:
            raise ValueError(f"factor must be 1 or more so waits never shrink, not {self.factor}")

    def ceiling(self, attempts: int) -> float:
        """The longest wait after the given number of failed attempts (before jitter)."""
        exponent = max(0, attempts - 1)
        # factor**exponent overflows long after the cap is reached; stop early
        if exponent > 64:
            return self.cap_s
        return float(min(self.cap_s, self.base_s * self.factor**exponent))

    def backoff(self, attempts: int, seed: str) -> float:
        """Full jitter: a wait in [0, ceiling(attempts)), the same for the same seed."""
        return self.ceiling(attempts) * unit_interval(seed, attempts)

    def decide(self, attempts: int, now: float, result: AttemptResult, *, seed: str) -> Decision:
        """Return what to do after an attempt; `attempts` already counts this one."""
        if result.ok:
            return Decision.sent()
        reason = failure_text(result)
        if not result.retryable:
            return Decision.dead(f"not retryable: {reason}")
        if attempts >= self.max_attempts:
            return Decision.dead(f"gave up after {attempts} attempts; last: {reason}")
        wait = self.backoff(attempts, seed)
        if result.retry_after_s is not None:
            wait = max(wait, result.retry_after_s)
        elif result.status_code == 429:
            wait = max(wait, MIN_429_WAIT_S)
        return Decision.retry(now + wait, reason)


def next_attempt(
    policy: RetryPolicy, attempts: int, now: float, result: AttemptResult, *, seed: str
) -> Decision:
    """Return what to do after an attempt (see RetryPolicy.decide)."""
    return policy.decide(attempts, now, result, seed=seed)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`per_second` sends on average, up to `burst` at once after a quiet spell."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if not self.per_second > 0:
            raise ValueError(f"a rate limit needs per_second > 0, not {self.per_second}")
        if self.burst < 1:
            raise ValueError(f"a rate limit's burst must be at least 1, not {self.burst}")

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = {"slack": RateLimit(1.0, 1)}


@dataclass
class RateLimiter:
    """Token buckets per target key, limited by the notification kind's RateLimit.

    Each key keeps the time its bucket is full again (`_full_at`); `reserve` takes a token,
    possibly one that is only there later, so concurrent sends to one target get distinct
    slots. Kinds without a limit are never delayed.
    """

    limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    _full_at: dict[str, float] = field(default_factory=dict)

    def ready_at(self, kind: str, key: str, now: float) -> float:
        """When the next send to key may go (now or later); reserves nothing."""
        limit = self.limits.get(kind)
        if limit is None:
            return now
        full_at = self._full_at.get(key, now)
        return max(now, full_at - (limit.burst - 1) * limit.interval)

    def reserve(self, kind: str, key: str, now: float) -> float:
        """Take the next slot for key; return when that send may go (now or later)."""
        at = self.ready_at(kind, key, now)
        limit = self.limits.get(kind)
        if limit is not None:
            self._full_at[key] = max(self._full_at.get(key, at), at) + limit.interval
        return at

    def forget_idle(self, now: float) -> None:
        """Drop keys whose bucket is full again (they behave as new keys)."""
        for key in [k for k, full_at in self._full_at.items() if full_at <= now]:
            del self._full_at[key]


def rate_key(kind: str, url: str, recipients: str = "") -> str:
    """The key a target is rate limited by: its kind and URL (or e-mail recipients)."""
    raw = f"{kind}\x00{url}\x00{recipients}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]

"""When to retry a notification, when to give it up, and how fast one target may be sent to.

Retries back off exponentially (base x factor^(attempt-1), capped) with full jitter drawn
from a seed (the notification's id), so a given notification always waits the same and a
burst of failures does not retry in lock-step. They go on for a time budget, `retry_for_s`
(24 minutes) after the first attempt: a retry that would come later is moved to that
moment, and an attempt that fails then is the last; the notification is dead, with the
last reason. So a receiver that is down for less than the budget loses nothing, however
the jitter fell. A retry never comes sooner than the receiver's Retry-After (even past the
budget: that attempt is then the last); a 429 without one waits at least 5 s. A token
bucket per target (Slack: 1 per second per webhook URL) spaces sends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

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
    """Backoff with full jitter, for `retry_for_s` after the first attempt (and at most
    `max_attempts` attempts, when set)."""

    retry_for_s: float = 24 * 60.0
    max_attempts: int | None = None
    base_s: float = 2.0
    factor: float = 2.0
    cap_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if not self.retry_for_s >= 0:
            raise ValueError(f"retry_for_s must be 0 or more, not {self.retry_for_s}")
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

    def decide(
        self,
        attempts: int,
        now: float,
        result: AttemptResult,
        *,
        seed: str,
        first_attempt_at: float | None = None,
    ) -> Decision:
        """Return what to do after an attempt at `now`; `attempts` already counts this one,
        and `first_attempt_at` is when the first began (None: this is the first)."""
        if result.ok:
            return Decision.sent()
        reason = failure_text(result)
        if not result.retryable:
            return Decision.dead(f"not retryable: {reason}")
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return Decision.dead(f"gave up after {attempts} attempts; last: {reason}")
        first = now if first_attempt_at is None else first_attempt_at
        deadline = first + self.retry_for_s
        if now >= deadline:
            spent = _minutes(now - first)
            return Decision.dead(f"gave up after {attempts} attempts in {spent}; last: {reason}")
        at = min(now + self.backoff(attempts, seed), deadline)
        if result.retry_after_s is not None:
            at = max(at, now + result.retry_after_s)
        elif result.status_code == 429:
            at = max(at, now + MIN_429_WAIT_S)
        return Decision.retry(at, reason)


def _minutes(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} minutes"


def next_attempt(
    policy: RetryPolicy,
    attempts: int,
    now: float,
    result: AttemptResult,
    *,
    seed: str,
    first_attempt_at: float | None = None,
) -> Decision:
    """Return what to do after an attempt (see RetryPolicy.decide)."""
    return policy.decide(attempts, now, result, seed=seed, first_attempt_at=first_attempt_at)


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


@dataclass(frozen=True, slots=True)
class Claimed:
    """A notification this worker holds until `lease_until`."""

    id: int
    idempotency_key: str
    kind: str
    request: Mapping[str, Any]
    attempts: int
    lease_until: float
    order_key: str | None = None
    role: str = "notice"
    first_attempt_at: float | None = None

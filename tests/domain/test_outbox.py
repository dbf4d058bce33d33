"""Retry decisions (backoff, Retry-After, dead letters) and per-target rate limits."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tenantwatch.domain.outbox import (
    MIN_429_WAIT_S,
    Decision,
    RateLimit,
    RateLimiter,
    RetryPolicy,
    next_attempt,
    rate_key,
)


@dataclass(frozen=True)
class Attempt:
    ok: bool = False
    retryable: bool = True
    status_code: int | None = 500
    retry_after_s: float | None = None
    error: str | None = None


NOW = 1_000_000.0


def test_a_successful_attempt_is_sent() -> None:
    assert next_attempt(RetryPolicy(), 1, NOW, Attempt(ok=True), seed="1") == Decision.sent()


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    p = RetryPolicy(base_s=2, factor=2, cap_s=600)
    assert [p.ceiling(n) for n in range(1, 6)] == [2, 4, 8, 16, 32]
    assert p.ceiling(10) == 600 and p.ceiling(10_000) == 600


def give_up(p: RetryPolicy, seed: str, result: Attempt | None = None) -> tuple[float, int]:
    """Fail every attempt; return when the last one was (from the first) and how many."""
    now, attempts = NOW, 0
    while True:
        attempts += 1
        d = p.decide(attempts, now, result or Attempt(), seed=seed, first_attempt_at=NOW)
        if d.outcome == "dead":
            return now - NOW, attempts
        assert d.retry_at is not None and d.retry_at >= now
        now = d.retry_at


def test_retries_go_on_for_24_minutes_after_the_first_attempt_however_the_jitter_falls() -> None:
    p = RetryPolicy()
    assert p.retry_for_s == 24 * 60 and p.max_attempts is None
    ends = [give_up(p, str(seed)) for seed in range(300)]
    assert {last for last, _ in ends} == {24 * 60.0}  # the last try is at the budget's end
    assert min(n for _, n in ends) >= 10  # exponential, capped at 5 minutes
    assert max(n for _, n in ends) <= 40


def test_the_budget_is_configurable_and_counts_from_the_first_attempt() -> None:
    p = RetryPolicy(retry_for_s=60)
    assert give_up(p, "x")[0] == 60
    first_failure = p.decide(1, NOW, Attempt(), seed="x")  # first_attempt_at: this one
    assert first_failure.outcome == "retry"
    late = p.decide(3, NOW + 60, Attempt(error="boom"), seed="x", first_attempt_at=NOW)
    assert late == Decision.dead("gave up after 3 attempts in 60 s; last: boom")


def test_retry_after_past_the_budget_is_honoured_once_more() -> None:
    p = RetryPolicy(retry_for_s=600)
    d = p.decide(
        2, NOW + 590, Attempt(status_code=429, retry_after_s=120), seed="1", first_attempt_at=NOW
    )
    assert d.outcome == "retry" and d.retry_at == NOW + 710
    assert p.decide(3, NOW + 710, Attempt(), seed="1", first_attempt_at=NOW).outcome == "dead"


def test_full_jitter_is_deterministic_per_notification_and_spread_out() -> None:
    p = RetryPolicy()
    waits = [p.backoff(5, seed=str(i)) for i in range(200)]
    assert waits == [p.backoff(5, seed=str(i)) for i in range(200)]
    assert all(0 <= w < 32 for w in waits)
    assert min(waits) < 4 and max(waits) > 28  # spread over the whole range
    assert len(set(waits)) == 200


def test_a_retryable_failure_is_retried_after_the_backoff() -> None:
    p = RetryPolicy()
    d = next_attempt(p, 3, NOW, Attempt(status_code=503), seed="42")
    assert d.outcome == "retry" and d.reason == "HTTP 503"
    assert d.retry_at == NOW + p.backoff(3, "42")


def test_retry_after_is_never_undercut() -> None:
    d = next_attempt(RetryPolicy(), 1, NOW, Attempt(status_code=429, retry_after_s=120), seed="1")
    assert d.outcome == "retry" and d.retry_at == NOW + 120


def test_a_429_without_retry_after_waits_at_least_five_seconds() -> None:
    for seed in map(str, range(50)):
        d = next_attempt(RetryPolicy(), 1, NOW, Attempt(status_code=429), seed=seed)
        assert d.retry_at is not None and d.retry_at >= NOW + MIN_429_WAIT_S


def test_after_max_attempts_the_notification_is_dead_with_the_last_reason() -> None:
    p = RetryPolicy(max_attempts=3)
    assert next_attempt(p, 2, NOW, Attempt(), seed="1").outcome == "retry"
    d = next_attempt(p, 3, NOW, Attempt(error="HTTP 500: Internal Server Error"), seed="1")
    assert d == Decision.dead("gave up after 3 attempts; last: HTTP 500: Internal Server Error")


def test_a_permanent_failure_is_dead_at_once() -> None:
    d = next_attempt(
        RetryPolicy(), 1, NOW, Attempt(retryable=False, status_code=400, error="HTTP 400"), seed="1"
    )
    assert d == Decision.dead("not retryable: HTTP 400")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_attempts": 0}, "max_attempts must be at least 1"),
        ({"retry_for_s": -1}, "retry_for_s must be 0 or more"),
        ({"base_s": 0}, "0 < base_s <= cap_s"),
        ({"base_s": 10, "cap_s": 5}, "0 < base_s <= cap_s"),
        ({"factor": 0.5}, "factor must be 1 or more"),
    ],
)
def test_bad_policies_say_what_is_wrong(kwargs: dict[str, float], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_slack_sends_to_one_webhook_are_one_second_apart() -> None:
    limiter = RateLimiter()
    slots = [limiter.reserve("slack", "hook-a", NOW) for _ in range(4)]
    assert slots == [NOW, NOW + 1, NOW + 2, NOW + 3]
    assert limiter.reserve("slack", "hook-b", NOW) == NOW  # another webhook is separate
    assert limiter.ready_at("slack", "hook-a", NOW + 10) == NOW + 10  # refilled


def test_kinds_without_a_limit_are_never_delayed() -> None:
    limiter = RateLimiter()
    assert {limiter.reserve("webhook", "x", NOW) for _ in range(10)} == {NOW}


def test_a_burst_goes_at_once_then_the_rate_applies() -> None:
    limiter = RateLimiter({"teams": RateLimit(per_second=2, burst=3)})
    slots = [limiter.reserve("teams", "k", NOW) for _ in range(5)]
    assert slots == [NOW, NOW, NOW, NOW + 0.5, NOW + 1.0]
    # half a second later one more token is back, no more
    limiter2 = RateLimiter({"teams": RateLimit(per_second=2, burst=3)})
    for _ in range(3):
        limiter2.reserve("teams", "k", NOW)
    assert limiter2.reserve("teams", "k", NOW + 0.5) == NOW + 0.5
    assert limiter2.reserve("teams", "k", NOW + 0.5) == NOW + 1.0


def test_ready_at_reserves_nothing_and_idle_keys_are_forgotten() -> None:
    limiter = RateLimiter()
    limiter.reserve("slack", "k", NOW)
    assert limiter.ready_at("slack", "k", NOW) == NOW + 1
    assert limiter.ready_at("slack", "k", NOW) == NOW + 1
    limiter.forget_idle(NOW + 0.5)
    assert limiter.ready_at("slack", "k", NOW + 0.5) == NOW + 1
    limiter.forget_idle(NOW + 1)
    assert limiter.ready_at("slack", "k", NOW + 0.2) == NOW + 0.2


def test_bad_rate_limits_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="per_second > 0"):
        RateLimit(per_second=0)
    with pytest.raises(ValueError, match="burst must be at least 1"):
        RateLimit(per_second=1, burst=0)


def test_rate_keys_separate_kinds_urls_and_recipients() -> None:
    keys = {
        rate_key("slack", "https://hooks.slack.com/a"),
        rate_key("slack", "https://hooks.slack.com/b"),
        rate_key("webhook", "https://hooks.slack.com/a"),
        rate_key("email", "", "a@example.com"),
        rate_key("email", "", "b@example.com"),
    }
    assert len(keys) == 5
    assert rate_key("slack", "u") == rate_key("slack", "u")

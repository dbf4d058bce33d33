"""What one delivery attempt reported: DeliveryResult, and failure() to build a failed one."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    ok: bool
    retryable: bool
    status_code: int | None
    retry_after_s: float | None
    error: str | None
    latency_ms: float


def failure(
    started: float,
    error: str,
    *,
    retryable: bool,
    status_code: int | None = None,
    retry_after_s: float | None = None,
) -> DeliveryResult:
    """A failed delivery that began at `started` (perf_counter seconds)."""
    return DeliveryResult(
        ok=False,
        retryable=retryable,
        status_code=status_code,
        retry_after_s=retry_after_s,
        error=error,
        latency_ms=(time.perf_counter() - started) * 1000,
    )

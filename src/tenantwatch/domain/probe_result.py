"""What one probe run observed: outcome, timings and the facts conditions are judged on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one probe; `ok` is the probe's own verdict before any conditions.

    `phases` holds seconds per phase (dns, connect, tls, processing, transfer) where the
    probe can tell them apart; `details` carries kind-specific figures (rcode, answers,
    connections, used_memory, a python check's value ...). `error` is a short sentence.
    """

    ok: bool
    duration_s: float
    status_code: int | None = None
    body: bytes = b""
    body_size: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    certificate_expiry: datetime | None = None
    connected: bool = False
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

"""Deliver an OutboundRequest by its kind, and say whether a failure is worth retrying.

`Notifiers(allow_private=[...])` holds the SSRF policy and the HTTP sessions; pass its
`deliver` to the outbox worker and `await close()` at shutdown. The module-level
`deliver` uses a strict default (no internal destinations) for callers without config.
"""

# ruff: noqa: ASYNC109  (deliver(request, *, timeout) is the outbox contract)

from __future__ import annotations

import time
from collections.abc import Sequence

from tenantwatch.adapters.notifiers.http import HttpSender
from tenantwatch.adapters.notifiers.result import DeliveryResult, failure
from tenantwatch.adapters.ssrf import SsrfPolicy
from tenantwatch.alertmanager.notify_payloads import OutboundRequest


class Notifiers:
    """The senders, sharing one SSRF policy and one HTTP session per event loop."""

    def __init__(self, *, allow_private: Sequence[str] = (), max_body_bytes: int = 65_536) -> None:
        self.policy = SsrfPolicy.from_allow_list(allow_private)
        self._http = HttpSender(self.policy, max_body_bytes=max_body_bytes)

    async def deliver(self, request: OutboundRequest, *, timeout: float) -> DeliveryResult:
        """Send request; never raises for network, protocol or server errors."""
        started = time.perf_counter()
        try:
            if request.kind == "email":
                from tenantwatch.adapters.notifiers.email import send_email

                return await send_email(request, timeout=timeout, policy=self.policy)
            if request.kind == "apprise":
                from tenantwatch.adapters.notifiers.apprise_sender import send_apprise

                return await send_apprise(request, timeout=timeout, policy=self.policy)
            return await self._http.send(request, timeout=timeout)
        except Exception as exc:  # a request we cannot even attempt: no retry will help
            return failure(started, f"{type(exc).__name__}: {exc}", retryable=False)

    async def close(self) -> None:
        """Close the HTTP session of the running event loop."""
        await self._http.close()


_default: Notifiers | None = None


def _notifiers() -> Notifiers:
    global _default
    if _default is None:
        _default = Notifiers()
    return _default


async def deliver(request: OutboundRequest, *, timeout: float) -> DeliveryResult:
    """Send request with the strict default policy (no internal destinations)."""
    return await _notifiers().deliver(request, timeout=timeout)


async def close() -> None:
    """Close the default senders' HTTP session for the running event loop."""
    if _default is not None:
        await _default.close()

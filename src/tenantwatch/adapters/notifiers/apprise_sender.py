"""Any Apprise URL (https://github.com/caronc/apprise/wiki) through apprise's async_notify.

Apprise opens its own connections, so the SSRF guard can only check the destination
before sending: json/xml/form URLs (whose host is user-chosen) must resolve to allowed
addresses. Provider URLs (slack://, tgram://, ...) go to the providers' fixed hosts.
It needs the `apprise` extra (pip install 'tenantwatch[apprise]').
"""

# ruff: noqa: ASYNC109  (deliver(request, *, timeout) is the outbox contract)

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from tenantwatch.adapters.extras import MissingExtra, require
from tenantwatch.adapters.notifiers.result import DeliveryResult, failure
from tenantwatch.adapters.ssrf import SsrfError, SsrfPolicy, resolve_checked
from tenantwatch.alertmanager.notify_payloads import OutboundRequest, apprise_target

_HOSTED = {"json": 80, "xml": 80, "form": 80, "jsons": 443, "xmls": 443, "forms": 443}


async def _check_destination(url: str, policy: SsrfPolicy) -> None:
    scheme = url.split("://", 1)[0].lower()
    if scheme not in _HOSTED:
        return
    parts = urlsplit("http://" + url.split("://", 1)[1])
    host = parts.hostname or ""
    policy.check_literal(host)
    await resolve_checked(host, parts.port or _HOSTED[scheme], policy)


async def send_apprise(
    request: OutboundRequest,
    *,
    timeout: float,
    policy: SsrfPolicy,
) -> DeliveryResult:
    """Notify every URL; a bad URL is not retryable, a failed send is."""
    started = time.perf_counter()
    try:
        require("apprise", extra="apprise", feature="An apprise receiver")
    except MissingExtra as exc:
        return failure(started, str(exc), retryable=False)
    import apprise

    message = dict(request.json or {})
    urls = [str(u) for u in message.get("urls") or ()]
    notifier = apprise.Apprise()
    for url in urls:
        if not notifier.add(url):
            return failure(
                started,
                f"apprise: {apprise_target(url)} is not a valid Apprise URL; "
                "see https://github.com/caronc/apprise/wiki for the formats",
                retryable=False,
            )
    try:
        for url in urls:
            await _check_destination(url, policy)
        async with asyncio.timeout(timeout):
            ok = await notifier.async_notify(
                body=str(message.get("body") or ""), title=str(message.get("title") or "")
            )
    except SsrfError as exc:
        return failure(started, f"apprise: {exc}", retryable=False)
    except TimeoutError:
        return failure(started, f"{request.target}: no answer within {timeout:g}s", retryable=True)
    except OSError as exc:
        return failure(started, f"{request.target}: {exc}", retryable=True)
    if not ok:
        return failure(
            started, f"{request.target}: apprise reported a failed delivery", retryable=True
        )
    return DeliveryResult(
        ok=True,
        retryable=False,
        status_code=None,
        retry_after_s=None,
        error=None,
        latency_ms=(time.perf_counter() - started) * 1000,
    )

"""HTTP delivery on aiohttp: no redirects, a capped response body, retry advice by status.

2xx is success. 408, 429 and 5xx are worth retrying (with Retry-After, in seconds or as an
HTTP date, when the server gives one); network errors and timeouts too. Other statuses,
redirects included (never followed: a redirect could lead to an internal address), are not.
"""

# ruff: noqa: ASYNC109  (deliver(request, *, timeout) is the outbox contract)

from __future__ import annotations

import asyncio
import time
import weakref
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from tenantwatch.adapters.notifiers.base import DeliveryResult, failure
from tenantwatch.adapters.notifiers.ssrf import GuardedResolver, SsrfError, SsrfPolicy
from tenantwatch.domain.notify_payloads import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    OutboundRequest,
    go_json,
    webhook_signature,
)

USER_AGENT = "tenantwatch"
_RETRY_STATUSES = frozenset({408, 429})


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delta seconds or HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class HttpSender:
    """Posts OutboundRequests; one ClientSession per event loop, created on first use."""

    def __init__(self, policy: SsrfPolicy, *, max_body_bytes: int = 65_536) -> None:
        self._policy = policy
        self._max_body = max_body_bytes
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._policy), limit=100)
            session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": USER_AGENT},
                trust_env=False,
            )
            self._sessions[loop] = session
        return session

    async def close(self) -> None:
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()

    async def send(self, request: OutboundRequest, *, timeout: float) -> DeliveryResult:
        started = time.perf_counter()
        where = request.target or request.kind
        try:
            host = urlsplit(request.url).hostname or ""
            self._policy.check_literal(host)
            body = request.body
            if body is None and request.json is not None:
                body = go_json(request.json)
            headers = CIMultiDict(request.headers)
            if request.hmac_secret:
                stamp = str(int(time.time()))
                headers[TIMESTAMP_HEADER] = stamp
                headers[SIGNATURE_HEADER] = webhook_signature(
                    request.hmac_secret, stamp, body or b""
                )
            async with self._session().request(
                request.method,
                request.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                text = (await resp.content.read(self._max_body)).decode("utf-8", "replace")
                return _outcome(started, resp, text, where)
        except SsrfError as exc:
            return failure(started, f"{where}: {exc}", retryable=False)
        except TimeoutError:
            return failure(started, f"{where}: no response within {timeout:g}s", retryable=True)
        except aiohttp.ClientError as exc:
            return failure(started, f"{where}: {type(exc).__name__}: {exc}", retryable=True)
        except OSError as exc:
            return failure(started, f"{where}: {exc}", retryable=True)


def _outcome(started: float, resp: aiohttp.ClientResponse, text: str, where: str) -> DeliveryResult:
    status = resp.status
    if 200 <= status < 300:
        return DeliveryResult(
            ok=True,
            retryable=False,
            status_code=status,
            retry_after_s=None,
            error=None,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
    detail = " ".join(text.split())[:300]
    if 300 <= status < 400:
        location = resp.headers.get("Location", "")
        message = f"{where}: HTTP {status} redirect to {location!r} not followed; use the final URL"
        return failure(started, message, retryable=False, status_code=status)
    retryable = status >= 500 or status in _RETRY_STATUSES
    retry_after = (
        parse_retry_after(resp.headers.get("Retry-After"), time.time()) if retryable else None
    )
    message = f"{where}: HTTP {status}" + (f": {detail}" if detail else "")
    return failure(
        started, message, retryable=retryable, status_code=status, retry_after_s=retry_after
    )

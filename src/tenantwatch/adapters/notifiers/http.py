"""HTTP delivery on aiohttp: redirects followed hop by hop, a capped body, retry advice by status.

2xx is success. 408, 429 and 5xx are worth retrying (with Retry-After, in seconds or as an
HTTP date, when the server gives one); network errors and timeouts too. Other statuses
are not. Redirects are followed as Alertmanager follows them (redirects.py) unless the
request's http_config says `follow_redirects: false`, when the 3xx is the answer; every
hop passes the SSRF guard before it connects (an IP literal is checked here, a name by
the session's resolver, which connects to the address it checked). One timeout covers
the whole chain.
"""

# ruff: noqa: ASYNC109  (deliver(request, *, timeout) is the outbox contract)

from __future__ import annotations

import asyncio
import time
import weakref
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import aiohttp
from multidict import CIMultiDict

from tenantwatch.adapters.notifiers.redirects import (
    FOLLOWED,
    MAX_REDIRECTS,
    Hop,
    RedirectError,
    next_hop,
)
from tenantwatch.adapters.notifiers.result import DeliveryResult, failure
from tenantwatch.adapters.ssrf import GuardedResolver, SsrfError, SsrfPolicy
from tenantwatch.alertmanager.notify_payloads import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    OutboundRequest,
    go_json,
    redact_url,
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
        deadline = started + timeout
        hop: Hop | None = None
        redirects = 0
        try:
            first = hop = _first_hop(request)
            while True:
                self._policy.check_literal(urlsplit(hop.url).hostname or "")
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError
                async with self._session().request(
                    hop.method,
                    hop.url,
                    data=hop.body,
                    headers=CIMultiDict(hop.headers),
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=left),
                ) as resp:
                    following = (
                        next_hop(hop, resp.status, resp.headers.get("Location"), first)
                        if request.follow_redirects
                        else None
                    )
                    if following is None:
                        text = (await resp.content.read(self._max_body)).decode("utf-8", "replace")
                        return _outcome(started, resp, text, where, redirects)
                if redirects == MAX_REDIRECTS:
                    return failure(
                        started,
                        f"{where}: stopped after {MAX_REDIRECTS} redirects; "
                        f"{redact_url(hop.url)} redirects again",
                        retryable=False,
                    )
                hop = following
                redirects += 1
        except (SsrfError, RedirectError) as exc:
            return failure(started, _where(where, hop, redirects) + str(exc), retryable=False)
        except TimeoutError:
            message = f"no response within {timeout:g}s"
            return failure(started, _where(where, hop, redirects) + message, retryable=True)
        except aiohttp.ClientError as exc:
            message = _without_urls(f"{type(exc).__name__}: {exc}", request.url, hop)
            return failure(started, _where(where, hop, redirects) + message, retryable=True)
        except OSError as exc:
            return failure(started, _where(where, hop, redirects) + str(exc), retryable=True)


def _first_hop(request: OutboundRequest) -> Hop:
    body = request.body
    if body is None and request.json is not None:
        body = go_json(request.json)
    headers = list(request.headers)
    if request.hmac_secret:
        stamp = str(int(time.time()))
        headers.append((TIMESTAMP_HEADER, stamp))
        headers.append(
            (SIGNATURE_HEADER, webhook_signature(request.hmac_secret, stamp, body or b""))
        )
    return Hop(request.method, request.url, tuple(headers), body)


def _without_urls(text: str, url: str, hop: Hop | None) -> str:
    """text with the URLs it may quote (tokens in their paths) redacted; some aiohttp
    errors name the URL."""
    for full in {url, hop.url if hop is not None else url}:
        text = text.replace(full, redact_url(full))
    return text


def _where(where: str, hop: Hop | None, redirects: int) -> str:
    """The start of an error message: the target, and the hop when it was a redirect."""
    if hop is None or redirects == 0:
        return f"{where}: "
    return f"{where}: redirect {redirects} to {redact_url(hop.url)}: "


def _outcome(
    started: float, resp: aiohttp.ClientResponse, text: str, where: str, redirects: int
) -> DeliveryResult:
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
    if status in FOLLOWED and resp.headers.get("Location"):  # follow_redirects is off
        location = redact_url(urljoin(str(resp.url), resp.headers["Location"]))
        message = (
            f"{where}: HTTP {status} redirect to {location} not followed "
            "(http_config.follow_redirects is false); use the final URL or allow redirects"
        )
        return failure(started, message, retryable=False, status_code=status)
    retryable = status >= 500 or status in _RETRY_STATUSES
    retry_after = (
        parse_retry_after(resp.headers.get("Retry-After"), time.time()) if retryable else None
    )
    hops = f" (after {redirects} redirect{'s' if redirects > 1 else ''})" if redirects else ""
    message = f"{where}: HTTP {status}{hops}" + (f": {detail}" if detail else "")
    return failure(
        started, message, retryable=retryable, status_code=status, retry_after_s=retry_after
    )

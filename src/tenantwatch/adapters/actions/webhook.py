"""Webhook kinds: one JSON POST of the payload the planner built to `params["url"]`.

A 2xx answer is done; any other status, a network error, a timeout or an address the SSRF
policy refuses is a failed outcome. Redirects are not followed: an action's endpoint is
configured, and a redirect is reported rather than chased.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tenantwatch import jsonio
from tenantwatch.adapters.actions.base import finished, now, truncated
from tenantwatch.adapters.ssrf import GuardedConnector, SsrfError, SsrfPolicy
from tenantwatch.incidents.actions import ActionKind, ActionSpec, Outcome, OutcomeStatus

USER_AGENT = "tenantwatch-actions"


def describe(spec: ActionSpec, params: Mapping[str, Any]) -> str:
    """What the call does, as "<verb> <target> via POST <url>" (without query or secrets)."""
    payload = params.get("payload", {})
    verbs = {
        ActionKind.WEBHOOK: "call webhook",
        ActionKind.MAINTENANCE: f"enable maintenance for {payload.get('tenant') or 'all tenants'}",
        ActionKind.BLOCK_IP: f"block ip {payload.get('ip')}",
        ActionKind.DISABLE_ACCOUNT: f"disable account {payload.get('account')}",
        ActionKind.TICKET: f"open ticket {payload.get('title')!r}",
    }
    return f"{verbs.get(spec.kind, str(spec.kind))} via POST {_shown(str(params.get('url')))}"


class WebhookExecutor:
    """Posts action payloads; one ClientSession per event loop, created on first use."""

    def __init__(self, policy: SsrfPolicy) -> None:
        self._policy = policy
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                connector=GuardedConnector(self._policy),
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

    async def run(self, spec: ActionSpec, params: Mapping[str, Any], dry_run: bool) -> Outcome:
        started = now()
        url = params.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            detail = f"action {spec.name}: params.url must be an http(s) URL, got {url!r}"
            return finished(spec, OutcomeStatus.FAILED, detail, started, dry_run=dry_run)
        what = describe(spec, params)
        if dry_run:
            return finished(spec, OutcomeStatus.DRY_RUN, f"would {what}", started, dry_run=True)
        headers = {"Content-Type": "application/json"}
        headers.update({str(k): str(v) for k, v in dict(params.get("headers", {})).items()})
        body = jsonio.dumps(params.get("payload", {})).encode()
        try:
            async with self._session().post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=spec.timeout.total_seconds()),
            ) as resp:
                text = truncated(await resp.content.read(4097))
                if 200 <= resp.status < 300:
                    return finished(spec, OutcomeStatus.DONE, f"{what}: {resp.status}", started)
                detail = f"{what}: answered {resp.status}: {text}".rstrip(": ")
                return finished(spec, OutcomeStatus.FAILED, detail, started)
        except TimeoutError:
            detail = f"{what}: no answer within {spec.timeout.total_seconds():g}s"
        except SsrfError as exc:
            detail = f"{what}: {exc}"
        except (aiohttp.ClientError, OSError) as exc:
            detail = f"{what}: {type(exc).__name__}: {exc}"
        except Exception as exc:  # an action never breaks the incident flow
            detail = f"{what}: unexpected {type(exc).__name__}: {exc}"
        return finished(spec, OutcomeStatus.FAILED, detail, started)


def _shown(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"

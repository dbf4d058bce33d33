"""http_sd_configs: GET a URL answering Prometheus' http_sd JSON every refresh_interval.

The answer must be 200 with `application/json` and at most max_bytes; anything else is
logged and the last groups stay, as in Prometheus. Groups are sourced `url:index` and carry
`__meta_url`.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
import structlog

from tenantwatch import jsonio
from tenantwatch.config.discovery_model import HttpSDConfig
from tenantwatch.metrics.discovery.file_format import TargetFileError, groups_from
from tenantwatch.metrics.discovery.provider import Send
from tenantwatch.metrics.http_auth import (
    CredentialsError,
    TlsSettings,
    auth_from_config,
    authorization_header,
    ssl_context,
)
from tenantwatch.metrics.target_groups import TargetGroup

log = structlog.get_logger(__name__)

URL_LABEL = "__meta_url"
DEFAULT_MAX_BYTES = 16 << 20
USER_AGENT = "tenantwatch-http-sd"
_JSON = re.compile(r'^(?i:application/json(;\s*charset=("utf-8"|utf-8))?)$')


def seconds_text(seconds: float) -> str:
    """Seconds as Go's FormatFloat(s, 'f', -1, 64) writes them: '60', '0.5', '86400'."""
    return format(seconds, "f").rstrip("0").rstrip(".") or "0"


class HttpSdError(Exception):
    """Why one refresh failed; the last groups stay."""


def content_type_ok(value: str) -> bool:
    """Whether a Content-Type is one Prometheus' http_sd accepts."""
    return _JSON.match(value.strip()) is not None


def parse_http_sd(body: bytes, url: str) -> list[TargetGroup]:
    """The groups in an http_sd answer. Raise HttpSdError when it is not a list of groups."""
    try:
        data = jsonio.loads(body)
    except ValueError as exc:
        raise HttpSdError(f"the answer is not JSON: {exc}") from None
    if isinstance(data, list) and any(item is None for item in data):
        raise HttpSdError("nil target group item found")
    try:
        return groups_from(data, url, [], {URL_LABEL: url})
    except TargetFileError as exc:
        raise HttpSdError(exc.message) from None


class HttpProvider:
    def __init__(
        self,
        config: HttpSDConfig,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.config = config
        self.max_bytes = max_bytes
        self._session = session
        self._last_length = 0

    async def run(self, send: Send) -> None:
        owned = self._session is None
        session = self._session or aiohttp.ClientSession(trust_env=False)
        try:
            while True:
                try:
                    groups = await self.fetch(session)
                except (HttpSdError, CredentialsError, aiohttp.ClientError, TimeoutError) as exc:
                    log.error("discovery_http_failed", url=self.config.url, error=str(exc))
                else:
                    length = len(groups)
                    groups += [
                        TargetGroup(f"{self.config.url}:{i}", ())
                        for i in range(length, self._last_length)
                    ]
                    self._last_length = length
                    send(groups)
                await asyncio.sleep(self.config.refresh_interval)
        finally:
            if owned:
                await session.close()

    async def fetch(self, session: aiohttp.ClientSession) -> list[TargetGroup]:
        """One refresh. Raise HttpSdError (or the client's errors) when it fails."""
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "X-Prometheus-Refresh-Interval-Seconds": seconds_text(self.config.refresh_interval),
        }
        header = authorization_header(auth_from_config(self.config))
        if header is not None:
            headers["Authorization"] = header
        tls = TlsSettings.of(self.config.tls_config)
        ssl: object = ssl_context(tls) if not tls.is_default else True
        timeout = aiohttp.ClientTimeout(total=self.config.refresh_interval)
        async with session.get(
            self.config.url,
            headers=headers,
            timeout=timeout,
            ssl=ssl,  # type: ignore[arg-type]
        ) as response:
            if response.status != 200:
                raise HttpSdError(
                    f"server returned HTTP status {response.status} {response.reason}"
                )
            content_type = response.headers.get("Content-Type", "")
            if not content_type_ok(content_type):
                raise HttpSdError(f"unsupported content type {content_type!r}")
            body = await read_bounded(response, self.max_bytes)
        return parse_http_sd(body, self.config.url)


async def read_bounded(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The body, refusing one longer than max_bytes without reading all of it."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 << 10):
        size += len(chunk)
        if size > max_bytes:
            raise HttpSdError(f"the answer is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)

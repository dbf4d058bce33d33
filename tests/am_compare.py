"""Run one Alertmanager configuration and one alert sequence through a real Alertmanager
0.25 and through tenantwatch, and record what each sends: HTTP requests (webhook, Slack,
PagerDuty, Teams) on a loopback receiver and emails on a loopback SMTP server.

The configuration's `URL` is replaced by each side's HTTP receiver and `SMTP` by its
SMTP server's host:port; tenantwatch's external URL is set to Alertmanager's, so links
in the payloads are equal without normalising.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import yaml
from aiosmtpd.controller import Controller

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.alertmanager_server import alertmanager
from tests.receivers import Receiver, running_receiver
from tests.support import free_port


@dataclass
class Mailbox:
    """A loopback SMTP server's received messages (envelope sender, recipients, raw)."""

    port: int = 0
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"

    def parsed(self) -> list[EmailMessage]:
        out = []
        for _, _, raw in self.messages:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out


@contextlib.contextmanager
def running_mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    for _ in range(3):
        box.port = free_port()
        controller = Controller(box, hostname="127.0.0.1", port=box.port)
        try:
            controller.start()
        except OSError:
            continue
        try:
            yield box
        finally:
            controller.stop()
        return
    raise RuntimeError("no free port for the SMTP server")


@dataclass
class Sides:
    """What Alertmanager (theirs) and tenantwatch (ours) sent."""

    theirs: Receiver
    ours: Receiver
    their_mail: Mailbox
    our_mail: Mailbox
    am_url: str
    am_status: dict[str, Any]
    our_status: dict[str, Any]


Send = Callable[[list[dict[str, Any]]], Awaitable[None]]
Scenario = Callable[[Send], Awaitable[None]]


def _fill(config: str, receiver: Receiver, mailbox: Mailbox) -> str:
    return config.replace("URL", receiver.url).replace("SMTP", f"127.0.0.1:{mailbox.port}")


@contextlib.asynccontextmanager
async def both(tmp_path: Path, config: str) -> AsyncIterator[tuple[Sides, Send]]:
    """Start both sides with the configuration; yield the recordings and a `send` that
    posts the same alerts to each. The recordings are complete when the block ends."""
    async with contextlib.AsyncExitStack() as stack:
        theirs = await stack.enter_async_context(running_receiver())
        ours = await stack.enter_async_context(running_receiver())
        their_mail = stack.enter_context(running_mailbox())
        our_mail = stack.enter_context(running_mailbox())
        am = stack.enter_context(alertmanager(tmp_path / "am", _fill(config, theirs, their_mail)))
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'tw.db'}",
            data_dir=tmp_path / "var",
        )
        tw_config = Config.model_validate(
            {
                "alertmanager": {
                    "config": yaml.safe_load(_fill(config, ours, our_mail)),
                    "allow_private_targets": ["127.0.0.1/32"],
                    "external_url": am.url,
                }
            }
        )
        rt = build_runtime(settings, tw_config)
        await prepare(rt)
        stack.push_async_callback(rt.stop)
        await rt.start_alerting()
        key = (await rt.api_keys.issue(SYSTEM, name="t", scopes=[Scope.WRITE])).secret
        tw = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, runtime=rt)),
            base_url="http://tw.test",
            headers={"Authorization": f"Bearer {key}"},
        )
        stack.push_async_callback(tw.aclose)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        async with session.get(am.url + "/api/v2/status") as resp:
            am_status = await resp.json()
        our_status = (await tw.get("/api/v2/status")).json()

        async def send(alerts: list[dict[str, Any]]) -> None:
            async with session.post(am.url + "/api/v2/alerts", json=alerts) as resp:
                assert resp.status == 200, await resp.text()
            answer = await tw.post("/api/v2/alerts", json=alerts)
            assert answer.status_code == 200, answer.text

        yield Sides(theirs, ours, their_mail, our_mail, am.url, am_status, our_status), send


class Clock:
    """Sleeps until offsets (seconds) from the moment it was made."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    async def at(self, offset: float) -> None:
        await asyncio.sleep(max(0.0, self.started + offset - time.monotonic()))

"""The demo's "nightly export" job: pings a heartbeat URL every period, skipping or failing
now and then (seeded), so the heartbeat check goes late, down and back up in the demo."""

from __future__ import annotations

import asyncio
import logging
import random

import aiohttp

log = logging.getLogger("saas_app.heartbeat")

SKIP_CHANCE = 0.12  # the job "did not run": the check goes late, then down after the grace
FAIL_CHANCE = 0.05  # the job ran and failed: /fail turns the check down at once


def next_signal(rng: random.Random) -> str | None:
    """The suffix of the next ping: "" for success, "/fail", or None to skip this one."""
    roll = rng.random()
    if roll < SKIP_CHANCE:
        return None
    if roll < SKIP_CHANCE + FAIL_CHANCE:
        return "/fail"
    return ""


async def feed(url: str, period_s: float, seed: int) -> None:
    """Ping url + /start, then url (or url/fail) every period_s, until cancelled."""
    rng = random.Random(seed)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            suffix = next_signal(rng)
            if suffix is not None:
                try:
                    async with session.get(url + "/start"):
                        pass
                    await asyncio.sleep(rng.uniform(0.5, 3.0))  # the job's run time
                    async with session.get(url + suffix) as resp:
                        log.info("heartbeat %s%s: %s", "ping", suffix, resp.status)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.info("heartbeat not delivered: %s", exc)
            else:
                log.info("heartbeat skipped (simulated missed run)")
            await asyncio.sleep(period_s)

"""SIGHUP reloads the config, as it does for Prometheus."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

from tenantwatch.config.errors import ConfigError
from tenantwatch.runtime.root import Runtime


def reload_on_hangup(runtime: Runtime) -> Callable[[], None]:
    """Reload runtime's config at every SIGHUP from now on (a failed reload is logged, the
    running config stays); return what removes the handler. Call it in the running loop."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    async def reload() -> None:
        with contextlib.suppress(ConfigError):  # reload_config logged every problem
            await runtime.reload_config()

    def on_hangup() -> None:
        task = loop.create_task(reload(), name="config reload (SIGHUP)")
        pending.add(task)
        task.add_done_callback(pending.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hangup)

    def remove() -> None:
        loop.remove_signal_handler(signal.SIGHUP)

    return remove

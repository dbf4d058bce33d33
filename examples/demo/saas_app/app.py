"""The HTTP shell: advances the simulation every second and serves /metrics, health and faults."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .exposition import Totals, new_registry, render
from .faults import (
    KINDS,
    Fault,
    FaultRequestError,
    Kind,
    active_faults,
    fault_request,
    health_delay,
    scheduled_faults,
)
from .simulation import tenant_state, tick
from .tenants import TenantSpec

log = logging.getLogger("saas_app")

MAX_CATCH_UP_SECONDS = 300  # after a stall, simulate at most this much missed time
UPCOMING_SECONDS = 3600


def _clock_text(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S UTC")


class Simulator:
    """The simulation's moving parts: forced faults and running totals, advanced by a clock."""

    def __init__(
        self,
        tenants: Sequence[TenantSpec],
        seed: int,
        *,
        random_faults: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenants = tuple(tenants)
        self.seed = seed
        self.random_faults = random_faults
        self.clock = clock
        self.forced: list[Fault] = []
        self.totals = Totals()
        self.registry = new_registry(self.totals)
        self.last = int(clock()) - 1
        self._announced: set[Fault] = set()
        self.advance()

    def tenant(self, tenant_id: str) -> TenantSpec | None:
        return next((t for t in self.tenants if t.id == tenant_id), None)

    def faults(self, start: float, end: float | None = None) -> tuple[Fault, ...]:
        """Return the scheduled and forced faults overlapping [start, end) (or active at start)."""
        end = start + 1 if end is None else end
        scheduled = (
            scheduled_faults(self.tenants, self.seed, start, end) if self.random_faults else ()
        )
        forced = tuple(f for f in self.forced if f.start < end and f.end > start)
        return scheduled + forced

    def advance(self) -> None:
        """Simulate every whole second since the last call, up to the clock's now."""
        now = int(self.clock())
        for second in range(max(self.last + 1, now - MAX_CATCH_UP_SECONDS + 1), now + 1):
            faults = self.faults(second)
            self.totals.add(tick(self.tenants, self.seed, second, faults))
            self._announce(set(faults), second)
        self.last = max(self.last, now)
        self.forced = [f for f in self.forced if f.end > now]

    def _announce(self, active: set[Fault], now: int) -> None:
        for fault in active - self._announced:
            log.info(
                "fault %s on %s until %s: %s",
                fault.kind,
                fault.tenant or "the whole app",
                _clock_text(fault.end),
                KINDS[fault.kind].what,
            )
        for fault in self._announced - active:
            log.info("fault %s on %s is over", fault.kind, fault.tenant or "the whole app")
        self._announced = active

    def force(self, fault: Fault) -> None:
        self.forced.append(fault)

    def clear(self, tenant: str | None) -> int:
        """End the forced faults of tenant (all of them if None); return how many ended."""
        kept = [f for f in self.forced if tenant is not None and f.tenant != tenant]
        cleared = len(self.forced) - len(kept)
        self.forced = kept
        return cleared

    def app_down(self) -> Fault | None:
        return active_faults(self.faults(self.clock()), self.clock(), None).get(Kind.DOWN)


SIMULATOR = web.AppKey("simulator", Simulator)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def metrics(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    if down := sim.app_down():
        return web.Response(status=503, text=f"simulated outage until {_clock_text(down.end)}\n")
    sim.advance()
    body, content_type = render(sim.registry, request.headers.get("Accept", ""))
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


async def _tenant_health(sim: Simulator, tenant_id: str) -> web.Response:
    tenant = sim.tenant(tenant_id)
    if tenant is None:
        known = ", ".join(t.id for t in sim.tenants)
        return _error(404, f"tenant {tenant_id!r} is unknown; use one of {known}")
    now = int(sim.clock())
    state = tenant_state(tenant, sim.seed, now, sim.faults(now))
    if delay := health_delay({f.kind: f for f in state.faults}):
        await asyncio.sleep(delay)
    body = {
        "status": state.health,
        "tenant": tenant.id,
        "tier": tenant.tier,
        "sessions": state.sessions,
        "requests_per_second": state.requests_per_second,
        "faults": [f.as_json() for f in state.faults],
    }
    return web.json_response(body, status=503 if state.health == "down" else 200)


async def health(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    if "tenant" in request.query:
        return await _tenant_health(sim, request.query["tenant"])
    down = sim.app_down()
    body = {"status": "down" if down else "ok", "tenants": [t.id for t in sim.tenants]}
    return web.json_response(body, status=503 if down else 200)


async def tenant_health(request: web.Request) -> web.Response:
    return await _tenant_health(request.app[SIMULATOR], request.match_info["tenant"])


async def list_faults(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    now = sim.clock()
    faults = sim.faults(now, now + UPCOMING_SECONDS)
    return web.json_response(
        {
            "now": now,
            "active": [f.as_json() for f in faults if f.active(now)],
            "upcoming": [f.as_json() for f in faults if f.start > now],
            "kinds": {str(kind): spec.what for kind, spec in KINDS.items()},
        }
    )


async def force_fault(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    params = dict(request.query) | {k: str(v) for k, v in (await request.post()).items()}
    try:
        fault = fault_request(params, sim.tenants, int(sim.clock()))
    except FaultRequestError as exc:
        return _error(400, str(exc))
    sim.force(fault)
    return web.json_response(fault.as_json(), status=201)


async def clear_faults(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    tenant = request.query.get("tenant") or None
    if tenant is not None and sim.tenant(tenant) is None:
        return _error(404, f"tenant {tenant!r} is unknown")
    return web.json_response({"cleared": sim.clear(tenant)})


async def index(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    return web.json_response(
        {
            "app": "simulated AI-Shifu SaaS (tenantwatch demo)",
            "tenants": {t.id: t.tier for t in sim.tenants},
            "endpoints": [
                "GET /metrics",
                "GET /health[?tenant=ID]",
                "GET /t/{tenant}/health",
                "GET /admin/faults",
                "POST /admin/fault?tenant=ID&kind=KIND[&duration=3m][&severity=0.8]",
                "DELETE /admin/fault[?tenant=ID]",
            ],
        }
    )


async def _ticker(app: web.Application) -> AsyncIterator[None]:
    sim = app[SIMULATOR]

    async def run() -> None:
        while True:
            await asyncio.sleep(1.0 - sim.clock() % 1.0 + 0.005)
            sim.advance()

    task = asyncio.create_task(run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_app(sim: Simulator) -> web.Application:
    """Return the aiohttp application serving sim; it advances sim every second while running."""
    app = web.Application()
    app[SIMULATOR] = sim
    app.cleanup_ctx.append(_ticker)
    app.router.add_get("/", index)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/health", health)
    app.router.add_get("/t/{tenant}/health", tenant_health)
    app.router.add_get("/admin/faults", list_faults)
    app.router.add_post("/admin/fault", force_fault)
    app.router.add_delete("/admin/fault", clear_faults)
    return app


async def serve(
    sim: Simulator,
    host: str,
    port: int,
    *,
    heartbeat: Coroutine[Any, Any, None] | None = None,
) -> None:
    """Serve sim on host:port until SIGINT or SIGTERM; port 0 picks a free one. Run the
    heartbeat job (if given) alongside.

    Print one line with the address once it listens. Raise OSError if the port is taken.
    """
    runner = web.AppRunner(build_app(sim), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        print(
            f"saas_app listening on http://{host}:{bound} "
            f"({len(sim.tenants)} tenants, seed {sim.seed}, "
            f"random faults {'on' if sim.random_faults else 'off'})",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        job = asyncio.create_task(heartbeat) if heartbeat is not None else None
        await stop.wait()
        if job is not None:
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
    finally:
        await runner.cleanup()

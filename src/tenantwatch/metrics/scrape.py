"""The scrape manager: one asyncio task per target, fetching and storing its metrics.

Each target is scraped at a fixed phase of its interval (a hash of the target, as in
Prometheus), with its own timeout, so a slow or failing target never delays another.
A failed scrape writes `up 0` and stale markers for the series the target had.

The manager holds each job's target groups (its static_configs, and whatever discovery
sends through update_groups) and turns them into targets as Prometheus does
(scrape_targets.job_targets); a target whose labels and URL stay the same keeps its loop,
its scrape cache and its schedule across updates and reloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import aiohttp
import structlog

from tenantwatch import __version__
from tenantwatch.metrics.exposition import ExpositionError, is_openmetrics
from tenantwatch.metrics.http_auth import CredentialsError, authorization_header, ssl_context
from tenantwatch.metrics.scrape_cache import (
    Appender,
    IngestResult,
    ScrapeCache,
    ScrapeLimitExceeded,
    SeriesGate,
)
from tenantwatch.metrics.scrape_labels import (
    ACCEPT_HEADER,
    first_delay,
    next_tick,
    report_labels,
    report_values,
    scrape_offset,
)
from tenantwatch.metrics.scrape_targets import DroppedTarget, ScrapeJob, ScrapeTarget, job_targets
from tenantwatch.metrics.store_append import UnknownSeriesRef
from tenantwatch.metrics.target_groups import TargetGroup
from tenantwatch.promql.model import STALE_NAN
from tenantwatch.types import Labels

log = structlog.get_logger(__name__)

USER_AGENT = f"tenantwatch/{__version__}"
BODY_SIZE_LIMIT_EXCEEDED = "body size limit exceeded"


class ScrapeFailed(Exception):
    """A scrape that yielded no samples; the message says why, as Prometheus' lastError."""


@dataclass(frozen=True, slots=True)
class ScrapeReport:
    target: ScrapeTarget
    started: float
    duration_s: float
    up: bool
    scraped: int = 0
    added: int = 0
    stale: int = 0
    error: str | None = None
    kept: int | None = None
    refused: int = 0
    warning: str | None = None

    @property
    def post_relabel(self) -> int:
        """Samples left after metric_relabel_configs."""
        return self.scraped if self.kept is None else self.kept


class ScrapeLoop:
    """Scrapes one target on its schedule and writes what it finds."""

    def __init__(
        self,
        target: ScrapeTarget,
        store: Appender,
        session: aiohttp.ClientSession,
        *,
        clock: Callable[[], float] = time.time,
        gate: SeriesGate | None = None,
    ) -> None:
        self.target = target
        self.store = store
        self.session = session
        self.clock = clock
        self.cache = ScrapeCache(
            target.labels,
            honor_labels=target.honor_labels,
            honor_timestamps=target.honor_timestamps,
            pairs=getattr(store, "label_pairs", None),
            metric_relabel=target.metric_relabel,
            limits=target.limits,
            gate=gate,
        )
        # set by the manager while the job is over its target_limit: every scrape fails
        self.forced_error: str | None = None
        self._report_refs: dict[str, int] = {}
        self._ssl: ssl.SSLContext | bool | None = None
        self.last: ScrapeReport | None = None
        self.scrapes = 0
        self.failures = 0
        self.refused = 0  # new series the tenant's series cap refused

    async def run(self) -> None:
        """Scrape forever at the target's phase of its interval, until cancelled."""
        interval = self.target.interval_s
        offset = scrape_offset(self.target.key, interval)
        loop = asyncio.get_running_loop()
        start = loop.time() + first_delay(self.clock(), interval, offset)
        await asyncio.sleep(start - loop.time())
        while True:
            try:
                await self.scrape_once()
            except Exception:  # a bug must not end this target's scraping for good
                log.exception("scrape failed unexpectedly", job=self.target.job)
            await asyncio.sleep(next_tick(start, loop.time(), interval) - loop.time())

    async def scrape_once(self) -> ScrapeReport:
        """Scrape the target now and store the result, whatever it is."""
        started = self.clock()
        t = round(started * 1000)
        t0 = time.perf_counter()
        scraped = kept = added = 0
        result: IngestResult | None = None
        error: str | None = None
        try:
            if self.forced_error is not None:
                raise ScrapeFailed(self.forced_error)
            body, openmetrics = await self._fetch()
            result = self.cache.ingest(self.store, body, t, openmetrics=openmetrics)
        except (ScrapeFailed, ExpositionError) as exc:
            error = str(exc)
        except ScrapeLimitExceeded as exc:
            error, scraped, kept, added = str(exc), exc.scraped, exc.kept, exc.added
        duration = time.perf_counter() - t0
        if result is None:
            stale = self.cache.fail(self.store, t)
            report = ScrapeReport(
                self.target,
                started,
                duration,
                False,
                scraped=scraped,
                added=added,
                stale=stale,
                error=error,
                kept=kept,
            )
        else:
            report = ScrapeReport(
                self.target,
                started,
                duration,
                True,
                scraped=result.scraped,
                added=result.added,
                stale=result.stale,
                kept=result.post_relabel,
                refused=result.refused,
                warning=result.refusal,
            )
        self._report(report, t)
        self._log_change(report)
        self.last = report
        self.scrapes += 1
        self.failures += not report.up
        self.refused += report.refused
        return report

    def take_over(self, old: ScrapeLoop) -> bool:
        """Continue the series of `old`, a loop of the same target whose settings changed
        (a reload): take its scrape cache when the series it maps to would be the same
        (same honor_* settings, metric relabelling and label limits), as Prometheus
        reuses a scrape cache across a reload. Return whether it did."""
        a, b = self.target, old.target
        if (a.honor_labels, a.honor_timestamps, a.metric_relabel) != (
            b.honor_labels,
            b.honor_timestamps,
            b.metric_relabel,
        ) or not a.limits.same_labels_limits(b.limits):
            return False
        self.cache = old.cache
        self.cache.sample_limit = a.limits.sample_limit
        self._report_refs = old._report_refs
        return True

    def mark_stale(self) -> int:
        """The target is gone: mark every series it wrote stale, its `up` included."""
        t = round(self.clock() * 1000)
        stale = self.cache.fail(self.store, t)
        for name in self._report_refs:
            self._append_report(name, t, STALE_NAN)
        return stale + len(self._report_refs)

    # -- internals ---------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": ACCEPT_HEADER,
            "Accept-Encoding": "gzip",
            "User-Agent": USER_AGENT,
            "X-Prometheus-Scrape-Timeout-Seconds": f"{self.target.timeout_s:g}",
        }
        try:
            authorization = authorization_header(self.target.auth)
        except CredentialsError as exc:
            raise ScrapeFailed(str(exc)) from None
        if authorization:
            headers["Authorization"] = authorization
        return headers

    def _ssl_context(self) -> ssl.SSLContext | bool | None:
        if self._ssl is None and not self.target.tls.is_default:
            try:
                self._ssl = ssl_context(self.target.tls)
            except CredentialsError as exc:
                raise ScrapeFailed(str(exc)) from None
        return self._ssl

    async def _fetch(self) -> tuple[str, bool]:
        """Return the body and whether it is OpenMetrics. Raise ScrapeFailed."""
        target = self.target
        headers = self._headers()
        ssl_arg = self._ssl_context()
        try:
            async with asyncio.timeout(target.timeout_s):
                async with self.session.get(
                    target.url,
                    headers=headers,
                    ssl=ssl_arg if ssl_arg is not None else True,
                    server_hostname=target.tls.server_name,
                    allow_redirects=True,
                ) as response:
                    if response.status != 200:
                        raise ScrapeFailed(
                            f"server returned HTTP status {response.status} {response.reason or ''}".rstrip()
                        )
                    raw = await self._read(response)
                    content_type = response.headers.get("Content-Type", "")
        except TimeoutError:
            raise ScrapeFailed(
                f"context deadline exceeded: no answer within the scrape timeout "
                f"({target.timeout_s:g}s)"
            ) from None
        except aiohttp.ClientError as exc:
            raise ScrapeFailed(f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise ScrapeFailed(f"{type(exc).__name__}: {exc}") from None
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScrapeFailed(f"the body is not UTF-8 text (byte {exc.start})") from None
        return body, is_openmetrics(content_type)

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, unpacked. Raise ScrapeFailed when it reaches body_size_limit (as
        Prometheus, which refuses a body of exactly the limit too)."""
        limit = self.target.limits.body_size_limit
        if not limit:
            return await response.read()
        raw = bytearray()
        while len(raw) < limit:
            chunk = await response.content.read(limit - len(raw))
            if not chunk:
                break
            raw += chunk
        if len(raw) >= limit:
            raise ScrapeFailed(BODY_SIZE_LIMIT_EXCEEDED)
        return bytes(raw)

    def _report(self, report: ScrapeReport, t: int) -> None:
        values = report_values(
            up=report.up,
            duration_s=report.duration_s,
            scraped=report.scraped,
            added=report.added,
            kept=report.post_relabel,
        )
        for name, value in values:
            self._append_report(name, t, value)

    def _append_report(self, name: str, t: int, value: float) -> None:
        ref = self._report_refs.get(name)
        if ref is not None:
            try:
                self.store.append_ref(ref, t, value)
                return
            except UnknownSeriesRef:  # dropped by retention meanwhile
                pass
        labels = report_labels(name, self.target.labels)
        self._report_refs[name] = self.store.append(labels, t, value)

    def _log_change(self, report: ScrapeReport) -> None:
        before = self.last.up if self.last is not None else True
        if report.up != before:
            log.info(
                "scrape target up" if report.up else "scrape target down",
                job=self.target.job,
                instance=self.target.address,
                error=report.error,
            )
        warned = self.last.warning if self.last is not None else None
        if report.warning is not None and report.warning != warned:
            log.warning(
                "scraped series refused",
                job=self.target.job,
                instance=self.target.address,
                refused=report.refused,
                reason=report.warning,
            )


class ScrapeManager:
    """Runs a ScrapeLoop per target of every job; jobs and their target groups can be
    replaced while running. `targets` given directly are scraped as they are (tests,
    embedding); jobs' targets come from their groups."""

    def __init__(
        self,
        store: Appender,
        targets: Iterable[ScrapeTarget] = (),
        *,
        jobs: Iterable[ScrapeJob] = (),
        clock: Callable[[], float] = time.time,
        gate: SeriesGate | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.gate = gate
        self._fixed = list(targets)
        self._jobs: dict[str, ScrapeJob] = {}
        self._discovered: dict[str, dict[str, TargetGroup]] = {}
        self._active: dict[str, list[ScrapeTarget]] = {}
        self._dropped: dict[str, list[DroppedTarget]] = {}
        self._forced: dict[str, str | None] = {}
        self._wanted: list[ScrapeTarget] = []
        self._loops: dict[ScrapeTarget, ScrapeLoop] = {}
        self._tasks: dict[ScrapeTarget, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None
        for job in jobs:
            self._set_job(job)
        self._wanted = self._all_targets()

    @property
    def targets(self) -> list[ScrapeTarget]:
        return list(self._loops) if self._session is not None else list(self._wanted)

    @property
    def jobs(self) -> list[ScrapeJob]:
        return list(self._jobs.values())

    def loops(self) -> list[ScrapeLoop]:
        return list(self._loops.values())

    def dropped(self) -> list[DroppedTarget]:
        """The discovered targets that are not scraped, job by job."""
        return [d for job in self._jobs for d in self._dropped.get(job, ())]

    def job_error(self, job: str) -> str | None:
        """The error every target of the job gets while it is over its target_limit."""
        return self._forced.get(job)

    async def start(self) -> None:
        """Open the HTTP session and start a task per target."""
        if self._session is not None:
            return
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=True, trust_env=False
        )
        await self.apply(self._wanted)

    async def set_jobs(self, jobs: Iterable[ScrapeJob]) -> None:
        """Scrape these jobs from now on (a reload). A job that is gone loses its targets
        and its discovered groups; a kept job keeps its discovered groups until discovery
        sends new ones; every target whose labels and URL are unchanged keeps its loop."""
        new = {job.name: job for job in jobs}
        for name in [n for n in self._jobs if n not in new]:
            del self._jobs[name]
            for table in (self._discovered, self._active, self._dropped, self._forced):
                table.pop(name, None)
        for job in new.values():
            self._set_job(job)
        await self.apply(self._all_targets())

    async def update_groups(self, job_name: str, groups: Iterable[TargetGroup]) -> None:
        """Take what a discovery provider found for a job: each group replaces the one of
        the same source; a group without targets removes its source. Unknown jobs are
        ignored (their config was reloaded away)."""
        job = self._jobs.get(job_name)
        if job is None:
            return
        held = self._discovered.setdefault(job_name, {})
        for group in groups:
            if group.targets:
                held[group.source] = group
            else:
                held.pop(group.source, None)
        self._set_job(job)
        await self.apply(self._all_targets())

    async def apply(self, targets: Iterable[ScrapeTarget]) -> None:
        """Scrape exactly these targets from now on. A removed target's series are marked
        stale (unless a target writing the same series replaces it); a kept target keeps
        its loop, cache and schedule."""
        wanted = list(dict.fromkeys(targets))
        self._wanted = wanted
        if self._session is None:
            return
        keep = {t: t for t in wanted}
        replaced = {t.identity for t in wanted if t not in self._loops}
        ended: dict[tuple[str, str, Labels], ScrapeLoop] = {}
        for target in [t for t in self._loops if t not in keep]:
            await self._cancel(target)
            loop = self._loops.pop(target)
            if target.identity in replaced:
                ended[target.identity] = loop  # its successor writes the same series
            else:
                loop.mark_stale()
        for target in wanted:
            running = self._loops.get(target)
            if running is not None:
                running.target = keep[target]  # its discovered labels may be newer
                running.forced_error = self._forced.get(target.job)
                continue
            loop = ScrapeLoop(target, self.store, self._session, clock=self.clock, gate=self.gate)
            if (old := ended.get(target.identity)) is not None:
                loop.take_over(old)
            loop.forced_error = self._forced.get(target.job)
            self._loops[target] = loop
            self._tasks[target] = asyncio.create_task(
                loop.run(), name=f"scrape {target.job} {target.address}"
            )

    async def stop(self) -> None:
        """Stop every loop and close the session. Series are not marked stale: on a
        restart they continue."""
        for target in list(self._tasks):
            await self._cancel(target)
        self._loops.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _set_job(self, job: ScrapeJob) -> None:
        """(Re)compute a job's targets from its static and discovered groups."""
        self._jobs[job.name] = job
        groups = [*job.static_groups, *self._discovered.get(job.name, {}).values()]
        active, dropped = job_targets(job, groups)
        known = set(self._dropped.get(job.name, ()))
        self._active[job.name] = active
        self._dropped[job.name] = dropped
        self._forced[job.name] = job.target_limit_error(len(active))
        for target in dropped:
            if target.reason is not None and target not in known:  # logged once
                log.warning(
                    "cannot create scrape target",
                    job=job.name,
                    labels=dict(target.discovered),
                    error=target.reason,
                )

    def _all_targets(self) -> list[ScrapeTarget]:
        return [*self._fixed, *(t for job in self._jobs for t in self._active[job])]

    async def _cancel(self, target: ScrapeTarget) -> None:
        task = self._tasks.pop(target, None)
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

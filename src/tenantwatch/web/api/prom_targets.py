"""Prometheus' /api/v1/targets: the scrape targets, their health and last error, and the
discovered targets relabelling dropped (with their labels before relabelling).

A tenant's key sees the active targets labelled with its tenant, and no dropped ones
(their tenant is not known before relabelling). `limit` and `cursor` page through the
active targets, then the dropped ones, as the rest of the API pages; without `limit`
everything is answered at once, as Prometheus does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from tenantwatch.domain.apikeys import Principal
from tenantwatch.domain.durations import format_duration
from tenantwatch.domain.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from tenantwatch.gotext.times import format_rfc3339_micro
from tenantwatch.metrics.scrape import ScrapeLoop, ScrapeManager
from tenantwatch.metrics.scrape_targets import DroppedTarget
from tenantwatch.promql.model import format_labels
from tenantwatch.web.api.prom import PromReader
from tenantwatch.web.deps import Cursor, RuntimeDep
from tenantwatch.web.errors import AUTH
from tenantwatch.web.prom_format import success

router = APIRouter(tags=["prometheus"], responses=AUTH)
NEVER = "0001-01-01T00:00:00Z"  # Go's zero time, as Prometheus shows a target never scraped


@dataclass(frozen=True, slots=True)
class _Row:
    key: str
    body: dict[str, Any]
    active: bool


def _active(loop: ScrapeLoop, manager: ScrapeManager) -> _Row:
    target, last = loop.target, loop.last
    error = manager.job_error(target.job) or (last.error if last is not None else None)
    if last is not None and last.up and last.warning:
        error = last.warning  # new series refused by the tenant's series cap
    health = "unknown" if last is None else ("up" if last.up else "down")
    body = {
        "discoveredLabels": dict(target.discovered),
        "labels": dict(target.labels),
        "scrapePool": target.job,
        "scrapeUrl": target.url,
        "globalUrl": target.url,
        "lastError": error or "",
        "lastScrape": format_rfc3339_micro(last.started) if last is not None else NEVER,
        "lastScrapeDuration": last.duration_s if last is not None else 0,
        "health": health,
        "scrapeInterval": format_duration(target.interval_s),
        "scrapeTimeout": format_duration(target.timeout_s),
    }
    return _Row(f"a\t{target.job}\t{target.key}", body, True)


def _dropped(target: DroppedTarget) -> _Row:
    body = {"discoveredLabels": dict(target.discovered), "scrapePool": target.job}
    return _Row(f"d\t{target.job}\t{format_labels(target.discovered)}", body, False)


def _visible(who: Principal, loop: ScrapeLoop) -> bool:
    return who.tenant_id is None or dict(loop.target.labels).get("tenant") == who.tenant_id


@router.get(
    "/api/v1/targets",
    summary="Scrape targets, their health and the dropped ones (Prometheus API)",
)
async def targets(
    rt: RuntimeDep,
    who: PromReader,
    state: Literal["active", "dropped", "any"] = Query("any", description="which targets"),
    scrape_pool: str | None = Query(None, alias="scrapePool", max_length=200),
    limit: int | None = Query(None, ge=1, le=MAX_LIMIT, description="targets per page"),
    cursor: Cursor = None,
) -> JSONResponse:
    manager = rt.metrics.scrapes
    rows: list[_Row] = []
    if state in ("active", "any"):
        rows += [
            _active(loop, manager)
            for loop in manager.loops()
            if _visible(who, loop) and scrape_pool in (None, loop.target.job)
        ]
    dropped = [d for d in manager.dropped() if scrape_pool in (None, d.job)]
    if who.tenant_id is not None:
        dropped = []
    if state in ("dropped", "any"):
        rows += [_dropped(d) for d in dropped]
    rows.sort(key=lambda r: r.key)
    if cursor:
        after = str(decode_cursor(cursor))
        rows = [r for r in rows if r.key > after]
    next_cursor = None
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].key)
    counts: dict[str, int] = {}
    for d in dropped if state != "active" else []:
        counts[d.job] = counts.get(d.job, 0) + 1
    data: dict[str, Any] = {
        "activeTargets": [r.body for r in rows if r.active],
        "droppedTargets": [r.body for r in rows if not r.active],
        "droppedTargetCounts": counts,
    }
    if limit is not None:
        data["next_cursor"] = next_cursor
    return JSONResponse(success(data))

"""Check state, result and rollup rows to and from the domain, and their bulk writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tenantwatch.adapters.db.sqlite_bulk import for_sqlite
from tenantwatch.adapters.db.tables import (
    check_results,
    check_rollups,
    check_state,
    heartbeat_pings,
)
from tenantwatch.domain.check_record import check_from_values
from tenantwatch.domain.checks import (
    Check,
    CheckKind,
    CheckRun,
    CheckState,
    CheckStatus,
    ConditionResult,
    RollupDelta,
    plain_details,
)

STATE_READ = (
    "check_id",
    "status",
    "failures",
    "successes",
    "since",
    "last_run_at",
    "last_ok",
    "last_duration_s",
    "last_error",
    "reason",
)


def state_of_row(row: Any) -> CheckState:
    return CheckState(
        check_id=row.check_id,
        status=CheckStatus(row.status),
        failures=row.failures,
        successes=row.successes,
        since=row.since,
        last_run_at=row.last_run_at,
        last_ok=row.last_ok,
        last_duration_s=row.last_duration_s,
        last_error=row.last_error,
        reason=row.reason,
    )


def state_values(s: CheckState) -> dict[str, Any]:
    return {
        "status": str(s.status),
        "failures": s.failures,
        "successes": s.successes,
        "since": s.since,
        "last_run_at": s.last_run_at,
        "last_ok": s.last_ok,
        "last_duration_s": s.last_duration_s,
        "last_error": s.last_error,
        "reason": s.reason,
    }


def run_of_row(row: Any) -> CheckRun:
    return CheckRun(
        check_id=row.check_id,
        tenant_id=row.tenant_id,
        kind=CheckKind(row.details.get("kind", "http")) if row.details else CheckKind.HTTP,
        at=row.at,
        ok=bool(row.ok),
        state=CheckStatus(row.state) if row.state else None,
        duration_s=row.duration_s,
        status_code=row.status_code,
        error=row.error,
        conditions=tuple(
            ConditionResult(c["condition"], bool(c["ok"]), c.get("detail", ""))
            for c in row.conditions
        ),
        phases=dict(row.phases),
        details={k: v for k, v in row.details.items() if k not in ("kind", "certificate_expiry")},
        certificate_expiry=_expiry(row.details.get("certificate_expiry")),
    )


def _expiry(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


def _stored_details(r: CheckRun) -> dict[str, Any]:
    out = {**plain_details(r.details), "kind": str(r.kind)}
    if r.certificate_expiry is not None:
        out["certificate_expiry"] = r.certificate_expiry.timestamp()
    return out


def run_values(r: CheckRun) -> dict[str, Any]:
    return {
        "check_id": r.check_id,
        "tenant_id": r.tenant_id,
        "at": r.at,
        "ok": r.ok,
        "state": str(r.state) if r.state else None,
        "duration_s": r.duration_s,
        "status_code": r.status_code,
        "error": r.error,
        "conditions": [
            {"condition": c.condition, "ok": c.ok, "detail": c.detail} for c in r.conditions
        ],
        "phases": dict(r.phases),
        "details": _stored_details(r),
    }


def _writes(table: Table) -> dict[str, Any]:
    """Every column a write gives (all but a generated id), each as a bind of its name."""
    return {c.name: bindparam(c.name) for c in table.c if c.autoincrement is not True}


ROLLUP_COLUMNS = tuple(c.name for c in check_rollups.c)


def rollup_values(d: RollupDelta) -> dict[str, Any]:
    return {name: getattr(d, name) for name in ROLLUP_COLUMNS}


# the state a run leaves; `b_id` names the check (a bind may not take a column's name here)
UPDATE_STATE = (
    update(check_state)
    .where(check_state.c.check_id == bindparam("b_id"))
    .values({name: bindparam(name) for name in (*STATE_READ[1:], "details")})
)


def _upsert_rollups(ins: Any, larger: Any) -> Any:
    """Add runs to existing buckets; `larger` is the dialect's two-argument maximum."""
    t, new = check_rollups.c, ins.excluded
    return ins.on_conflict_do_update(
        index_elements=["check_id", "resolution", "bucket"],
        set_={
            "runs": t.runs + new.runs,
            "ok_runs": t.ok_runs + new.ok_runs,
            "duration_sum": t.duration_sum + new.duration_sum,
            "duration_max": larger(t.duration_max, new.duration_max),
        },
    )


PG_UPSERT_ROLLUPS = _upsert_rollups(pg_insert(check_rollups), func.greatest)
SQLITE_UPSERT_ROLLUPS = for_sqlite(
    _upsert_rollups(sqlite_insert(check_rollups).values(_writes(check_rollups)), func.max)
)
SQLITE_UPDATE_STATE = for_sqlite(UPDATE_STATE)
SQLITE_INSERT_RESULT = for_sqlite(insert(check_results).values(_writes(check_results)))
SQLITE_INSERT_PING = for_sqlite(insert(heartbeat_pings).values(_writes(heartbeat_pings)))


def check_of_row(row: Any) -> Check:
    """The check a table row (or a joined row holding its columns) stores."""
    return check_from_values(row._mapping)

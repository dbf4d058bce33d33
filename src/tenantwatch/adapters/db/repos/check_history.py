"""A check's state, results, state changes and rollups in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, text, update

from tenantwatch.adapters.db.repos.check_rows import (
    PG_UPSERT_ROLLUPS,
    SQLITE_INSERT_RESULT,
    SQLITE_UPDATE_STATE,
    SQLITE_UPSERT_ROLLUPS,
    STATE_READ,
    UPDATE_STATE,
    check_of_row,
    rollup_values,
    run_of_row,
    run_values,
    state_of_row,
    state_values,
)
from tenantwatch.adapters.db.sql_base import SqlRepo
from tenantwatch.adapters.db.sqlite_bulk import execute_many
from tenantwatch.adapters.db.tables import (
    check_events,
    check_results,
    check_rollups,
    check_state,
    checks,
    heartbeat_pings,
)
from tenantwatch.domain.checks import (
    Check,
    CheckRun,
    CheckState,
    CheckStatus,
    RollupDelta,
    RollupRow,
    StateChangeRecord,
    plain_details,
)


class SqlCheckHistory(SqlRepo):
    """What checks did: their state, results, state changes, rollups, and pruning them."""

    # -- state -------------------------------------------------------------------------

    async def states(self, check_ids: Iterable[str] | None = None) -> dict[str, CheckState]:
        q = select(*(check_state.c[name] for name in STATE_READ))
        ids = None if check_ids is None else list(check_ids)
        params: dict[str, Any] = {}
        if ids is not None:
            if not ids:
                return {}
            q = q.where(check_state.c.check_id.in_(bindparam("ids", expanding=True)))
            params["ids"] = ids
        rows = (await self._conn.execute(q, params)).all()
        return {r.check_id: state_of_row(r) for r in rows}

    async def tenant_states(
        self, tenant_id: str | None
    ) -> Sequence[tuple[Check, CheckState, Mapping[str, Any]]]:
        q = select(checks, check_state).join(check_state, check_state.c.check_id == checks.c.id)
        q = q.where(checks.c.archived_at.is_(None))
        if tenant_id is not None:
            q = q.where(checks.c.tenant_id == tenant_id)
        q = q.order_by(checks.c.tenant_id, checks.c.id)
        rows = (await self._conn.execute(q)).all()
        return [(check_of_row(r), state_of_row(r), dict(r.details or {})) for r in rows]

    async def save_states(self, states: Sequence[tuple[CheckState, Mapping[str, Any]]]) -> None:
        if not states:
            return
        params = [
            {"b_id": s.check_id, **state_values(s), "details": plain_details(d)} for s, d in states
        ]
        if self._dialect == "sqlite":
            await execute_many(self._conn, SQLITE_UPDATE_STATE, params)
        else:
            await self._conn.execute(UPDATE_STATE, params)

    async def claim_slots(self, worker: str, wanted: Sequence[tuple[str, int]]) -> set[str]:
        """Claim run slots; a slot is won by exactly one worker. Return the ids won."""
        if not wanted:
            return set()
        if self._dialect == "postgresql":
            rows = await self._conn.execute(
                text(
                    "UPDATE check_state AS s SET last_slot = v.slot, worker = :worker "
                    "FROM unnest(CAST(:ids AS text[]), CAST(:slots AS bigint[])) AS v(id, slot) "
                    "WHERE s.check_id = v.id AND s.last_slot < v.slot RETURNING s.check_id"
                ),
                {"worker": worker, "ids": [w[0] for w in wanted], "slots": [w[1] for w in wanted]},
            )
            return {r[0] for r in rows.all()}
        won: set[str] = set()
        for check_id, slot in wanted:
            result = await self._conn.execute(
                update(check_state)
                .where(and_(check_state.c.check_id == check_id, check_state.c.last_slot < slot))
                .values(last_slot=slot, worker=worker)
            )
            if result.rowcount:
                won.add(check_id)
        return won

    # -- results -----------------------------------------------------------------------

    async def add_runs(self, runs: Sequence[CheckRun]) -> None:
        if not runs:
            return
        if self._dialect == "sqlite":
            await execute_many(self._conn, SQLITE_INSERT_RESULT, [run_values(r) for r in runs])
        else:
            await self._conn.execute(insert(check_results), [run_values(r) for r in runs])

    async def runs_after(self, after_id: int, limit: int) -> Sequence[tuple[int, CheckRun]]:
        """Results stored after the given id, oldest first."""
        q = (
            select(check_results)
            .where(check_results.c.id > after_id)
            .order_by(check_results.c.id)
            .limit(limit)
        )
        return [(r.id, run_of_row(r)) for r in (await self._conn.execute(q)).all()]

    async def last_run_id(self) -> int:
        value = (await self._conn.execute(select(func.max(check_results.c.id)))).scalar()
        return int(value or 0)

    async def add_changes(self, changes: Sequence[StateChangeRecord]) -> None:
        if changes:
            await self._conn.execute(
                insert(check_events),
                [
                    {
                        "check_id": c.check_id,
                        "tenant_id": c.tenant_id,
                        "at": c.at,
                        "old": str(c.old),
                        "new": str(c.new),
                        "reason": c.reason,
                    }
                    for c in changes
                ],
            )

    async def runs(
        self,
        *,
        tenant_id: str | None,
        check_id: str | None = None,
        since: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> Sequence[tuple[int, CheckRun]]:
        q = select(check_results).order_by(check_results.c.id.desc()).limit(limit)
        if tenant_id is not None:
            q = q.where(check_results.c.tenant_id == tenant_id)
        if check_id is not None:
            q = q.where(check_results.c.check_id == check_id)
        if since is not None:
            q = q.where(check_results.c.at >= since)
        if before_id is not None:
            q = q.where(check_results.c.id < before_id)
        return [(r.id, run_of_row(r)) for r in (await self._conn.execute(q)).all()]

    async def changes(
        self,
        *,
        tenant_id: str | None,
        check_id: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> Sequence[StateChangeRecord]:
        q = select(check_events).order_by(check_events.c.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(check_events.c.id < before_id)
        if tenant_id is not None:
            q = q.where(check_events.c.tenant_id == tenant_id)
        if check_id is not None:
            q = q.where(check_events.c.check_id == check_id)
        if since is not None:
            q = q.where(check_events.c.at >= since)
        return [
            StateChangeRecord(
                r.check_id,
                r.tenant_id,
                r.at,
                CheckStatus(r.old),
                CheckStatus(r.new),
                r.reason,
                id=r.id,
            )
            for r in (await self._conn.execute(q)).all()
        ]

    async def add_rollups(self, deltas: Sequence[RollupDelta]) -> None:
        if not deltas:
            return
        rows = [rollup_values(d) for d in deltas]
        if self._dialect == "sqlite":
            await execute_many(self._conn, SQLITE_UPSERT_ROLLUPS, rows)
        else:
            await self._conn.execute(PG_UPSERT_ROLLUPS, rows)

    async def rollups(
        self, *, check_id: str, resolution: str, since: datetime, limit: int = 10_000
    ) -> Sequence[RollupRow]:
        q = (
            select(check_rollups)
            .where(
                check_rollups.c.check_id == check_id,
                check_rollups.c.resolution == resolution,
                check_rollups.c.bucket >= since,
            )
            .order_by(check_rollups.c.bucket)
            .limit(limit)
        )
        return [
            RollupRow(
                r.check_id,
                r.resolution,
                r.bucket,
                r.runs,
                r.ok_runs,
                r.duration_sum,
                r.duration_max,
            )
            for r in (await self._conn.execute(q)).all()
        ]

    async def prune(
        self, tenant_id: str, *, results_before: datetime, rollups_before: Mapping[str, datetime]
    ) -> int:
        """Delete a tenant's raw results and rollups older than their retention."""
        n = (
            await self._conn.execute(
                delete(check_results).where(
                    check_results.c.tenant_id == tenant_id, check_results.c.at < results_before
                )
            )
        ).rowcount
        await self._conn.execute(
            delete(heartbeat_pings).where(
                heartbeat_pings.c.tenant_id == tenant_id, heartbeat_pings.c.at < results_before
            )
        )
        for resolution, before in rollups_before.items():
            await self._conn.execute(
                delete(check_rollups).where(
                    check_rollups.c.tenant_id == tenant_id,
                    check_rollups.c.resolution == resolution,
                    check_rollups.c.bucket < before,
                )
            )
        return int(n or 0)

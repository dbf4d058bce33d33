"""Heartbeat checks' pings and their state in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from tenantwatch.adapters.db.repos.check_rows import (
    SQLITE_INSERT_PING,
)
from tenantwatch.adapters.db.sql_base import SqlRepo
from tenantwatch.adapters.db.sqlite_bulk import execute_many
from tenantwatch.adapters.db.tables import (
    check_state,
    checks,
    heartbeat_pings,
)
from tenantwatch.domain.heartbeat import HeartbeatState, PingKind


class SqlHeartbeats(SqlRepo):
    """Heartbeat pings and the state they give a check."""

    # -- heartbeats --------------------------------------------------------------------

    async def heartbeat_states(self, check_ids: Sequence[str]) -> dict[str, HeartbeatState]:
        if not check_ids:
            return {}
        q = select(
            check_state.c.check_id,
            check_state.c.hb_last_ping,
            check_state.c.hb_last_start,
            check_state.c.hb_last_fail,
            check_state.c.hb_last_kind,
            check_state.c.hb_last_duration_s,
            checks.c.created_at,
        ).join(checks, checks.c.id == check_state.c.check_id)
        q = q.where(check_state.c.check_id.in_(list(check_ids)))
        out = {}
        for r in (await self._conn.execute(q)).all():
            out[r.check_id] = HeartbeatState(
                created=r.created_at,
                last_ping=r.hb_last_ping,
                last_start=r.hb_last_start,
                last_fail=r.hb_last_fail,
                last_kind=PingKind(r.hb_last_kind) if r.hb_last_kind else None,
                last_duration_s=r.hb_last_duration_s,
            )
        return out

    async def save_heartbeats(
        self,
        states: Mapping[str, HeartbeatState],
        pings: Sequence[tuple[str, str, datetime, PingKind, int | None, str | None]],
    ) -> None:
        """Store the heartbeat states and the pings that led to them."""
        if states:
            await self._conn.execute(
                update(check_state)
                .where(check_state.c.check_id == _bind("b_id"))
                .values(
                    hb_last_ping=_bind("p"),
                    hb_last_start=_bind("s"),
                    hb_last_fail=_bind("f"),
                    hb_last_kind=_bind("k"),
                    hb_last_duration_s=_bind("d"),
                ),
                [
                    {
                        "b_id": cid,
                        "p": s.last_ping,
                        "s": s.last_start,
                        "f": s.last_fail,
                        "k": str(s.last_kind) if s.last_kind else None,
                        "d": s.last_duration_s,
                    }
                    for cid, s in states.items()
                ],
            )
        if pings:
            rows = [
                {
                    "check_id": cid,
                    "tenant_id": tid,
                    "at": at,
                    "kind": str(kind),
                    "exit_status": status,
                    "remote_addr": addr,
                }
                for cid, tid, at, kind, status, addr in pings
            ]
            if self._dialect == "sqlite":
                await execute_many(self._conn, SQLITE_INSERT_PING, rows)
            else:
                await self._conn.execute(insert(heartbeat_pings), rows)

    async def ping_count(self, check_id: str) -> int:
        q = select(func.count()).where(heartbeat_pings.c.check_id == check_id)
        return int((await self._conn.execute(q)).scalar_one())


def _bind(name: str) -> Any:
    return bindparam(name)

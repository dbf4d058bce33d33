"""The notification outbox in SQL: idempotent enqueue, leased claims, results, the delivery log.

A claim moves due rows (pending and due, or `sending` with a lapsed lease: a worker died
holding them) to `sending` with a lease in one conditional UPDATE ... RETURNING; on
PostgreSQL the candidate rows are picked FOR UPDATE SKIP LOCKED, so several workers share
the queue without waiting on each other, and the UPDATE re-checks the condition, so no
row is claimed twice. The lease's end doubles as the claim's token: a result is recorded
only while the row is still `sending` under that lease, so a worker that lost its lease
cannot overwrite the newer claim's outcome.

Order per receiver, integration and group (the order key, domain/outbox_order): a row is
claimed only when no older row of its key is unsent (pending or sending), so one group's
notifications go out one at a time, oldest first, whichever worker takes them. Enqueueing
a newer state marks the older ones still waiting `superseded` in the same transaction, and
so does a failed attempt that a newer state is queued behind. On PostgreSQL enqueues of one
key are serialized (an advisory lock until commit), so ids follow commit order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tenantwatch.adapters.db.repos.audit import SqlAuditRepo
from tenantwatch.adapters.db.tables import notifications as t
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.domain.notifications import STATUSES, NotificationRow
from tenantwatch.domain.outbox import Claimed
from tenantwatch.domain.outbox_order import Progress, Queued, superseded, superseded_by

__all__ = ["STATUSES", "Claimed", "NotificationRow", "SqlNotificationRepo"]

_PUBLIC = [c for c in t.columns if c.name not in ("request", "lease_until", "order_key")]
UNSENT = ("pending", "sending")
_ENQUEUE_LOCK = 0x7457_0002  # advisory lock class of enqueues per order key ("tw" 2)


def _row(r: Any) -> NotificationRow:
    values = {c.name: r._mapping[c.name] for c in _PUBLIC}
    if values["fingerprints"] is not None:
        values["fingerprints"] = tuple(map(str, values["fingerprints"]))
    return NotificationRow(**values)


def _due(now: float) -> ColumnElement[bool]:
    return or_(
        and_(t.c.status == "pending", t.c.next_attempt_at <= now),
        and_(t.c.status == "sending", t.c.lease_until < now),
    )


def _behind() -> ColumnElement[bool]:
    """An older notification of the row's order key is not sent yet: the row waits."""
    older = t.alias("older")
    return (
        select(older.c.id)
        .where(
            older.c.order_key == t.c.order_key,
            older.c.id < t.c.id,
            older.c.status.in_(UNSENT),
        )
        .exists()
    )


_BEHIND = _behind()  # built once: every claim and next_due use it


async def _supersede(conn: AsyncConnection, keys: Collection[str]) -> int:
    """Mark the waiting notifications of these order keys that a newer one replaces
    `superseded` (domain/outbox_order decides which); return how many."""
    if not keys:
        return 0
    # by key alone, so SQLite takes the order-key index (a key's sent rows are few: they
    # are pruned), not the status one, which would read every unsent row of every key
    rows = await conn.execute(
        select(t.c.id, t.c.order_key, t.c.role, t.c.alert_status, t.c.status).where(
            t.c.order_key.in_(sorted(keys))
        )
    )
    groups: dict[str, list[Queued]] = defaultdict(list)
    for r in rows:
        if r.status not in UNSENT:
            continue
        progress: Progress = "waiting" if r.status == "pending" else "sending"
        groups[r.order_key].append(Queued(r.id, r.role, r.alert_status, progress))
    replaced = {old: new for group in groups.values() for old, new in superseded(group).items()}
    if not replaced:
        return 0
    stmt = (
        update(t)
        .where(t.c.id == bindparam("old_id"), t.c.status == "pending")
        .values(status="superseded", superseded_by=bindparam("new_id"), lease_until=None)
    )
    # one row at a time, in id order: concurrent transactions lock rows in the same order
    params = [{"old_id": old, "new_id": replaced[old]} for old in sorted(replaced)]
    result = await conn.execute(stmt, params)
    return int(result.rowcount or 0)


class SqlNotificationRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    # -- writing -----------------------------------------------------------------------------

    async def enqueue_many(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        """Insert notifications; a repeated idempotency_key is ignored. A new `state`
        supersedes the older ones of its order key still waiting. Return the new keys."""
        if not rows:
            return set()
        insert = pg_insert if self._postgres else sqlite_insert
        stmt = (
            insert(t)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(t.c.idempotency_key, t.c.order_key, t.c.role)
        )
        async with self.engine.begin() as conn:
            if self._postgres:
                await self._lock_order_keys(conn, {r.get("order_key") for r in rows})
            result = (await conn.execute(stmt, [dict(r) for r in rows])).all()
            await _supersede(conn, {r.order_key for r in result if r.role == "state"} - {None})
            return {str(r.idempotency_key) for r in result}

    @staticmethod
    async def _lock_order_keys(conn: AsyncConnection, keys: Collection[str | None]) -> None:
        """Hold each key's enqueue lock until commit, so ids are given in commit order
        (a notification committed later never has the smaller id); sorted: no deadlock."""
        objids = sorted({int(k[:7], 16) for k in keys if k})
        if objids:
            await conn.execute(
                text(
                    "SELECT count(pg_advisory_xact_lock(:cls, k)) "
                    "FROM (SELECT unnest(CAST(:keys AS integer[])) AS k ORDER BY 1) AS s"
                ),
                {"cls": _ENQUEUE_LOCK, "keys": objids},
            )

    async def claim(self, now: float, lease_s: float, limit: int) -> list[Claimed]:
        """Take up to `limit` due notifications (oldest due first) for `lease_s` seconds,
        none behind an older unsent one of its order key."""
        if limit <= 0:
            return []
        lease_until = now + lease_s
        candidates = (
            select(t.c.id)
            .where(_due(now), ~_BEHIND)
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(limit)
        )
        if self._postgres:
            # a materialized CTE runs once; as `id IN (subquery)` PostgreSQL may re-run the
            # subquery per row and claim far more than `limit`
            picked = (
                candidates.with_for_update(skip_locked=True, of=t)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            chosen: ColumnElement[bool] = t.c.id == picked.c.id
        else:  # SQLite runs one writer at a time
            chosen = t.c.id.in_(candidates.scalar_subquery())
        stmt = (
            update(t)
            .where(chosen, _due(now))
            .values(status="sending", lease_until=lease_until)
            .returning(
                t.c.id,
                t.c.idempotency_key,
                t.c.kind,
                t.c.request,
                t.c.attempts,
                t.c.order_key,
                t.c.role,
                t.c.first_attempt_at,
            )
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
            claimed = [
                Claimed(
                    r.id,
                    r.idempotency_key,
                    r.kind,
                    r.request,
                    r.attempts,
                    lease_until,
                    r.order_key,
                    r.role,
                    r.first_attempt_at,
                )
                for r in result
            ]
        return sorted(claimed, key=lambda c: c.id)

    async def record(self, claim: Claimed, **values: Any) -> bool:
        """Store an attempt's outcome (status, attempts, ...) if the claim still holds.

        Return False when the lease lapsed and another claim took the row.
        """
        return (await self.record_many([(claim, values)]))[0]

    async def record_many(
        self, outcomes: Sequence[tuple[Claimed, Mapping[str, Any]]]
    ) -> list[bool]:
        """record() for several claims in one transaction; one answer per claim."""
        out = []
        queued_again: set[str] = set()
        async with self.engine.begin() as conn:
            for claim, values in outcomes:
                result = await conn.execute(
                    update(t)
                    .where(
                        t.c.id == claim.id,
                        t.c.status == "sending",
                        t.c.lease_until == claim.lease_until,
                    )
                    .values(lease_until=None, **values)
                )
                out.append(bool(result.rowcount))
                if result.rowcount and values.get("status") == "pending" and claim.order_key:
                    queued_again.add(claim.order_key)
            # a newer state queued behind one that failed replaces it now
            await _supersede(conn, queued_again)
        return out

    async def release(self, claim: Claimed, at: float) -> bool:
        """Hand a claimed notification back unsent, due again at `at` (no attempt counted)."""
        return await self.record(claim, status="pending", next_attempt_at=at)

    async def retry_dead(
        self, notification_id: int, now: float, audit: AuditEntry | None = None
    ) -> bool:
        """Put a dead notification back in the queue with fresh attempts, and append `audit`
        to the audit log in the same transaction; False (and nothing written) if not dead."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(t)
                .where(t.c.id == notification_id, t.c.status == "dead")
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    lease_until=None,
                    first_attempt_at=None,
                )
            )
            if result.rowcount and audit is not None:
                await SqlAuditRepo(conn).append(audit)
            return bool(result.rowcount)

    async def prune_sent(self, before: float, batch: int = 1000) -> int:
        """Delete sent notifications whose sent_at is older than `before`; return how many."""
        removed = 0
        while True:
            async with self.engine.begin() as conn:
                ids = select(t.c.id).where(t.c.status == "sent", t.c.sent_at < before).limit(batch)
                result = await conn.execute(delete(t).where(t.c.id.in_(ids.scalar_subquery())))
            removed += result.rowcount
            if result.rowcount < batch:
                return removed

    # -- reading -----------------------------------------------------------------------------

    async def next_due(self) -> float | None:
        """The earliest time a claim could find work: a pending row due (not behind an
        older one of its order key, which comes first), or a lease lapsing."""
        # the first in the (status, next_attempt_at) index not behind another: no min() over
        # every pending row, each probed for an older one (an outage queues thousands)
        pending = (
            select(t.c.next_attempt_at)
            .where(t.c.status == "pending", ~_BEHIND)
            .order_by(t.c.next_attempt_at)
            .limit(1)
        )
        leased = select(func.min(t.c.lease_until)).where(t.c.status == "sending")
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(pending.scalar_subquery(), leased.scalar_subquery()))
            ).one()
        found = [float(v) for v in row if v is not None]
        return min(found) if found else None

    async def superseding(self, notification_id: int) -> int | None:
        """The id of a newer notification of the same order key that makes this one
        pointless to send again (domain/outbox_order), or None."""
        async with self.engine.connect() as conn:
            me = (
                await conn.execute(
                    select(t.c.id, t.c.order_key, t.c.role, t.c.alert_status).where(
                        t.c.id == notification_id
                    )
                )
            ).first()
            if me is None or me.order_key is None:
                return None
            newer = await conn.execute(
                select(t.c.id, t.c.role, t.c.alert_status, t.c.status).where(
                    t.c.order_key == me.order_key,
                    t.c.id > notification_id,
                    t.c.status != "superseded",
                )
            )
            later = [
                Queued(r.id, r.role, r.alert_status, "sending" if r.status in UNSENT else "done")
                for r in newer
            ]
        return superseded_by(Queued(me.id, me.role, me.alert_status), later)

    async def get(self, notification_id: int) -> NotificationRow | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(*_PUBLIC).where(t.c.id == notification_id))).first()
        return _row(row) if row is not None else None

    async def stored_request(self, notification_id: int) -> Mapping[str, Any] | None:
        """The request a notification sends (holds secrets: never show it)."""
        async with self.engine.connect() as conn:
            value = (
                await conn.execute(select(t.c.request).where(t.c.id == notification_id))
            ).scalar()
        return dict(value) if value is not None else None

    async def list(
        self,
        *,
        before_id: int | None,
        limit: int,
        tenant_id: str | None = None,
        status: str | None = None,
        receiver: str | None = None,
        kind: str | None = None,
        failing: bool = False,
    ) -> list[NotificationRow]:
        """Notifications newest first, with an id below `before_id` when given; with
        `failing`, only those not sent whose last attempt failed (retrying, or dead)."""
        query = select(*_PUBLIC).order_by(t.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(t.c.id < before_id)
        if failing:
            query = query.where(
                t.c.status.in_(("pending", "sending", "dead")), t.c.last_error.is_not(None)
            )
        for column, value in (
            (t.c.tenant_id, tenant_id),
            (t.c.status, status),
            (t.c.receiver, receiver),
            (t.c.kind, kind),
        ):
            if value is not None:
                query = query.where(column == value)
        async with self.engine.connect() as conn:
            return [_row(r) for r in await conn.execute(query)]

    async def counts(self, tenant_id: str | None = None) -> dict[str, int]:
        """How many notifications are in each status (every status listed, maybe 0)."""
        query = select(t.c.status, func.count()).group_by(t.c.status)
        if tenant_id is not None:
            query = query.where(t.c.tenant_id == tenant_id)
        out = dict.fromkeys(STATUSES, 0)
        async with self.engine.connect() as conn:
            for status, n in await conn.execute(query):
                out[str(status)] = int(n)
        return out

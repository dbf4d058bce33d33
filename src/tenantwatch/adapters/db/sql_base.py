"""The base of the SQL repositories that work on one connection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection


class SqlRepo:
    """A repository over one connection (one unit of work)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @property
    def _dialect(self) -> str:
        return self._conn.dialect.name

"""Fixtures the worker tests share: a migrated database engine and the notification outbox on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.migrate import migrate
from tenantwatch.adapters.db.repos.notifications import SqlNotificationRepo


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    await migrate(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def repo(engine: AsyncEngine) -> SqlNotificationRepo:
    return SqlNotificationRepo(engine)

"""Loopback receivers and senders allowed to reach them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tenantwatch.adapters.notifiers import Notifiers
from tests.receivers import Received, Receiver, running_receiver

__all__ = ["Received", "Receiver"]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as rec:
        yield rec


@pytest.fixture
async def notifiers() -> AsyncIterator[Notifiers]:
    """Senders that may reach loopback (where the test receivers listen)."""
    n = Notifiers(allow_private=["127.0.0.1"])
    try:
        yield n
    finally:
        await n.close()

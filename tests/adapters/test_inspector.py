"""The inspector's recorder keeps the latest requests."""

from __future__ import annotations

from tenantwatch.adapters.inspector import Captured, Inspector


def test_the_inspector_keeps_the_latest_requests_only() -> None:
    inspector = Inspector(limit=2)
    for i in range(3):
        inspector.record(Captured(float(i), "b", "POST", "/", {}, i))
    assert [c.body for c in inspector.requests()] == [1, 2]

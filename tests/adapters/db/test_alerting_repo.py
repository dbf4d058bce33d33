"""The alert manager's tables: records, silences and log entries come back as they went in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch.adapters.db.engine import create_engine
from tenantwatch.adapters.db.migrate import migrate
from tenantwatch.adapters.db.repos.alerting import SqlAlertRepo
from tenantwatch.alertmanager import nflog
from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.flush_plan import LogEntry, nflog_key
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.routing import LabelMatcher
from tenantwatch.alertmanager.silences import Recurrence, Silence
from tenantwatch.domain.flapping import FlapState

T0 = 1_700_000_000.0


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    await migrate(eng)
    yield eng
    await eng.dispose()


def record(name: str, **kw: Any) -> AlertRecord:
    a = AmAlert.of(
        labels={"alertname": name, "tenant": "alpha", "severity": "critical"},
        annotations={"summary": "ünïcode"},
        starts_at=T0,
        ends_at=T0 + 300,
        updated_at=T0 + 1,
        generator_url="http://prom/graph",
    )
    return AlertRecord(a, "rules", T0, T0 + 5, **kw)


async def test_alert_records_round_trip_and_the_later_write_wins(engine: AsyncEngine) -> None:
    repo = SqlAlertRepo(engine)
    quiet = record("Quiet")
    busy = record(
        "Busy",
        occurrences=3,
        flap=FlapState(transitions=(T0, T0 + 30), flapping=True, percent=42.5, suppressed=2),
        escalated=frozenset({1, 2}),
        ack_at=T0 + 10,
        ack_by="bob",
        ack_until=T0 + 3600,
        ack_notes="on it",
    )
    await repo.save_alerts([quiet, busy])
    resolved = AlertRecord(busy.alert, "rules", T0, T0 + 5, resolved_by="al", resolution_notes="ok")
    await repo.save_alerts([resolved])
    loaded = {r.fingerprint: r for r in await repo.load_alerts()}
    assert loaded == {quiet.fingerprint: quiet, busy.fingerprint: resolved}
    await repo.delete_alerts([quiet.fingerprint])
    assert [r.fingerprint for r in await repo.load_alerts()] == [busy.fingerprint]


async def test_silences_round_trip_with_their_recurrence(engine: AsyncEngine) -> None:
    repo = SqlAlertRepo(engine)
    s = Silence(
        id="s1",
        matchers=(LabelMatcher.of("alertname", "=~", "Disk.*"), LabelMatcher.of("env", "!=", "x")),
        starts_at=T0,
        ends_at=T0 + 3600,
        updated_at=T0,
        created_by="ops",
        comment="maintenance",
        tenant_id="alpha",
        recurrence=Recurrence(rrule="FREQ=WEEKLY;BYDAY=SU", duration_s=7200.0, timezone="UTC"),
        end_on_resolve=True,
        matched_once=True,
    )
    plain = Silence("s2", (LabelMatcher.of("a", "=", "b"),), T0, T0 + 1, T0, "me", "")
    await repo.save_silences([s, plain])
    assert {x.id: x for x in await repo.load_silences()} == {"s1": s, "s2": plain}


async def test_log_entries_round_trip_and_are_deleted_by_key(engine: AsyncEngine) -> None:
    repo = SqlAlertRepo(engine)
    key = nflog_key("hook", "webhook/0", '{}:{alertname="A"}')
    e = LogEntry(
        key,
        "hook",
        "webhook/0",
        '{}:{alertname="A"}',
        nflog.Entry(frozenset({"f2", "f1"}), frozenset({"f3"}), T0, T0 + 7200),
    )
    await repo.save_log([e])
    assert await repo.load_log() == [e]
    await repo.delete_log([key])
    assert await repo.load_log() == []

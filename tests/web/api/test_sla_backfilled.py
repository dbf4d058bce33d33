"""A held-out data set per tier with known SLA answers: written as OpenMetrics, imported by
`tenantwatch backfill` (a real process, into a real store directory), then read back
field by field through the SLA API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import httpx
import pytest

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.cli.test_backfill import run as backfill
from tests.support import bearer

NOV = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
DEC = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
MONTH_MIN = Decimal(30 * 24 * 60)
# tenant -> (tier, minutes down, where the outage starts in minutes after 1 November)
HELD_OUT = {
    "ent": ("enterprise", 12, 3 * 1440 + 600),
    "pro": ("professional", 180, 10 * 1440 + 120),
    "bas": ("basic", 600, 20 * 1440),
}


def expected(tier: str, down: int) -> dict[str, object]:
    """The answers, computed by hand from the definitions in docs/sla.md."""
    target = {"enterprise": Decimal("99.9"), "professional": Decimal("99.5"), "basic": Decimal(99)}[
        tier
    ]
    availability = ((MONTH_MIN - down) * 100 / MONTH_MIN).quantize(
        Decimal("0.0001"), rounding=ROUND_DOWN
    )
    allowed = (100 - target) / 100 * MONTH_MIN
    credit = 0
    for below, owed in ((Decimal("99.9"), 10), (Decimal(99), 25), (Decimal(95), 50)):
        if availability < below:
            credit = owed
    return {
        "availability": float(availability),
        "allowed": float(allowed),
        "remaining": float(1 - Decimal(down) / allowed),
        "credit": credit,
        # every objective: one outage longer than the 15-minute recovery target misses it
        "met": availability >= target and down <= 15,
    }


def openmetrics(path: Path) -> Path:
    lines = ["# TYPE tenantwatch_check_up gauge"]
    for tenant, (_, down, at) in HELD_OUT.items():
        labels = f'check="{tenant}-api",kind="http",tenant="{tenant}"'
        for minute in range((DEC - NOV) // 60):
            value = 0 if at <= minute < at + down else 1
            lines.append(f"tenantwatch_check_up{{{labels}}} {value} {NOV + minute * 60}")
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("held-out")
    data = root / "var"
    result = backfill(str(openmetrics(root / "held-out.om")), data_dir=data)
    assert result.returncode == 0, result.stderr
    return data


@pytest.fixture
async def client(data_dir: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=data_dir, database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db")
    rt = build_runtime(settings, Config())
    await prepare(rt)
    for tenant, (tier, _, _) in HELD_OUT.items():
        await rt.tenants.create(SYSTEM, TenantInput(id=tenant, name=tenant, tier=tier))
    await rt.metrics.start()
    assert rt.sla is not None
    rt.sla.clock = lambda: NOW.timestamp()
    key = await rt.api_keys.issue(SYSTEM, name="t", scopes=[Scope.READ])
    transport = httpx.ASGITransport(app=create_app(settings, runtime=rt))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://tw.test", headers=bearer(key.secret)
        ) as c:
            yield c
    finally:
        await rt.stop()


@pytest.mark.parametrize("tenant", sorted(HELD_OUT))
async def test_each_tiers_answers_match_the_hand_computed_ones(
    client: httpx.AsyncClient, tenant: str
) -> None:
    tier, down, at = HELD_OUT[tenant]
    want = expected(tier, down)
    r = await client.get(
        f"/api/v1/monitoring/sla/{tenant}", params={"period": "monthly", "date": "2026-11-20"}
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["availability"] == want["availability"]
    assert got["error_budget"]["allowed_downtime_minutes"] == pytest.approx(
        want["allowed"], abs=0.005
    )
    assert got["error_budget"]["downtime_minutes"] == down
    assert got["error_budget"]["remaining_ratio"] == pytest.approx(want["remaining"], abs=1e-4)
    assert got["credit_percentage"] == want["credit"]
    assert got["sla_compliance"] is want["met"]
    assert got["recovery_time"] == down
    start = datetime.fromtimestamp(NOV + at * 60, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [(d["start"], d["minutes"]) for d in got["downtimes"]] == [(start, down)]
    assert got["unknown_minutes"] == 0

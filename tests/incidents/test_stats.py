"""MTTA and MTTR per tenant and severity from incidents' own times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tenantwatch.incidents import lifecycle, stats
from tenantwatch.incidents.model import AffectedTenant, Incident, Severity, Status

T0 = datetime(2026, 12, 7, 10, tzinfo=UTC)


def incident(
    n: int, tenants: tuple[str, ...], ack_min: int | None, resolve_min: int | None
) -> Incident:
    inc = Incident(
        id=f"INC-20261207-{n:04d}",
        title="t",
        severity=Severity.P1,
        status=Status.OPEN,
        detected_at=T0,
        tenants=tuple(AffectedTenant(t, "basic", T0) for t in tenants),
    )
    if ack_min is not None:
        inc, _ = lifecycle.acknowledge(inc, T0 + timedelta(minutes=ack_min), "alice")
    if resolve_min is not None:
        inc, _ = lifecycle.resolve(inc, T0 + timedelta(minutes=resolve_min), "alice")
    return inc


def test_means_are_per_tenant_and_severity() -> None:
    got = stats.samples(
        [
            incident(1, ("acme", "globex"), 4, 20),
            incident(2, ("acme",), 10, 40),
            incident(3, ("acme",), None, None),  # still open, never acknowledged
        ],
        1000,
    )
    values = {(dict(lb)["__name__"], dict(lb)["tenant"]): v for lb, _, v in got}
    assert values[(stats.MTTA, "acme")] == (4 + 10) / 2 * 60
    assert values[(stats.MTTR, "acme")] == (20 + 40) / 2 * 60
    assert values[(stats.MTTA, "globex")] == 4 * 60
    assert values[(stats.OPEN, "acme")] == 1
    assert (stats.OPEN, "globex") not in values
    assert all(dict(lb)["severity"] == "P1" for lb, _, _ in got)

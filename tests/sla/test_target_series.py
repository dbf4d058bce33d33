"""Each tenant's SLA targets become series in the metric store, overrides included."""

from __future__ import annotations

from decimal import Decimal

from tenantwatch.domain.apikeys import SYSTEM
from tenantwatch.domain.tiers import BUILTIN_TIERS
from tenantwatch.promql.model import Matcher
from tenantwatch.runtime.root import Runtime
from tenantwatch.services.tenants import TenantInput
from tenantwatch.sla.series import TARGET, target_samples


def test_one_sample_per_tenant_and_objective() -> None:
    got = target_samples({"acme": BUILTIN_TIERS["basic"].sla}, 1000)
    assert [(dict(labels)["objective"], v) for labels, _, v in got] == [
        ("availability", 99.0),
        ("response_time_ms", 1000.0),
        ("error_rate", 2.0),
        ("recovery_time_minutes", 15.0),
    ]


async def test_the_runtime_writes_every_tenants_targets(runtime: Runtime) -> None:
    await runtime.tenants.create(
        SYSTEM,
        TenantInput(
            id="acme",
            name="Acme",
            tier="enterprise",
            sla_overrides={"availability_percentage": Decimal("99.95")},
        ),
    )
    await runtime.tenants.create(SYSTEM, TenantInput(id="globex", name="Globex", tier="basic"))
    await runtime.metrics.start()
    assert runtime.sla_targets is not None
    assert await runtime.sla_targets.write_once() == 8
    found = runtime.metrics.store.select(
        [Matcher.of("__name__", "=", TARGET), Matcher.of("objective", "=", "availability")],
        0,
        2**62,
    )
    assert {dict(s.labels)["tenant"]: float(s.vals[-1]) for s in found} == {
        "acme": 99.95,
        "globex": 99.0,
    }

"""Every probed kind has a builder taking its typed spec; heartbeats are not probed."""

from __future__ import annotations

import pytest

from tenantwatch.adapters.probes.http import HttpProber
from tenantwatch.adapters.probes.registry import PROBES, ProbeContext
from tenantwatch.domain.check_specs import RedisSpec, TcpSpec
from tenantwatch.domain.checks import CheckKind


def test_every_kind_but_heartbeat_has_a_probe() -> None:
    assert set(PROBES) == set(CheckKind) - {CheckKind.HEARTBEAT}


async def test_a_builder_refuses_another_kinds_spec() -> None:
    ctx = ProbeContext(timeout_s=1.0, http=HttpProber(), policy=None)
    try:
        assert callable(PROBES[CheckKind.TCP](TcpSpec(host="h", port=1), ctx))
        with pytest.raises(TypeError, match="expected a TcpSpec, got a RedisSpec"):
            PROBES[CheckKind.TCP](RedisSpec(url="redis://h"), ctx)
    finally:
        await ctx.http.close()

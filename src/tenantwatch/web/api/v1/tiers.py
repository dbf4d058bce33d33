"""/api/v1/tiers: the tier catalogue (built-in and from the config file)."""

from __future__ import annotations

from fastapi import APIRouter

from tenantwatch.web.deps import Reader, RuntimeDep
from tenantwatch.web.errors import AUTH
from tenantwatch.web.schemas import TierList, TierOut

router = APIRouter(prefix="/tiers", tags=["tenants"], responses=AUTH)


@router.get("", response_model=TierList, summary="List tiers and their SLA targets")
async def list_tiers(rt: RuntimeDep, who: Reader) -> TierList:
    del who
    tiers = rt.ctx.tiers
    return TierList(items=[TierOut.of(tiers.tiers[name]) for name in tiers.names()])

"""tenantwatch's own REST API, version 1."""

from fastapi import APIRouter

from tenantwatch.web.api.v1 import (
    apikeys,
    audit,
    checks,
    incidents,
    monitoring,
    monitoring_alerts,
    notifications,
    rule_groups,
    sla,
    tenants,
    tiers,
)

router = APIRouter(prefix="/api/v1")
for module in (
    tenants,
    tiers,
    apikeys,
    audit,
    checks,
    incidents,
    monitoring,
    monitoring_alerts,
    sla,
    rule_groups,
    notifications,
):
    router.include_router(module.router)
router.include_router(incidents.status_router)

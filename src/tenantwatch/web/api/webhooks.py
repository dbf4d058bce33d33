"""POST /webhooks/alerts: seed 000's Alertmanager-webhook intake. An external
Alertmanager's `webhook_configs` (payload version 4) sends its firing and resolved alerts
here; they open, join and resolve incidents as tenantwatch's own alerts do. Authenticate
with a write key (`http_config: {authorization: {credentials: <key>}}`); a tenant's key
stamps its tenant on every alert."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from tenantwatch.services.incidents import AlertEvent
from tenantwatch.web.deps import RuntimeDep, Writer
from tenantwatch.web.errors import AUTH, responses

router = APIRouter(prefix="/webhooks", tags=["incidents"], responses=AUTH)
LabelMap = dict[Annotated[str, Field(max_length=1000)], Annotated[str, Field(max_length=10_000)]]


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: LabelMap
    annotations: LabelMap = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    fingerprint: Annotated[str, Field(max_length=64)] | None = None


class WebhookMessage(BaseModel):
    """Alertmanager's webhook payload (version 4); the fields incidents need."""

    model_config = ConfigDict(extra="ignore")
    version: str = "4"
    status: Literal["firing", "resolved"] | None = None
    alerts: list[WebhookAlert] = Field(max_length=5000)


class WebhookAnswer(BaseModel):
    received: int
    incidents: list[str] = Field(description="the incidents these alerts opened or changed")


def fingerprint_of(labels: dict[str, str]) -> str:
    raw = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _utc(moment: datetime | None, default: datetime) -> datetime:
    if moment is None or moment.year <= 1:  # Go's zero time: not set
        return default
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@router.post(
    "/alerts",
    response_model=WebhookAnswer,
    summary="Alertmanager webhook intake: firing and resolved alerts open and resolve incidents",
    responses=responses(400),
)
async def alerts_webhook(body: WebhookMessage, rt: RuntimeDep, who: Writer) -> WebhookAnswer:
    if rt.incidents is None:
        raise HTTPException(503, "incidents are not running in this process (role api)")
    now = datetime.now(UTC)
    events = []
    for a in body.alerts:
        labels = dict(a.labels)
        if who.tenant_id is not None:
            labels["tenant"] = who.tenant_id
        events.append(
            AlertEvent(
                fingerprint=a.fingerprint or fingerprint_of(labels),
                labels=labels,
                annotations=dict(a.annotations),
                firing=a.status == "firing",
                starts_at=_utc(a.startsAt, now),
                ends_at=None if a.status == "firing" else _utc(a.endsAt, now),
                source="webhook",
            )
        )
    changed = await rt.incidents.ingest(events)
    if rt.incident_responder is not None:
        rt.incident_responder.spawn(changed)  # actions run after the answer
    return WebhookAnswer(received=len(events), incidents=sorted(i.id for i in changed))

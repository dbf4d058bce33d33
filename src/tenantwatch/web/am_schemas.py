"""Alertmanager API v2 shapes (api/v2/openapi.yaml), so amtool, Prometheus and Grafana fit."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.types import FailFast

LabelMapField = dict[str, str]


class PostableAlert(BaseModel):
    """One alert as Prometheus, vmalert or Grafana POSTs it; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")
    labels: LabelMapField
    annotations: LabelMapField | None = None  # null is no annotations, as in Alertmanager
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None


# FailFast: the first bad alert is all the answer names, and a batch of 200,000 bad alerts
# must not build 200,000 errors first
POSTABLE_ALERTS = TypeAdapter(Annotated[list[PostableAlert], FailFast()])


def labels_required(exc: ValidationError) -> str | None:
    """Alertmanager's 422 message when an alert has no `labels` (absent or null), naming
    the first such alert ("1.labels in body is required"); None for other problems."""
    for error in exc.errors():  # in the order of the alerts
        loc = error.get("loc", ())
        missing = error["type"] == "missing" or error.get("input", "") is None
        if len(loc) == 2 and loc[1] == "labels" and missing:
            return f"{loc[0]}.labels in body is required"
    return None


class ReceiverName(BaseModel):
    name: str


class AlertStatus(BaseModel):
    state: str  # unprocessed | active | suppressed
    silencedBy: list[str]
    inhibitedBy: list[str]


class GettableAlert(BaseModel):
    labels: LabelMapField
    annotations: LabelMapField
    startsAt: str
    endsAt: str
    updatedAt: str
    generatorURL: str
    fingerprint: str
    receivers: list[ReceiverName]
    status: AlertStatus


class AlertGroup(BaseModel):
    labels: LabelMapField
    receiver: ReceiverName
    alerts: list[GettableAlert]


class Matcher(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1)]
    value: str
    isRegex: bool
    isEqual: bool = True


class PostableSilence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    matchers: list[Matcher]
    startsAt: str
    endsAt: str
    createdBy: str
    comment: str
    # tenantwatch additions
    recurrence: Recurrence | None = None
    endOnResolve: bool = False


class Recurrence(BaseModel):
    """A silence that repeats: RFC 5545 RRULE in the timezone, each time for duration."""

    model_config = ConfigDict(extra="forbid")
    rrule: Annotated[str, Field(min_length=1, examples=["FREQ=WEEKLY;BYDAY=SA;BYHOUR=2"])]
    duration: Annotated[str, Field(examples=["2h"])]
    timezone: str = "UTC"


PostableSilence.model_rebuild()


class SilenceStatus(BaseModel):
    state: str  # pending | active | expired


class GettableSilence(BaseModel):
    id: str
    status: SilenceStatus
    updatedAt: str
    matchers: list[Matcher]
    startsAt: str
    endsAt: str
    createdBy: str
    comment: str
    recurrence: Recurrence | None = None
    endOnResolve: bool = False


class SilenceCreated(BaseModel):
    silenceID: str


class ClusterStatus(BaseModel):
    name: str
    status: str
    peers: list[dict[str, str]]


class VersionInfo(BaseModel):
    branch: str
    buildDate: str
    buildUser: str
    goVersion: str
    revision: str
    version: str


class AmConfigOut(BaseModel):
    original: str


class AmStatus(BaseModel):
    cluster: ClusterStatus
    versionInfo: VersionInfo
    config: AmConfigOut
    uptime: str

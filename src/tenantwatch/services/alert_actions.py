"""What people do to alerts and silences (silence, acknowledge, resolve, raise a custom
alert), each recorded in the audit log with who did it; the alert manager does the rest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tenantwatch.alertmanager.alert import fingerprint
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.silences import Silence, expire, matchers_to_api
from tenantwatch.alertmanager.silences import create as create_silence
from tenantwatch.domain.apikeys import Principal
from tenantwatch.domain.audit import AuditEntry
from tenantwatch.services.alerting import AlertingService, Incoming
from tenantwatch.services.audit import Audit
from tenantwatch.services.errors import Invalid, NotFound

CUSTOM_ALERT_LIFETIME_S = 10 * 365 * 86400.0  # a custom alert fires until resolved


def _alert_snapshot(r: AlertRecord, now: float) -> dict[str, Any]:
    return {
        "alertname": r.alert.label_map().get("alertname", ""),
        "labels": r.alert.label_map(),
        "status": r.status(now),
        "ack_by": r.ack_by,
        "ack_notes": r.ack_notes,
        "ack_until": r.ack_until,
        "resolved_by": r.resolved_by,
        "resolution_notes": r.resolution_notes,
    }


def _silence_snapshot(s: Silence) -> dict[str, Any]:
    return {
        "matchers": matchers_to_api(s.matchers),
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "created_by": s.created_by,
        "comment": s.comment,
    }


class AlertActions:
    def __init__(self, alerting: AlertingService, audit: Audit) -> None:
        self.alerting = alerting
        self.audit = audit

    async def _record(
        self,
        who: Principal,
        action: str,
        object_type: str,
        object_id: str,
        tenant_id: str | None,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        request_id: str | None,
    ) -> None:
        await self.audit(
            AuditEntry.of(
                at=datetime.fromtimestamp(self.alerting.now(), UTC),
                actor=who.actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                tenant_id=tenant_id,
                before=before,
                after=after,
                request_id=request_id,
            )
        )

    # -- silences --------------------------------------------------------------------------
    async def create_silence(
        self, who: Principal, silence: Silence, *, request_id: str | None = None
    ) -> str:
        made = create_silence(silence, self.alerting.now())
        silence_id = await self.alerting.silencing.save(made)
        stored = self.alerting.silencing.get(silence_id)
        await self._record(
            who,
            "silence.create",
            "silence",
            silence_id,
            stored.tenant_id,
            None,
            _silence_snapshot(stored),
            request_id,
        )
        return silence_id

    async def update_silence(
        self, who: Principal, old: Silence, new: Silence, *, request_id: str | None = None
    ) -> str:
        silence_id = await self.alerting.silencing.update(old, new)
        stored = self.alerting.silencing.get(silence_id)
        await self._record(
            who,
            "silence.update",
            "silence",
            silence_id,
            stored.tenant_id,
            _silence_snapshot(old),
            _silence_snapshot(stored),
            request_id,
        )
        return silence_id

    async def expire_silence(
        self, who: Principal, silence: Silence, *, request_id: str | None = None
    ) -> None:
        """End a silence now; SilenceAlreadyExpired when it has ended."""
        ended = expire(silence, self.alerting.now())
        await self.alerting.silencing.save(ended)
        await self._record(
            who,
            "silence.expire",
            "silence",
            silence.id,
            silence.tenant_id,
            _silence_snapshot(silence),
            _silence_snapshot(ended),
            request_id,
        )

    # -- alerts ----------------------------------------------------------------------------
    async def acknowledge(
        self,
        who: Principal,
        alert_id: str,
        notes: str | None,
        until: float | None,
        *,
        request_id: str | None = None,
    ) -> AlertRecord:
        before = self.alerting.record(alert_id, who.tenant_id)
        now = self.alerting.now()
        after = await self.alerting.acknowledge(alert_id, who.tenant_id, who.actor, notes, until)
        await self._record(
            who,
            "alert.acknowledge",
            "alert",
            alert_id,
            after.tenant_id,
            _alert_snapshot(before, now),
            _alert_snapshot(after, now),
            request_id,
        )
        return after

    async def resolve(
        self, who: Principal, alert_id: str, notes: str | None, *, request_id: str | None = None
    ) -> AlertRecord:
        before = self.alerting.record(alert_id, who.tenant_id)
        now = self.alerting.now()
        after = await self.alerting.resolve(alert_id, who.tenant_id, who.actor, notes)
        await self._record(
            who,
            "alert.resolve",
            "alert",
            alert_id,
            after.tenant_id,
            _alert_snapshot(before, now),
            _alert_snapshot(after, self.alerting.now()),
            request_id,
        )
        return after

    async def raise_custom(
        self,
        who: Principal,
        tenant_id: str,
        name: str,
        severity: str,
        description: str,
        labels: Mapping[str, str],
        *,
        request_id: str | None = None,
    ) -> AlertRecord:
        """Raise seed 002's custom alert: it fires until someone resolves it."""
        if who.tenant_id is not None and tenant_id != who.tenant_id:
            raise NotFound(f"no tenant {tenant_id!r}")
        now = self.alerting.now()
        full = {**labels, "alertname": name, "severity": severity, "tenant": tenant_id}
        problems = await self.alerting.post(
            [
                Incoming(
                    full,
                    {"description": description, "summary": description},
                    now,
                    now + CUSTOM_ALERT_LIFETIME_S,
                )
            ],
            source="custom",
        )
        if problems:
            raise Invalid("; ".join(problems))
        record = self.alerting.record(fingerprint(full), who.tenant_id)
        await self._record(
            who,
            "alert.create",
            "alert",
            record.fingerprint,
            tenant_id,
            None,
            _alert_snapshot(record, now),
            request_id,
        )
        return record

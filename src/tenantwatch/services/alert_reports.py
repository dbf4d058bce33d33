"""What Alertmanager's API reports of alerts and groups: each alert with its receivers and
what suppresses it (the silences muting it, the alerts inhibiting it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.alertmanager.dispatch import Dispatcher
from tenantwatch.alertmanager.records import SEVERITIES, AlertRecord
from tenantwatch.alertmanager.routing import LabelMatcher, receivers_of
from tenantwatch.alertmanager.silences import silenced_by
from tenantwatch.alertmanager.suppression import inhibited_by
from tenantwatch.services.alert_store import AlertStore

ReceiverFilter = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class AlertReport:
    """An alert, the receivers it goes to, and the silences and alerts holding it back."""

    record: AlertRecord
    receivers: tuple[str, ...]
    silenced_by: tuple[str, ...]
    inhibited_by: tuple[str, ...]

    @property
    def state(self) -> Literal["active", "suppressed"]:
        return "suppressed" if self.silenced_by or self.inhibited_by else "active"


@dataclass(frozen=True, slots=True)
class AlertGroupReport:
    """An aggregation group's labels, receiver and (reported) alerts."""

    labels: dict[str, str]
    receiver: str
    alerts: tuple[AlertReport, ...]


@dataclass(frozen=True, slots=True)
class AlertPage:
    """A page of seed 002's alert list: its alerts, how many matched, and the cursor of
    the next page (None on the last)."""

    alerts: tuple[AlertRecord, ...]
    total: int
    next_cursor: str | None


def alert_page(
    records: Sequence[AlertRecord],
    now: float,
    *,
    severity: str | None = None,
    status: str | None = None,
    tenant: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> AlertPage:
    """Seed 002's list of `records`: those of the tenant, severity and status asked for,
    most severe first, then the latest occurrence first; a page starts after the alert
    named by `cursor` (past the end when it is not among them)."""
    rows = [
        r
        for r in records
        if (tenant is None or r.tenant_id == tenant)
        and (severity is None or r.severity == severity)
        and (status is None or r.status(now) == status)
    ]
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    rows.sort(key=lambda r: (order.get(r.severity or "", 9), -r.last_occurred, r.fingerprint))
    start = 0
    if cursor:
        start = next((i + 1 for i, r in enumerate(rows) if r.fingerprint == cursor), len(rows))
    page = rows[start : start + limit]
    more = start + limit < len(rows)
    return AlertPage(tuple(page), len(rows), page[-1].fingerprint if more and page else None)


def _matching(record: AlertRecord, matchers: Sequence[LabelMatcher]) -> bool:
    labels = record.alert.label_map()
    return all(m.matches(labels) for m in matchers)


class AlertReports:
    def __init__(self, config: AlertmanagerConfig, store: AlertStore, dispatcher: Dispatcher):
        self.config = config
        self.store = store
        self.dispatcher = dispatcher

    def report(self, record: AlertRecord, now: float) -> AlertReport:
        labels = record.alert.label_map()
        return AlertReport(
            record,
            tuple(receivers_of(self.config.route, labels)),
            tuple(silenced_by(labels, self.store.silences.values(), now)),
            tuple(
                inhibited_by(labels, self.store.records.values(), self.config.inhibit_rules, now)
            ),
        )

    def alerts(
        self,
        tenant: str | None,
        matchers: Sequence[LabelMatcher],
        now: float,
        *,
        receiver: ReceiverFilter | None = None,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
    ) -> list[AlertReport]:
        """The unresolved alerts (of the tenant; all with None) matching every matcher and
        going to a receiver `receiver` accepts, by fingerprint; without the silenced,
        the inhibited or the active (neither) ones when those flags are off, as
        Alertmanager's GET /api/v2/alerts."""
        out = []
        records = self.store.records.values()
        for r in sorted(records, key=lambda r: r.fingerprint):
            if tenant is not None and r.tenant_id != tenant:
                continue
            if r.alert.resolved_at(now) or not _matching(r, matchers):
                continue
            report = self.report(r, now)
            if receiver is not None and not any(receiver(n) for n in report.receivers):
                continue
            if (not silenced and report.silenced_by) or (not inhibited and report.inhibited_by):
                continue
            if not active and not (report.silenced_by or report.inhibited_by):
                continue
            out.append(report)
        return out

    def groups(
        self,
        tenant: str | None,
        matchers: Sequence[LabelMatcher],
        now: float,
        *,
        receiver: ReceiverFilter | None = None,
    ) -> list[AlertGroupReport]:
        """The aggregation groups with their unresolved alerts (of the tenant) matching
        every matcher; groups left without alerts, or whose receiver `receiver` refuses,
        are left out."""
        out = []
        for group in self.dispatcher.groups():
            if receiver is not None and not receiver(group.receiver):
                continue
            alerts = []
            for alert in group.sorted_alerts():
                record = self.store.records.get(alert.fingerprint)
                if record is None or record.alert.resolved_at(now):
                    continue
                if tenant is not None and record.tenant_id != tenant:
                    continue
                if not _matching(record, matchers):
                    continue
                alerts.append(self.report(record, now))
            if alerts:
                out.append(AlertGroupReport(dict(group.labels), group.receiver, tuple(alerts)))
        return out

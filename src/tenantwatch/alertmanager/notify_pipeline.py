"""Alertmanager's notification pipeline for one flushed group, as a pure function.

Order (as Alertmanager 0.25): drop inhibited alerts, stop when the route is outside its
active time intervals or inside a mute interval, drop silenced alerts; then for each
integration of the receiver ask the notification log whether anything is new, and leave
resolved alerts out for integrations without send_resolved (sending nothing, but still
logging, when only resolved alerts remain).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.dispatch import Flush
from tenantwatch.alertmanager.inhibition import InhibitRule, inhibited
from tenantwatch.alertmanager.nflog import Entry, needs_update
from tenantwatch.alertmanager.notify_data import NotifyAlert, NotifyData, build_notify_data
from tenantwatch.alertmanager.routing import Route
from tenantwatch.types import LabelMap


@dataclass(frozen=True, slots=True)
class Planned:
    """What one integration is to be sent; an empty `alerts` means log only."""

    integration: str
    alerts: tuple[AmAlert, ...]
    firing: frozenset[str]  # fingerprints firing in the flush (for the log)
    resolved: frozenset[str]


def plan(
    flush: Flush,
    integrations: Sequence[tuple[str, bool]],
    *,
    all_firing_label_sets: Sequence[LabelMap],
    inhibit_rules: Sequence[InhibitRule],
    silenced: Callable[[LabelMap], bool],
    time_muted: Callable[[Route, float], bool],
    nflog_get: Callable[[str], Entry | None],
    now: float,
    repeat_interval_s: float | None = None,
) -> list[Planned]:
    """What each integration `(name, send_resolved)` of the receiver gets for this flush.

    `all_firing_label_sets` are the label sets of every alert firing now (the inhibition
    sources); `time_muted(route, now)` says whether the route's active/mute time
    intervals hold notifications back; `nflog_get(integration)` is the log entry of this
    group for that integration. An integration left out needs no notification.
    """
    repeat = flush.route.repeat_interval_s if repeat_interval_s is None else repeat_interval_s
    alerts = [
        a
        for a in flush.alerts
        if not inhibit_rules or not inhibited(a.label_map(), all_firing_label_sets, inhibit_rules)
    ]
    if not alerts or time_muted(flush.route, now):
        return []
    alerts = [a for a in alerts if not silenced(a.label_map())]
    if not alerts:
        return []
    firing = frozenset(a.fingerprint for a in alerts if not a.resolved_at(flush.at))
    resolved = frozenset(a.fingerprint for a in alerts if a.resolved_at(flush.at))
    out: list[Planned] = []
    for name, send_resolved in integrations:
        if not needs_update(nflog_get(name), firing, resolved, repeat, send_resolved, now):
            continue
        if send_resolved:
            sent = tuple(alerts)
        elif not firing:
            sent = ()
        else:
            sent = tuple(a for a in alerts if not a.resolved_at(flush.at))
        out.append(Planned(name, sent, firing, resolved))
    return out


def notify_alerts(alerts: Sequence[AmAlert], at: float) -> list[NotifyAlert]:
    """Alerts as template data, their status as of `at` (the flush time)."""
    return [
        NotifyAlert(
            status=a.status(at),
            labels=a.label_map(),
            annotations=a.annotation_map(),
            starts_at=a.starts_at,
            ends_at=a.ends_at if a.resolved_at(at) else 0.0,
            generator_url=a.generator_url,
            fingerprint=a.fingerprint,
        )
        for a in alerts
    ]


def notify_data(
    planned: Planned,
    flush: Flush,
    external_url: str,
    receiver: str | None = None,
    *,
    max_alerts: int = 0,
) -> NotifyData:
    """The template data of a planned notification; with `max_alerts` (webhook's setting)
    only the first that many alerts are kept and the rest counted as truncated."""
    alerts = list(planned.alerts)
    truncated = 0
    if max_alerts > 0 and len(alerts) > max_alerts:
        truncated = len(alerts) - max_alerts
        alerts = alerts[:max_alerts]
    return build_notify_data(
        receiver or flush.receiver,
        flush.group_labels,
        notify_alerts(alerts, flush.at),
        external_url,
        flush.group_key,
        truncated_alerts=truncated,
    )

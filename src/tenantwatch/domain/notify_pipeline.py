"""Alertmanager's notification pipeline for one flushed group, as a pure function.

Order (as Alertmanager): drop inhibited alerts, stop when the route is outside its active
time intervals or inside a mute interval, drop silenced alerts; then for each integration
of the receiver ask the notification log whether anything is new, and leave resolved
alerts out for integrations without send_resolved (sending nothing when none remain).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tenantwatch.domain.am_alert import AmAlert
from tenantwatch.domain.dispatch import Flush
from tenantwatch.domain.inhibition import InhibitRule, inhibited
from tenantwatch.domain.nflog import Entry, needs_update
from tenantwatch.domain.notify_data import NotifyAlert, NotifyData, build_notify_data
from tenantwatch.domain.routing import Route


@dataclass(frozen=True, slots=True)
class Planned:
    integration: str
    alerts: tuple[AmAlert, ...]  # what this integration is sent
    firing: frozenset[str]  # fingerprints firing in the flush (for the log)
    resolved: frozenset[str]


def plan(
    flush: Flush,
    integrations: Sequence[tuple[str, bool]],
    *,
    all_firing_label_sets: Sequence[Mapping[str, str]],
    inhibit_rules: Sequence[InhibitRule],
    silenced: Callable[[Mapping[str, str]], bool],
    time_muted: Callable[[Route, float], bool],
    nflog_get: Callable[[str], Entry | None],
    repeat_interval_s: float,
    now: float,
) -> list[Planned]:
    """What each integration (name, send_resolved) is to be sent for this flush."""
    alerts = [
        a
        for a in flush.alerts
        if not (inhibit_rules and inhibited(a.label_map(), all_firing_label_sets, inhibit_rules))
    ]
    if time_muted(flush.route, now):
        return []
    alerts = [a for a in alerts if not silenced(a.label_map())]
    if not alerts:
        return []
    firing = frozenset(a.fingerprint for a in alerts if not a.resolved_at(flush.at))
    resolved = frozenset(a.fingerprint for a in alerts if a.resolved_at(flush.at))
    out = []
    for name, send_resolved in integrations:
        if not needs_update(
            nflog_get(name), firing, resolved, repeat_interval_s, send_resolved, now
        ):
            continue
        sent = tuple(a for a in alerts if send_resolved or not a.resolved_at(flush.at))
        if not sent:
            # nothing to send, but the log still learns that all resolved
            out.append(Planned(name, (), firing, resolved))
            continue
        out.append(Planned(name, sent, firing, resolved))
    return out


def notify_data(
    planned: Planned, flush: Flush, external_url: str, receiver: str | None = None
) -> NotifyData:
    """The template data of a planned notification."""
    alerts = [
        NotifyAlert(
            status=a.status(flush.at),
            labels=a.label_map(),
            annotations=a.annotation_map(),
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            generator_url=a.generator_url,
            fingerprint=a.fingerprint,
        )
        for a in planned.alerts
    ]
    return build_notify_data(
        receiver or flush.receiver, flush.group_labels, alerts, external_url, flush.group_key
    )

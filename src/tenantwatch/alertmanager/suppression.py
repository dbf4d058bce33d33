"""What holds an alert back at `now`: silences, inhibition, time intervals, flapping and
acknowledgement, computed from the alert manager's state (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.inhibition import InhibitRule
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.routing import Route
from tenantwatch.alertmanager.silences import Silence, mutes
from tenantwatch.alertmanager.time_intervals import TimeInterval

Labels = Mapping[str, str]


def firing_label_sets(records: Iterable[AlertRecord], now: float) -> list[dict[str, str]]:
    """The label sets of the alerts that fire at `now`."""
    return [r.alert.label_map() for r in records if not r.alert.resolved_at(now)]


def inhibition_sources(
    records: Iterable[AlertRecord], rules: Sequence[InhibitRule], now: float
) -> list[dict[str, str]]:
    """The firing alerts that match some inhibit rule's source side (the only ones that
    can inhibit anything); none without inhibit rules."""
    if not rules:
        return []
    out = []
    for r in records:
        if r.alert.resolved_at(now):
            continue
        labels = r.alert.label_map()
        if any(all(m.matches(labels) for m in rule.source) for rule in rules):
            out.append(labels)
    return out


def silenced(labels: Labels, silences: Iterable[Silence], now: float) -> bool:
    """Whether some silence mutes an alert with these labels at `now`."""
    return any(mutes(s, labels, now) for s in silences)


def muted(
    labels: Labels,
    records: Mapping[str, AlertRecord],
    silences: Iterable[Silence],
    now: float,
) -> bool:
    """Silenced, flapping (it pages once and sends digests instead), or acknowledged
    (an acknowledged alert stops being re-notified until it resolves)."""
    if silenced(labels, silences, now):
        return True
    record = records.get(AmAlert.fingerprint_of(labels))
    if record is None:
        return False
    if record.flapping:
        return True
    return record.acknowledged(now) and not record.alert.resolved_at(now)


def time_muted(route: Route, intervals: Mapping[str, Sequence[TimeInterval]], now: float) -> bool:
    """Whether the route's mute time intervals hold it back at `now`, or its active time
    intervals (when it has any) do not hold `now`."""
    for name in route.mute_time_intervals:
        if any(i.contains(now) for i in intervals.get(name, ())):
            return True
    if route.active_time_intervals:
        active = any(
            i.contains(now) for name in route.active_time_intervals for i in intervals.get(name, ())
        )
        return not active
    return False


def inhibited_by(
    labels: Labels,
    records: Iterable[AlertRecord],
    rules: Sequence[InhibitRule],
    now: float,
) -> list[str]:
    """Fingerprints of the firing alerts that inhibit an alert with these labels, sorted."""
    firing = {r.fingerprint: r.alert.label_map() for r in records if not r.alert.resolved_at(now)}
    by_labels = {tuple(sorted(v.items())): k for k, v in firing.items()}
    out: list[str] = []
    for rule in rules:
        for source in rule.sources(labels, firing.values()):
            out.append(by_labels[tuple(sorted(source.items()))])
    return sorted(set(out))

"""Alertmanager's dispatcher: aggregation groups and their timers, as a pure state machine.

Each alert goes to the routes it matches; per route it joins the group of its `group_by`
labels. A new group flushes after `group_wait`, then every `group_interval`. An alert
that is already older than `group_wait` when it joins a group that never flushed makes the
group flush at once. A flush hands out every alert of the group (firing ones with their
end zeroed, as Alertmanager does); after a successful notification the resolved alerts
that did not change meanwhile leave the group, and empty groups are dropped by
maintenance. Every method takes `now`; nothing here sleeps or reads a clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cmp_to_key

from tenantwatch.domain.am_alert import AmAlert, LabelPairs
from tenantwatch.domain.routing import Route, match_routes


def _go_quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def labels_string(labels: Mapping[str, str]) -> str:
    """model.LabelSet.String(): {a="1", b="2"}."""
    return "{" + ", ".join(f"{k}={_go_quote(labels[k])}" for k in sorted(labels)) + "}"


def matchers_string(route: Route) -> str:
    """labels.Matchers.String() of a route's sorted matchers: {a="1",b=~"x"}."""
    ordered = sorted(route.matchers, key=lambda m: (m.name, m.value, m.op))
    return "{" + ",".join(f"{m.name}{m.op}{_go_quote(m.value)}" for m in ordered) + "}"


def route_keys(root: Route) -> dict[int, str]:
    """Route.Key() of every route in the tree, by id()."""
    out: dict[int, str] = {}

    def walk(route: Route, parent: str | None) -> None:
        key = matchers_string(route) if parent is None else f"{parent}/{matchers_string(route)}"
        out[id(route)] = key
        for child in route.routes:
            walk(child, key)

    walk(root, None)
    return out


def _before(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """model.LabelSet.Before."""
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted([*a, *b]):
        if name not in a:
            return True
        if name not in b:
            return False
        if a[name] != b[name]:
            return a[name] < b[name]
    return False


def _compare(x: AmAlert, y: AmAlert) -> int:
    """types.AlertSlice.Less: by job, then instance, then the whole label set."""
    a, b = x.label_map(), y.label_map()
    for key in ("job", "instance"):
        if key not in a and key not in b:
            continue
        if key not in a:
            return 1
        if key not in b:
            return -1
        if a[key] != b[key]:
            return -1 if a[key] < b[key] else 1
    if _before(a, b):
        return -1
    if _before(b, a):
        return 1
    return 0


def sort_alerts(alerts: list[AmAlert]) -> list[AmAlert]:
    return sorted(alerts, key=cmp_to_key(_compare))


@dataclass
class AggrGroup:
    route: Route
    route_key: str
    labels: LabelPairs
    next_flush: float
    alerts: dict[str, AmAlert] = field(default_factory=dict)
    has_flushed: bool = False

    @property
    def key(self) -> str:
        return f"{self.route_key}:{labels_string(dict(self.labels))}"

    @property
    def receiver(self) -> str:
        return self.route.receiver


@dataclass(frozen=True, slots=True)
class Flush:
    group_key: str
    route: Route
    receiver: str
    group_labels: dict[str, str]
    alerts: tuple[AmAlert, ...]  # firing ones with ends_at 0
    at: float
    originals: tuple[AmAlert, ...] = ()  # as stored, for flushed()


class Dispatcher:
    def __init__(self, root: Route) -> None:
        self.root = root
        self._keys = route_keys(root)
        self.aggr: dict[str, AggrGroup] = {}

    def insert(self, alert: AmAlert, now: float) -> None:
        labels = alert.label_map()
        for route in match_routes(self.root, labels):
            group_labels = route.group_key_labels(labels)
            pairs: LabelPairs = tuple(sorted(group_labels.items()))
            route_key = self._keys[id(route)]
            key = f"{route_key}:{labels_string(group_labels)}"
            group = self.aggr.get(key)
            if group is None:
                group = AggrGroup(route, route_key, pairs, next_flush=now + route.group_wait_s)
                self.aggr[key] = group
            group.alerts[alert.fingerprint] = alert
            if not group.has_flushed and alert.starts_at + route.group_wait_s < now:
                group.next_flush = min(group.next_flush, now)

    def next_due(self) -> float | None:
        return min((g.next_flush for g in self.aggr.values()), default=None)

    def due(self, now: float) -> list[Flush]:
        out = []
        for key, group in self.aggr.items():
            if group.next_flush > now:
                continue
            group.next_flush = now + group.route.group_interval_s
            group.has_flushed = True
            originals = sort_alerts(list(group.alerts.values()))
            shown = tuple(a if a.resolved_at(now) else replace(a, ends_at=0.0) for a in originals)
            out.append(
                Flush(
                    group_key=key,
                    route=group.route,
                    receiver=group.receiver,
                    group_labels=dict(group.labels),
                    alerts=shown,
                    at=now,
                    originals=tuple(originals),
                )
            )
        return out

    def flushed(self, flush: Flush, now: float) -> None:
        """After a successful notification: drop the resolved alerts that did not change."""
        group = self.aggr.get(flush.group_key)
        if group is None:
            return
        for alert in flush.originals:
            if not alert.resolved_at(flush.at):
                continue
            current = group.alerts.get(alert.fingerprint)
            if current is not None and current.updated_at == alert.updated_at:
                del group.alerts[alert.fingerprint]

    def maintenance(self, now: float) -> None:
        for key in [k for k, g in self.aggr.items() if not g.alerts]:
            del self.aggr[key]

    def groups(self) -> list[AggrGroup]:
        return list(self.aggr.values())

"""Alertmanager's dispatcher: aggregation groups and their timers, as a pure state machine.

Each alert goes to the routes it matches; per route it joins the group of its `group_by`
labels. A new group flushes `group_wait` after it was created, then every
`group_interval`. An alert already older than `group_wait` joining a group that never
flushed makes the group flush at once. A flush hands out every alert of the group (firing
ones with their end zeroed, sorted as Alertmanager sorts); after a successful notification
the resolved alerts that did not change meanwhile leave the group, and maintenance drops
empty groups. Every method takes `now`; nothing here sleeps or reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cmp_to_key

from tenantwatch.alertmanager.alert import AmAlert, fingerprint, labels_string
from tenantwatch.alertmanager.routing import LabelMatcher, Route, match_routes
from tenantwatch.types import Labels

_OP_ORDER = {"=": 0, "!=": 1, "=~": 2, "!~": 3}  # labels.MatchType


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def matchers_string(matchers: Sequence[LabelMatcher]) -> str:
    """labels.Matchers.String() of matchers sorted as Alertmanager sorts a route's:
    by name, value, then type (= != =~ !~): `{a="1",b=~"x"}`."""
    ordered = sorted(matchers, key=lambda m: (m.name, m.value, _OP_ORDER[m.op]))
    return "{" + ",".join(f'{m.name}{m.op}"{_escape(m.value)}"' for m in ordered) + "}"


def route_keys(root: Route) -> dict[int, str]:
    """Route.Key() of every route in the tree (parent keys joined by '/'), by id(route)."""
    out: dict[int, str] = {}

    def walk(route: Route, parent: str | None) -> None:
        own = matchers_string(route.matchers)
        key = own if parent is None else f"{parent}/{own}"
        out[id(route)] = key
        for child in route.routes:
            walk(child, key)

    walk(root, None)
    return out


def labels_before(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """model.LabelSet.Before: fewer labels first, then the first differing pair."""
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted({*a, *b}):
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
    if labels_before(a, b):
        return -1
    if labels_before(b, a):
        return 1
    return 0


def sort_alerts(alerts: Sequence[AmAlert]) -> list[AmAlert]:
    """Alerts in Alertmanager's notification order (types.AlertSlice)."""
    return sorted(alerts, key=cmp_to_key(_compare))


@dataclass
class AggrGroup:
    """The alerts one route holds for one set of group labels, and the group's timer."""

    route: Route
    route_key: str
    labels: Labels
    next_flush: float
    alerts: dict[str, AmAlert] = field(default_factory=dict)  # by fingerprint
    has_flushed: bool = False

    @property
    def key(self) -> str:
        """The group key notifications carry: `<route key>:<group labels>`."""
        return f"{self.route_key}:{labels_string(dict(self.labels))}"

    @property
    def receiver(self) -> str:
        return self.route.receiver

    def sorted_alerts(self) -> list[AmAlert]:
        return sort_alerts(list(self.alerts.values()))


GroupId = tuple[int, str]  # (id(route), fingerprint of the group labels)


@dataclass(frozen=True, slots=True)
class Flush:
    """A group's alerts handed to the notification pipeline at `at`."""

    group_key: str
    route: Route
    receiver: str
    group_labels: dict[str, str]
    alerts: tuple[AmAlert, ...]  # sorted; firing ones with ends_at 0
    at: float
    group_id: GroupId = (0, "")


class Dispatcher:
    """Aggregation groups per route; feed it alerts, ask it what is due, tell it what was sent."""

    def __init__(self, root: Route) -> None:
        self.root = root
        self._keys = route_keys(root)
        self.aggr: dict[GroupId, AggrGroup] = {}

    def route_key(self, route: Route) -> str:
        """Route.Key() of a route of this tree."""
        return self._keys[id(route)]

    def insert(self, alert: AmAlert, now: float) -> None:
        """Put the (already merged) alert into the group of every route it matches."""
        labels = alert.label_map()
        for route in match_routes(self.root, labels):
            group_labels = route.group_key_labels(labels)
            gid: GroupId = (id(route), fingerprint(group_labels))
            group = self.aggr.get(gid)
            if group is None:
                group = AggrGroup(
                    route,
                    self._keys[id(route)],
                    tuple(sorted(group_labels.items())),
                    next_flush=now + route.group_wait_s,
                )
                self.aggr[gid] = group
            elif not group.alerts:
                _catch_up(group, now)
            group.alerts[alert.fingerprint] = alert
            if not group.has_flushed and alert.starts_at + route.group_wait_s < now:
                group.next_flush = min(group.next_flush, now)

    def next_due(self) -> float | None:
        """When the next group with alerts flushes, or None when no group has alerts."""
        return min((g.next_flush for g in self.aggr.values() if g.alerts), default=None)

    def due(self, now: float) -> list[Flush]:
        """Flush every group whose timer ran out and restart its timer (group_interval).

        Alerts still firing at `now` have their end zeroed in the flush, as Alertmanager
        does, so an alert's timeout passing during the pipeline cannot resolve it.
        """
        out: list[Flush] = []
        ready = sorted(
            (g for g in self.aggr.items() if g[1].alerts and g[1].next_flush <= now),
            key=lambda item: (item[1].next_flush, item[1].key),
        )
        for gid, group in ready:
            group.next_flush = now + group.route.group_interval_s
            group.has_flushed = True
            shown = tuple(
                a if a.resolved_at(now) else replace(a, ends_at=0.0) for a in group.sorted_alerts()
            )
            out.append(
                Flush(
                    group_key=group.key,
                    route=group.route,
                    receiver=group.receiver,
                    group_labels=dict(group.labels),
                    alerts=shown,
                    at=now,
                    group_id=gid,
                )
            )
        return out

    def flushed(self, flush: Flush, now: float) -> None:
        """After the pipeline succeeded for a flush: drop its resolved alerts that were not
        received again since."""
        group = self.aggr.get(flush.group_id)
        if group is None:
            return
        for alert in flush.alerts:
            if not alert.resolved_at(flush.at):
                continue
            current = group.alerts.get(alert.fingerprint)
            if current is not None and current.updated_at == alert.updated_at:
                del group.alerts[alert.fingerprint]

    def maintenance(self, now: float) -> None:
        """Drop the groups left without alerts (Alertmanager does so every 30 s)."""
        for gid in [gid for gid, g in self.aggr.items() if not g.alerts]:
            del self.aggr[gid]

    def groups(self) -> list[AggrGroup]:
        """Every group, ordered as Alertmanager's /api/v2/alerts/groups: by group labels
        (model.LabelSet.Before), then receiver."""

        def order(x: AggrGroup, y: AggrGroup) -> int:
            a, b = dict(x.labels), dict(y.labels)
            if a == b:
                return (x.receiver > y.receiver) - (x.receiver < y.receiver)
            return -1 if labels_before(a, b) else 1

        return sorted(self.aggr.values(), key=cmp_to_key(order))


def _catch_up(group: AggrGroup, now: float) -> None:
    """Advance an empty group's timer over the ticks it skipped (they flushed nothing),
    so it stays on its group_interval schedule."""
    if group.next_flush < now:
        step = group.route.group_interval_s
        if step > 0:
            group.next_flush += math.ceil((now - group.next_flush) / step) * step
        else:
            group.next_flush = now

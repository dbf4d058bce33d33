"""The Alertmanager config checker's route tree and inhibit rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantwatch.alertmanager.config_checker import ConfigChecker, Where
from tenantwatch.alertmanager.config_model import Receiver
from tenantwatch.alertmanager.config_spec import INHIBIT, LABEL_NAME, ROUTE_KEYS
from tenantwatch.alertmanager.config_values import scalar_problem, seconds
from tenantwatch.alertmanager.inhibition import InhibitRule, build_inhibit_rule
from tenantwatch.alertmanager.routing import (
    LabelMatcher,
    Route,
    RoutingError,
    build_route,
    parse_matchers,
)


class RouteChecks(ConfigChecker):
    """Checks `route:` and `inhibit_rules:` and builds them."""

    def _route(
        self, data: Any, receivers: Mapping[str, Receiver], intervals: Mapping[str, Any]
    ) -> Route | None:
        if data is None:
            self.issue(("route",), "no route: add one, e.g. route: {receiver: default}")
            return None
        before = len(self.issues)
        self._check_route(data, ("route",), receivers, intervals, root=True)
        if len(self.issues) > before or not isinstance(data, Mapping):
            return None
        try:
            return build_route(data)
        except RoutingError as exc:
            self.issue(("route",), str(exc))
            return None

    def _check_route(
        self,
        data: Any,
        where: Where,
        receivers: Mapping[str, Receiver],
        intervals: Mapping[str, Any],
        *,
        root: bool = False,
    ) -> None:
        if not isinstance(data, Mapping):
            self.issue(where, "a route is a mapping, e.g. {receiver: team-x, matchers: [...]}")
            return
        for key in data:
            if key not in ROUTE_KEYS:
                self._unknown((*where, key), str(key), ROUTE_KEYS)
        receiver = data.get("receiver")
        if receiver is not None and not isinstance(receiver, str):
            self.issue((*where, "receiver"), "receiver must be a receiver's name")
        elif receiver and receiver not in receivers:
            self.issue(
                (*where, "receiver"),
                f"undefined receiver {receiver!r} used in route; define it under receivers:",
            )
        if root:
            if not receiver:
                self.issue(where, "the root route must name a default receiver")
            for key in ("match", "match_re", "matchers"):
                if data.get(key):
                    self.issue(
                        (*where, key),
                        "the root route matches every alert; put matchers on a child route",
                    )
            for key in ("mute_time_intervals", "active_time_intervals"):
                if data.get(key):
                    self.issue((*where, key), f"the root route must not have {key}")
            if data.get("continue"):
                self.issue((*where, "continue"), "the root route cannot have continue")
        self._route_values(data, where, intervals)
        routes = data.get("routes")
        if routes is not None and not isinstance(routes, list):
            self.issue((*where, "routes"), "routes must be a list of routes")
        elif routes:
            for i, child in enumerate(routes):
                self._check_route(child, (*where, "routes", i), receivers, intervals)

    def _route_values(
        self, data: Mapping[str, Any], where: Where, intervals: Mapping[str, Any]
    ) -> None:
        if "continue" in data and not isinstance(data["continue"], bool):
            self.issue((*where, "continue"), "continue must be true or false")
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if key in data:
                problem = scalar_problem(data[key], "duration", key)
                if problem is not None:
                    self.issue((*where, key), problem)
                elif key != "group_wait" and seconds(str(data[key])) == 0:
                    self.issue((*where, key), f"{key} cannot be zero")
        group_by = data.get("group_by")
        if group_by is not None:
            if not isinstance(group_by, list):
                self.issue((*where, "group_by"), "group_by must be a list of label names")
            else:
                self._group_by(group_by, (*where, "group_by"))
        for key, op in (("match", "="), ("match_re", "=~")):
            self._match_map(data.get(key), (*where, key), op)
        matchers = data.get("matchers")
        self._matchers(matchers, (*where, "matchers"))
        for key in ("mute_time_intervals", "active_time_intervals"):
            names = data.get(key)
            if names is None:
                continue
            if not isinstance(names, list):
                self.issue((*where, key), f"{key} must be a list of time interval names")
                continue
            for i, name in enumerate(names):
                if name not in intervals:
                    self.issue(
                        (*where, key, i),
                        f"undefined time interval {name!r} used in route; define it under "
                        "time_intervals:",
                    )

    def _group_by(self, names: list[Any], where: Where) -> None:
        seen: set[str] = set()
        for i, name in enumerate(names):
            text = str(name)
            if text != "..." and not LABEL_NAME.fullmatch(text):
                self.issue((*where, i), f"invalid label name {text!r} in group_by")
            if text in seen:
                self.issue((*where, i), f"duplicated label {text!r} in group_by")
            seen.add(text)
        if "..." in seen and len(seen) > 1:
            self.issue(where, "group_by ['...'] groups by all labels; list nothing else with it")

    def _match_map(self, value: Any, where: Where, op: str) -> None:
        if value is None:
            return
        if not isinstance(value, Mapping):
            self.issue(where, f"{where[-1]} must map label names to values")
            return
        for name, v in value.items():
            if not LABEL_NAME.fullmatch(str(name)):
                self.issue((*where, name), f"invalid label name {name!r}")
                continue
            try:
                LabelMatcher.of(str(name), op, "" if v is None else str(v))
            except RoutingError as exc:
                self.issue((*where, name), str(exc))

    def _matchers(self, value: Any, where: Where) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            self.issue(where, f"{where[-1]} must be a list such as ['severity=\"critical\"']")
            return
        for i, item in enumerate(value):
            try:
                parse_matchers([str(item)])
            except RoutingError as exc:
                self.issue((*where, i), str(exc))

    def _inhibit(self, items: Any) -> list[InhibitRule]:
        out: list[InhibitRule] = []
        if items is None:
            return out
        if not isinstance(items, list):
            self.issue(("inhibit_rules",), "inhibit_rules must be a list")
            return out
        for i, item in enumerate(items):
            where: Where = ("inhibit_rules", i)
            before = len(self.issues)
            self.check(item, INHIBIT, where)
            if not isinstance(item, Mapping):
                continue
            for side in ("source", "target"):
                self._match_map(item.get(f"{side}_match"), (*where, f"{side}_match"), "=")
                self._match_map(item.get(f"{side}_match_re"), (*where, f"{side}_match_re"), "=~")
                self._matchers(item.get(f"{side}_matchers"), (*where, f"{side}_matchers"))
            for j, name in enumerate(item.get("equal") or []):
                if not LABEL_NAME.fullmatch(str(name)):
                    self.issue((*where, "equal", j), f"invalid label name {name!r} in equal")
            if len(self.issues) == before:
                try:
                    out.append(build_inhibit_rule(item, f"inhibit_rules[{i}]"))
                except RoutingError as exc:
                    self.issue(where, str(exc))
        return out

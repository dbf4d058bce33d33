"""Alertmanager's route tree: which receivers (and group settings) an alert goes to.

A route matches an alert when all its matchers do (`matchers:` in Alertmanager's syntax,
or the older `match:` / `match_re:`). Routing starts at the root, which matches every
alert, and descends depth-first: the first child that matches takes the alert, unless it
has `continue: true`, in which case later siblings are tried too. A route none of whose
children matched is itself a destination. Children inherit receiver, group_by and the
timers they do not set. `group_by: ['...']` groups by all labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tenantwatch.domain.durations import parse_duration
from tenantwatch.gotext.regex import GoRegex, RegexError

_MATCHER = re.compile(
    r'^\s*([a-zA-Z_][a-zA-Z0-9_]*|"(?:[^"\\]|\\.)*")\s*(=~|!~|!=|=)\s*(.*?)\s*$', re.DOTALL
)
DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0


class RoutingError(ValueError):
    """A route or matcher that cannot be used; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    name: str
    op: str  # = != =~ !~
    value: str
    _regex: GoRegex | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, name: str, op: str, value: str) -> LabelMatcher:
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = GoRegex(value, dot_nl=False)  # Alertmanager's ^(?:value)$
            except RegexError as exc:
                raise RoutingError(f"invalid regular expression {value!r}: {exc}") from None
        return cls(name, op, value, regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        have = labels.get(self.name, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        assert self._regex is not None
        hit = self._regex.matches(have)
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        body = text[1:-1]
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)
    return text


def parse_matcher(text: str) -> LabelMatcher:
    """One matcher in Alertmanager's syntax: name="value", name!~"regex", name=value."""
    m = _MATCHER.match(text)
    if m is None:
        raise RoutingError(
            f'bad matcher {text!r}; write name="value" (or !=, =~, !~), e.g. severity="critical"'
        )
    name, op, value = m.groups()
    return LabelMatcher.of(_unquote(name), op, _unquote(value))


def parse_matchers(items: Sequence[str]) -> tuple[LabelMatcher, ...]:
    """A `matchers:` list; an item may also be `{a="1", b=~"2"}` or comma-separated."""
    out: list[LabelMatcher] = []
    for item in items:
        text = item.strip()
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1]
        for part in _split_commas(text):
            if part.strip():
                out.append(parse_matcher(part))
    return tuple(out)


def _split_commas(text: str) -> list[str]:
    parts, current, quoted, escaped = [], [], False, False
    for c in text:
        if escaped:
            current.append(c)
            escaped = False
        elif c == "\\":
            current.append(c)
            escaped = True
        elif c == '"':
            quoted = not quoted
            current.append(c)
        elif c == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True, slots=True)
class Route:
    """A node of the tree with its settings resolved (inherited where not set)."""

    receiver: str
    matchers: tuple[LabelMatcher, ...] = ()
    group_by: tuple[str, ...] = ()
    group_by_all: bool = False
    group_wait_s: float = DEFAULT_GROUP_WAIT
    group_interval_s: float = DEFAULT_GROUP_INTERVAL
    repeat_interval_s: float = DEFAULT_REPEAT_INTERVAL
    continue_: bool = False
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()
    path: str = "route"

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def group_key_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.group_by_all:
            return dict(labels)
        return {k: labels[k] for k in self.group_by if k in labels}


def match_routes(root: Route, labels: Mapping[str, str]) -> list[Route]:
    """The routes an alert goes to, in order (Alertmanager's Route.Match)."""
    if not root.matches(labels):
        return []
    found: list[Route] = []
    for child in root.routes:
        hits = match_routes(child, labels)
        found.extend(hits)
        if hits and not child.continue_:
            break
    return found or [root]


def receivers_of(root: Route, labels: Mapping[str, str]) -> list[str]:
    """The names of the receivers an alert goes to, sorted."""
    return sorted({r.receiver for r in match_routes(root, labels)})


def _seconds(value: Any, where: str, what: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        raise RoutingError(f"{where}.{what} must be a duration such as '30s' or '4h'")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise RoutingError(f"{where}.{what}: {exc}") from None


_ROUTE_KEYS = {
    "receiver",
    "group_by",
    "continue",
    "match",
    "match_re",
    "matchers",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "mute_time_intervals",
    "active_time_intervals",
    "routes",
}


def build_route(data: Mapping[str, Any], parent: Route | None = None, path: str = "route") -> Route:
    """A route from its YAML mapping, inheriting the parent's settings (root: defaults)."""
    unknown = sorted(set(data) - _ROUTE_KEYS)
    if unknown:
        raise RoutingError(f"{path}: unknown field {unknown[0]!r}")
    receiver = data.get("receiver") or (parent.receiver if parent else "")
    if not receiver:
        raise RoutingError(f"{path}: the root route needs a receiver")
    matchers: list[LabelMatcher] = []
    if parent is None and (data.get("match") or data.get("match_re") or data.get("matchers")):
        raise RoutingError(f"{path}: the root route must not have matchers")
    for name, value in (data.get("match") or {}).items():
        matchers.append(LabelMatcher.of(str(name), "=", str(value)))
    for name, value in (data.get("match_re") or {}).items():
        # Alertmanager anchors match_re values, and its route keys show them anchored
        matchers.append(LabelMatcher.of(str(name), "=~", f"^(?:{value})$"))
    matchers.extend(parse_matchers([str(m) for m in data.get("matchers") or []]))
    group_by_raw = data.get("group_by")
    if not group_by_raw:  # unset or empty: the parent's grouping, as in Alertmanager
        group_by = parent.group_by if parent else ()
        group_all = parent.group_by_all if parent else False
    else:
        names = [str(n) for n in group_by_raw]
        group_all = "..." in names
        if group_all and len(names) > 1:
            raise RoutingError(f"{path}.group_by: '...' groups by all labels; list it alone")
        group_by = () if group_all else tuple(names)
    inherited = parent or Route(receiver=receiver)
    route = Route(
        receiver=str(receiver),
        matchers=tuple(matchers),
        group_by=group_by,
        group_by_all=group_all,
        group_wait_s=_seconds(data["group_wait"], path, "group_wait")
        if "group_wait" in data
        else inherited.group_wait_s,
        group_interval_s=_seconds(data["group_interval"], path, "group_interval")
        if "group_interval" in data
        else inherited.group_interval_s,
        repeat_interval_s=_seconds(data["repeat_interval"], path, "repeat_interval")
        if "repeat_interval" in data
        else inherited.repeat_interval_s,
        continue_=bool(data.get("continue", False)),
        mute_time_intervals=tuple(str(x) for x in data.get("mute_time_intervals") or []),
        active_time_intervals=tuple(str(x) for x in data.get("active_time_intervals") or []),
        path=path,
    )
    children = tuple(
        build_route(child, route, f"{path}.routes[{i}]")
        for i, child in enumerate(data.get("routes") or [])
    )
    return Route(**{**_fields(route), "routes": children})


def _fields(route: Route) -> dict[str, Any]:
    return {name: getattr(route, name) for name in Route.__dataclass_fields__}

"""Alertmanager's inhibit rules: a firing source alert mutes matching target alerts.

A target alert is inhibited when some *other* firing alert matches the rule's source
matchers, the target matches its target matchers, and both carry the same values for
every label in `equal` (a label missing on both counts as equal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tenantwatch.domain.routing import LabelMatcher, RoutingError, parse_matchers

Labels = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source: tuple[LabelMatcher, ...]
    target: tuple[LabelMatcher, ...]
    equal: tuple[str, ...] = ()

    def inhibits(self, target: Labels, firing: Iterable[Labels]) -> bool:
        if not all(m.matches(target) for m in self.target):
            return False
        for source in firing:
            if source is target or dict(source) == dict(target):
                continue
            if not all(m.matches(source) for m in self.source):
                continue
            if all(source.get(n, "") == target.get(n, "") for n in self.equal):
                return True
        return False


def build_inhibit_rule(data: Mapping[str, Any], where: str = "inhibit_rules") -> InhibitRule:
    """From YAML: source_matchers/target_matchers, or the older source_match(_re)/target_match(_re)."""
    sides: dict[str, list[LabelMatcher]] = {"source": [], "target": []}
    for side in sides:
        for name, value in (data.get(f"{side}_match") or {}).items():
            sides[side].append(LabelMatcher.of(str(name), "=", str(value)))
        for name, value in (data.get(f"{side}_match_re") or {}).items():
            sides[side].append(LabelMatcher.of(str(name), "=~", str(value)))
        sides[side].extend(parse_matchers([str(m) for m in data.get(f"{side}_matchers") or []]))
    equal = data.get("equal") or []
    if not isinstance(equal, list):
        raise RoutingError(f"{where}.equal must be a list of label names")
    return InhibitRule(tuple(sides["source"]), tuple(sides["target"]), tuple(map(str, equal)))


def inhibited(target: Labels, firing: Sequence[Labels], rules: Sequence[InhibitRule]) -> bool:
    """Whether any rule mutes the target, given the alerts firing now."""
    return any(rule.inhibits(target, firing) for rule in rules)

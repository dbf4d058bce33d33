"""Alertmanager's inhibit rules: a firing source alert mutes matching target alerts.

A target alert is inhibited when some *other* firing alert matches the rule's source
matchers, the target matches its target matchers, and both carry the same values for
every label in `equal` (a label missing on both counts as equal). An alert matching both
sides cannot be inhibited by alerts that also match both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tenantwatch.alertmanager.routing import LabelMatcher, RoutingError, parse_matchers
from tenantwatch.types import LabelMap


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source: tuple[LabelMatcher, ...]
    target: tuple[LabelMatcher, ...]
    equal: tuple[str, ...] = ()

    def inhibits(self, target: LabelMap, firing: Iterable[LabelMap]) -> bool:
        return next(iter(self.sources(target, firing)), None) is not None

    def sources(self, target: LabelMap, firing: Iterable[LabelMap]) -> Iterable[LabelMap]:
        """The firing alerts that mute the target under this rule (Inhibitor.Mutes).

        When the target matches the source matchers too, sources that also match the
        target matchers do not count: an alert cannot inhibit itself or its peers.
        """
        if not all(m.matches(target) for m in self.target):
            return
        two_sided = all(m.matches(target) for m in self.source)
        for source in firing:
            if not all(m.matches(source) for m in self.source):
                continue
            if any(source.get(n, "") != target.get(n, "") for n in self.equal):
                continue
            if two_sided and all(m.matches(source) for m in self.target):
                continue
            yield source


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


def inhibited(target: LabelMap, firing: Sequence[LabelMap], rules: Sequence[InhibitRule]) -> bool:
    """Whether any rule mutes the target, given the alerts firing now."""
    return any(rule.inhibits(target, firing) for rule in rules)

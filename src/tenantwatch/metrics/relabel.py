"""Prometheus' relabelling (`relabel_configs`, `metric_relabel_configs`): the rules, checked
as Prometheus checks them, and applied to a label set as model/relabel does.

Each rule joins its source labels' values with `separator` and then, by `action`:
replace (write the expanded `replacement` to the expanded `target_label` when `regex`
matches), keep / drop (the label set when the value matches or not), keepequal /
dropequal (when the value equals `target_label`'s), hashmod (the MD5 of the value modulo
`modulus`), labelmap (copy labels whose names match, renamed), labeldrop / labelkeep
(remove labels by name), lowercase / uppercase. Regexes are RE2, anchored at both ends.
A label set to the empty value is removed, as in Prometheus.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tenantwatch.gotext.regex import GoRegex, RegexError, expand
from tenantwatch.types import is_label_name

ACTIONS = (
    "replace",
    "keep",
    "drop",
    "keepequal",
    "dropequal",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
)
DEFAULT_SEPARATOR = ";"
DEFAULT_REGEX = "(.*)"
DEFAULT_REPLACEMENT = "$1"

# a target label or labelmap replacement: label-name characters and $1 / ${name} references
_TARGET = re.compile(r"(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+", re.ASCII)
_WRITES = ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal")


class RelabelError(ValueError):
    """A relabel rule Prometheus would refuse; the message says why."""


@dataclass(frozen=True, slots=True)
class RelabelRule:
    action: str
    source_labels: tuple[str, ...]
    separator: str
    regex: GoRegex
    modulus: int
    target_label: str
    replacement: str


def parse_rule(data: Mapping[str, Any]) -> RelabelRule:
    """One `relabel_config` mapping as a rule, with Prometheus' defaults; raise
    RelabelError with Prometheus' reason when it would refuse it."""
    action = str(data.get("action", "replace")).lower()
    if action not in ACTIONS:
        raise RelabelError(f"unknown relabel action {action!r}; use one of {', '.join(ACTIONS)}")
    regex_text = str(data.get("regex", DEFAULT_REGEX))
    try:
        regex = GoRegex(regex_text, dot_nl=False)
    except RegexError as exc:
        raise RelabelError(f"invalid regex {regex_text!r}: {exc}") from None
    rule = RelabelRule(
        action=action,
        source_labels=tuple(str(s) for s in data.get("source_labels") or ()),
        separator=str(data.get("separator", DEFAULT_SEPARATOR)),
        regex=regex,
        modulus=int(data.get("modulus", 0)),
        target_label=str(data.get("target_label", "")),
        replacement=str(data.get("replacement", DEFAULT_REPLACEMENT)),
    )
    problem = rule_problem(rule)
    if problem:
        raise RelabelError(problem)
    return rule


def rule_problem(r: RelabelRule) -> str | None:
    """Why Prometheus' Config.Validate refuses the rule, or None."""
    a, target = r.action, r.target_label
    if a == "hashmod" and r.modulus == 0:
        return "relabel configuration for hashmod requires non-zero modulus"
    if a in _WRITES and not target:
        return f"relabel configuration for {a} action requires 'target_label' value"
    if a in ("replace", "lowercase", "uppercase") and not _TARGET.fullmatch(target):
        return f"{target!r} is invalid 'target_label' for {a} action"
    if a in ("lowercase", "uppercase", "keepequal", "dropequal", "hashmod") and not (
        is_label_name(target)
    ):
        return f"{target!r} is invalid 'target_label' for {a} action"
    if a in ("lowercase", "uppercase") and r.replacement != DEFAULT_REPLACEMENT:
        return f"'replacement' can not be set for {a} action"
    if a == "labelmap" and not _TARGET.fullmatch(r.replacement):
        return f"{r.replacement!r} is invalid 'replacement' for {a} action"
    if a in ("keepequal", "dropequal") and (
        r.regex.pattern != DEFAULT_REGEX
        or r.modulus != 0
        or r.separator != DEFAULT_SEPARATOR
        or r.replacement != DEFAULT_REPLACEMENT
    ):
        return f"{a} action requires only 'source_labels' and `target_label`, and no other fields"
    if a in ("labeldrop", "labelkeep") and (
        r.source_labels
        or target
        or r.modulus != 0
        or r.separator != DEFAULT_SEPARATOR
        or r.replacement != DEFAULT_REPLACEMENT
    ):
        return f"{a} action requires only 'regex', and no other fields"
    return None


def relabel(labels: Mapping[str, str], rules: Sequence[RelabelRule]) -> dict[str, str] | None:
    """The label set after the rules, or None when a rule drops it."""
    out = dict(labels)
    for rule in rules:
        if not _apply(out, rule):
            return None
    return out


def _set(labels: dict[str, str], name: str, value: str) -> None:
    if value:
        labels[name] = value
    else:
        labels.pop(name, None)


def _apply(labels: dict[str, str], r: RelabelRule) -> bool:
    """Apply one rule in place; return False when it drops the label set."""
    value = r.separator.join(labels.get(name, "") for name in r.source_labels)
    a = r.action
    if a == "drop":
        return not r.regex.matches(value)
    if a == "keep":
        return r.regex.matches(value)
    if a == "dropequal":
        return labels.get(r.target_label, "") != value
    if a == "keepequal":
        return labels.get(r.target_label, "") == value
    if a == "replace":
        m = r.regex.fullmatch(value)
        if m is None:
            return True
        target = expand(r.target_label, m)
        if not is_label_name(target):
            return True
        _set(labels, target, expand(r.replacement, m))
    elif a == "lowercase":
        _set(labels, r.target_label, value.lower())
    elif a == "uppercase":
        _set(labels, r.target_label, value.upper())
    elif a == "hashmod":
        digest = hashlib.md5(value.encode(), usedforsecurity=False).digest()
        _set(labels, r.target_label, str(int.from_bytes(digest[8:], "big") % r.modulus))
    elif a == "labelmap":
        for name, v in list(labels.items()):
            m = r.regex.fullmatch(name)
            if m is not None:
                _set(labels, expand(r.replacement, m), v)
    elif a == "labeldrop":
        for name in [n for n in labels if r.regex.matches(n)]:
            del labels[name]
    elif a == "labelkeep":
        for name in [n for n in labels if not r.regex.matches(n)]:
            del labels[name]
    return True

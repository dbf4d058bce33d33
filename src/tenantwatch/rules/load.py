"""Find and load the rule files tenantwatch.yml names, plus the built-in rule pack."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tenantwatch.config.errors import ConfigError, ConfigIssue
from tenantwatch.config.yaml_lines import LineMap, issue_at
from tenantwatch.rules.files import RuleGroup, load_rule_file

BUILTIN_RULES = Path(__file__).resolve().parent / "builtin.yml"


def rule_file_paths(patterns: Sequence[str], base: Path) -> list[Path]:
    """Every file the patterns match (relative to base), in order, each once."""
    out: list[Path] = []
    for pattern in patterns:
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        for match in sorted(glob.glob(full)) or ([full] if not glob.has_magic(full) else []):
            path = Path(match)
            if path not in out:
                out.append(path)
    return out


def load_rule_groups(patterns: Sequence[str], base: Path) -> list[RuleGroup]:
    """The groups of every rule file; raise ConfigError with every problem (file:line)."""
    groups: list[RuleGroup] = []
    issues: list[ConfigIssue] = []
    for path in rule_file_paths(patterns, base):
        try:
            groups.extend(load_rule_file(path).groups)
        except ConfigError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ConfigError(issues)
    return groups


def builtin_groups(user_groups: Sequence[RuleGroup]) -> list[RuleGroup]:
    """The built-in pack without the alerts the user's rules redefine."""
    taken = {r.alert for g in user_groups for r in g.rules if r.alert}
    out = []
    for group in load_rule_file(BUILTIN_RULES).groups:
        rules = tuple(r for r in group.rules if r.alert not in taken)
        if rules:
            out.append(replace(group, rules=rules))
    return out


def rule_files_issues(data: dict[str, Any], file: str, lines: LineMap) -> list[ConfigIssue]:
    """Problems in the rule files tenantwatch.yml names, each at its own file:line."""
    patterns = data.get("rule_files")
    if not isinstance(patterns, list):
        return []
    base = Path(file).parent
    issues: list[ConfigIssue] = []
    for i, pattern in enumerate(patterns):
        if not isinstance(pattern, str):
            continue
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        if glob.has_magic(full):
            continue  # a glob that matches nothing is fine, as in Prometheus
        if not Path(full).exists():
            issues.append(
                issue_at(
                    file,
                    lines,
                    ("rule_files", i),
                    f"rule file {pattern!r} not found (looked in {full}); paths are relative "
                    "to this file",
                )
            )
    try:
        load_rule_groups([p for p in patterns if isinstance(p, str)], base)
    except ConfigError as exc:
        issues.extend(i for i in exc.issues if "file not found" not in i.message)
    return issues

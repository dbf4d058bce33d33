"""Read and validate tenantwatch.yml's own shape, reporting every problem as file:line: message.

The files it names (rule files, an Alertmanager config) are checked by the wings that read
them, passed in as `checks`; tenantwatch.configuration composes the two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tenantwatch.config.checks_issues import checks_issues
from tenantwatch.config.checks_model import KIND_MODELS
from tenantwatch.config.errors import ConfigError, ConfigIssue, read_text
from tenantwatch.config.metrics_checks import metrics_issues, scrape_issues
from tenantwatch.config.model import Config
from tenantwatch.config.yaml_lines import LineMap, issue_at, load_yaml
from tenantwatch.domain.tiers import BUILTIN_TIERS

SectionCheck = Callable[[dict[str, Any], str, LineMap], list[ConfigIssue]]
"""A check run on the raw data of tenantwatch.yml (data, file, lines), even when other parts
fail validation: the problems it finds, each at its own file:line."""


def load_config(path: Path, env: Mapping[str, str], checks: Sequence[SectionCheck]) -> Config:
    """Return the validated config in path, with checks run on it too. Raise ConfigError
    listing every problem. (tenantwatch.configuration passes the wings' checks.)"""
    return parse_config(read_text(path), str(path), env, checks)


def parse_config(
    text: str, file: str, env: Mapping[str, str], checks: Sequence[SectionCheck]
) -> Config:
    """Return the validated config in text. Raise ConfigError listing every problem."""
    data, lines, issues = load_yaml(text, file, env)
    if data is None and issues:
        raise ConfigError(issues)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [*issues, ConfigIssue(file, 1, "the config must be a mapping of sections")]
        )
    # a value that already failed (an unset ${VAR}) is not reported again as a wrong type
    flagged = {issue.line for issue in issues}
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        issues += [i for i in _issues_from(exc, file, lines) if i.line not in flagged]
    issues += _cross_checks(data, file, lines)
    for check in checks:
        issues += check(data, file, lines)
    if issues or config is None:
        raise ConfigError(issues)
    return config


def _without_tags(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop the parts of an error location that are not keys in the file: pydantic's
    union member names and the kind tag of a check (checks.0.http.url -> checks.0.url)."""
    out = tuple(p for p in loc if not (isinstance(p, str) and "[" in p))
    if len(out) > 2 and out[0] == "checks" and out[2] in KIND_MODELS:
        out = out[:2] + out[3:]
    return out


def _issues_from(exc: ValidationError, file: str, lines: LineMap) -> list[ConfigIssue]:
    out = []
    for err in exc.errors():
        loc = _without_tags(err["loc"])
        where = ".".join(str(p) for p in loc) or "top level"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}; check its spelling and indentation"
        elif err["type"] == "missing":
            msg = f"missing required key {loc[-1]!r}"
        else:
            msg = f"{where}: {msg}"
        out.append(issue_at(file, lines, loc, msg))
    return out


def _cross_checks(data: dict[str, Any], file: str, lines: LineMap) -> list[ConfigIssue]:
    """Check what spans entries (tier references, unique ids, scrape jobs) on the raw data,
    so these problems are reported even when other parts of the file fail validation."""
    issues = []
    tiers = data.get("tiers")
    known = set(BUILTIN_TIERS) | (set(tiers) if isinstance(tiers, dict) else set())
    tenants = data.get("tenants")
    seen: set[str] = set()
    for i, tenant in enumerate(tenants if isinstance(tenants, list) else []):
        if not isinstance(tenant, dict):
            continue
        tid, tier = tenant.get("id"), tenant.get("tier")
        if isinstance(tier, str) and tier not in known:
            issues.append(
                issue_at(
                    file,
                    lines,
                    ("tenants", i, "tier"),
                    f"tenant {tid!r}: unknown tier {tier!r}; "
                    f"use one of {', '.join(sorted(known))} or declare it under 'tiers:'",
                )
            )
        if isinstance(tid, str):
            if tid in seen:
                issues.append(
                    issue_at(
                        file,
                        lines,
                        ("tenants", i, "id"),
                        f"duplicate tenant id {tid!r}; each tenant is declared once",
                    )
                )
            seen.add(tid)
    issues += metrics_issues(data, file, lines)
    issues += scrape_issues(data, file, lines, seen)
    issues += checks_issues(data, file, lines, seen)
    return issues

"""Read and validate tenantwatch.yml, reporting every problem as file:line: message."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from tenantwatch.config.errors import ConfigError, ConfigIssue
from tenantwatch.config.model import Config
from tenantwatch.config.yaml_lines import LineMap, load_yaml
from tenantwatch.domain.tiers import BUILTIN_TIERS


def load_config(path: Path, env: Mapping[str, str]) -> Config:
    """Return the validated config in path. Raise ConfigError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(str(path), 0, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(str(path), 0, f"cannot read file: {exc}")]) from None
    return parse_config(text, str(path), env)


def parse_config(text: str, file: str, env: Mapping[str, str]) -> Config:
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
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([*issues, *_issues_from(exc, file, lines)]) from None
    issues += _cross_checks(config, file, lines)
    if issues:
        raise ConfigError(issues)
    return config


def _issues_from(exc: ValidationError, file: str, lines: LineMap) -> list[ConfigIssue]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        where = ".".join(str(p) for p in loc) or "top level"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}; check its spelling and indentation"
        elif err["type"] == "missing":
            msg = f"missing required key {loc[-1]!r}"
        else:
            msg = f"{where}: {msg}"
        out.append(ConfigIssue(file, lines.line_of(loc), msg))
    return out


def _cross_checks(config: Config, file: str, lines: LineMap) -> list[ConfigIssue]:
    issues = []
    known = set(BUILTIN_TIERS) | set(config.tiers)
    seen: set[str] = set()
    for i, tenant in enumerate(config.tenants):
        if tenant.tier not in known:
            issues.append(
                ConfigIssue(
                    file,
                    lines.line_of(("tenants", i, "tier")),
                    f"tenant {tenant.id!r}: unknown tier {tenant.tier!r}; "
                    f"use one of {', '.join(sorted(known))} or declare it under 'tiers:'",
                )
            )
        if tenant.id in seen:
            issues.append(
                ConfigIssue(
                    file,
                    lines.line_of(("tenants", i, "id")),
                    f"duplicate tenant id {tenant.id!r}; each tenant is declared once",
                )
            )
        seen.add(tenant.id)
    return issues

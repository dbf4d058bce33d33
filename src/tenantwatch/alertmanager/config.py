"""Alertmanager's configuration file, loaded with every problem at file:line.

Accepted as Alertmanager 0.25 reads it (unknown fields are errors, as its strict YAML
decoding makes them): `global`, `route`, `receivers`, `inhibit_rules`, `time_intervals` /
`mute_time_intervals` and `templates`. Receivers may use webhook_configs, slack_configs,
email_configs and pagerduty_configs as in Alertmanager, msteams_configs as later
Alertmanager versions define them, and tenantwatch's twilio_configs and apprise_configs.
Global defaults are applied as Alertmanager applies them (http_config, Slack's api_url,
SMTP settings, PagerDuty's url), and send_resolved defaults per kind as there.

Beyond Alertmanager: seed 000's email `subject:` and `body:` are accepted (they become the
Subject header and the text body); a receiver template that does not parse or calls a
template nobody defines is an error here rather than a failed notification later; months
outside 1..12 are refused; `*_file` secrets are read when the config loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from tenantwatch.alertmanager.config_loader import ConfigLoader
from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.alertmanager.routing import LabelMatcher, Route, RoutingError, build_route
from tenantwatch.config.errors import ConfigError, ConfigIssue
from tenantwatch.config.yaml_lines import load_yaml


def load_alertmanager_config(path: Path) -> AlertmanagerConfig:
    """Load an Alertmanager configuration file; raise ConfigError listing every problem.

    Template globs and `*_file` paths are relative to the file's directory."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(path), 0, f"cannot read file: {exc}")]) from None
    return parse_alertmanager_config(text, str(path), base=path.parent)


def parse_alertmanager_config(text: str, file: str, base: Path | None = None) -> AlertmanagerConfig:
    """Parse an Alertmanager configuration; raise ConfigError listing every problem."""
    data, lines, issues = load_yaml(text, file, None)
    if data is None and issues:
        raise ConfigError(issues)
    if not isinstance(data, Mapping):
        raise ConfigError([*issues, ConfigIssue(file, 1, "the configuration must be a mapping")])
    loader = ConfigLoader(file, lines, base)
    config = loader.load(data)
    if issues or loader.issues or config is None:
        raise ConfigError([*issues, *loader.issues])
    return config


def config_from_mapping(data: Mapping[str, Any], file: str) -> AlertmanagerConfig:
    """An inline configuration (tenantwatch.yml's alertmanager.config)."""
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    return parse_alertmanager_config(text, file)


def with_tenant_routes(
    config: AlertmanagerConfig,
    routes: Mapping[str, Mapping[str, Any]],
    file: str = "tenantwatch.yml",
) -> AlertmanagerConfig:
    """Put each tenant's route subtree first under the root, matched on tenant="<id>"
    (besides its own matchers) and inheriting the root's settings."""
    if not routes:
        return config
    root = config.route
    children: list[Route] = []
    issues: list[ConfigIssue] = []
    for tenant, subtree in routes.items():
        where = f"tenant_routes.{tenant}"
        try:
            child = build_route(dict(subtree), root, where)
        except RoutingError as exc:
            issues.append(ConfigIssue(file, 0, str(exc)))
            continue
        for route in _walk(child):
            if route.receiver not in config.receivers:
                issues.append(
                    ConfigIssue(file, 0, f"{route.path}: undefined receiver {route.receiver!r}")
                )
            for name in (*route.mute_time_intervals, *route.active_time_intervals):
                if name not in config.time_intervals:
                    issues.append(
                        ConfigIssue(file, 0, f"{route.path}: undefined time interval {name!r}")
                    )
        matcher = LabelMatcher.of("tenant", "=", str(tenant))
        children.append(replace(child, matchers=(matcher, *child.matchers)))
    if issues:
        raise ConfigError(issues)
    return replace(
        config,
        route=replace(root, routes=(*children, *root.routes)),
        tenant_routes={str(k): dict(v) for k, v in routes.items()},
    )


def _walk(route: Route) -> list[Route]:
    out = [route]
    for child in route.routes:
        out.extend(_walk(child))
    return out

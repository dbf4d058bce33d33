"""Alertmanager's configuration file, loaded with every problem at file:line.

Accepted as Alertmanager 0.25 writes it: `global`, `route`, `receivers`, `inhibit_rules`,
`time_intervals` / `mute_time_intervals` and `templates`. Receivers may use
webhook_configs, slack_configs, email_configs, pagerduty_configs and msteams_configs as in
Alertmanager, plus tenantwatch's twilio_configs and apprise_configs. Global defaults are
applied as Alertmanager applies them (Slack's api_url, SMTP settings, PagerDuty's url), and
send_resolved defaults per kind as there. Beyond Alertmanager, seed 000's email `subject:`
and `body:` are accepted (as the Subject header and the text body), and a template a
receiver names but nobody defines is an error here, not a dropped notification later.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from tenantwatch.config.errors import ConfigError, ConfigIssue
from tenantwatch.config.yaml_lines import LineMap, load_yaml
from tenantwatch.domain.am_templates import TemplateSet
from tenantwatch.domain.durations import parse_duration
from tenantwatch.domain.gotemplate import TemplateError
from tenantwatch.domain.inhibition import InhibitRule, build_inhibit_rule
from tenantwatch.domain.routing import LabelMatcher, Route, RoutingError, build_route
from tenantwatch.domain.time_intervals import TimeInterval, parse_time_interval

KINDS = {
    "webhook_configs": ("webhook", True),
    "slack_configs": ("slack", False),
    "email_configs": ("email", False),
    "pagerduty_configs": ("pagerduty", True),
    "msteams_configs": ("msteams", True),
    "twilio_configs": ("twilio", False),
    "apprise_configs": ("apprise", False),
}
UNSUPPORTED = {
    "opsgenie_configs",
    "victorops_configs",
    "pushover_configs",
    "sns_configs",
    "telegram_configs",
    "webex_configs",
    "wechat_configs",
    "discord_configs",
}
TOP_KEYS = {
    "global",
    "route",
    "receivers",
    "inhibit_rules",
    "time_intervals",
    "mute_time_intervals",
    "templates",
}
GLOBAL_KEYS = {
    "resolve_timeout",
    "http_config",
    "smtp_from",
    "smtp_hello",
    "smtp_smarthost",
    "smtp_auth_username",
    "smtp_auth_password",
    "smtp_auth_password_file",
    "smtp_auth_secret",
    "smtp_auth_identity",
    "smtp_require_tls",
    "slack_api_url",
    "slack_api_url_file",
    "pagerduty_url",
    "opsgenie_api_url",
    "opsgenie_api_key",
    "wechat_api_url",
    "victorops_api_url",
    "telegram_api_url",
    "webex_api_url",
}
SECRET_KEYS = re.compile(
    r"(password|secret|token|routing_key|service_key|api_key|api_url|webhook_url|auth_token"
    r"|credentials|url$|urls$)"
)


@dataclass(frozen=True, slots=True)
class Integration:
    kind: str
    index: int
    send_resolved: bool
    settings: Mapping[str, Any]

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.index}"


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    integrations: tuple[Integration, ...]


@dataclass(frozen=True)
class AlertmanagerConfig:
    route: Route
    receivers: dict[str, Receiver]
    inhibit_rules: tuple[InhibitRule, ...] = ()
    time_intervals: dict[str, tuple[TimeInterval, ...]] = field(default_factory=dict)
    templates: TemplateSet = field(default_factory=TemplateSet)
    resolve_timeout_s: float = 300.0
    raw: Mapping[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The configuration with every secret shown as <secret> (Alertmanager's habit)."""
        masked: dict[str, Any] = _mask(self.raw)
        return masked


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key) for v in value]
    if key and SECRET_KEYS.search(key) and isinstance(value, str) and value:
        return "<secret>"
    return value


def default_config() -> AlertmanagerConfig:
    """No configuration: every alert goes to a receiver that sends nothing."""
    return AlertmanagerConfig(
        route=build_route({"receiver": "default", "group_by": ["alertname", "tenant"]}),
        receivers={"default": Receiver("default", ())},
        raw={"route": {"receiver": "default"}, "receivers": [{"name": "default"}]},
    )


def load_alertmanager_config(path: Path) -> AlertmanagerConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(path), 0, f"cannot read file: {exc}")]) from None
    return parse_alertmanager_config(text, str(path), base=path.parent)


def _path_of(text: str) -> tuple[str | int, ...]:
    """'route.routes[2].routes[0]' -> ('route', 'routes', 2, 'routes', 0)."""
    out: list[str | int] = []
    for part in text.split(":")[0].split("."):
        m = re.fullmatch(r"(\w+)((?:\[\d+\])*)", part)
        if m is None:
            break
        out.append(m.group(1))
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return tuple(out)


class _Loader:
    def __init__(self, file: str, lines: LineMap, base: Path | None) -> None:
        self.file = file
        self.lines = lines
        self.base = base
        self.issues: list[ConfigIssue] = []

    def issue(self, where: tuple[str | int, ...], message: str) -> None:
        self.issues.append(ConfigIssue(self.file, self.lines.line_of(where), message))

    def load(self, data: Mapping[str, Any]) -> AlertmanagerConfig | None:
        for key in sorted(set(data) - TOP_KEYS):
            self.issue(
                (key,), f"unknown field {key!r}; Alertmanager's are {', '.join(sorted(TOP_KEYS))}"
            )
        glob_ = data.get("global") or {}
        if not isinstance(glob_, Mapping):
            self.issue(("global",), "global must be a mapping")
            glob_ = {}
        for key in sorted(set(glob_) - GLOBAL_KEYS):
            self.issue(("global", key), f"unknown global setting {key!r}")
        resolve_timeout = self._duration(
            glob_.get("resolve_timeout", "5m"), ("global", "resolve_timeout")
        )
        templates = self._templates(data.get("templates") or [])
        intervals = self._intervals(data)
        receivers = self._receivers(data.get("receivers"), glob_, templates)
        route = self._route(data.get("route"), receivers, intervals)
        inhibit = self._inhibit(data.get("inhibit_rules") or [])
        if self.issues or route is None:
            return None
        return AlertmanagerConfig(
            route=route,
            receivers=receivers,
            inhibit_rules=tuple(inhibit),
            time_intervals=intervals,
            templates=templates,
            resolve_timeout_s=resolve_timeout,
            raw=dict(data),
        )

    def _duration(self, value: Any, where: tuple[str | int, ...]) -> float:
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.issue(where, f"{where[-1]}: {exc}")
            return 300.0

    def _templates(self, patterns: Any) -> TemplateSet:
        sources: list[tuple[str, str]] = []
        if not isinstance(patterns, list):
            self.issue(("templates",), "templates must be a list of file globs")
            return TemplateSet()
        for i, pattern in enumerate(patterns):
            full = str(pattern) if self.base is None else str(self.base / str(pattern))
            for path in sorted(glob.glob(full)):
                sources.append((path, Path(path).read_text(encoding="utf-8")))
            del i
        try:
            return TemplateSet.load(sources)
        except TemplateError as exc:
            self.issue(("templates",), f"template file: {exc}")
            return TemplateSet()

    def _intervals(self, data: Mapping[str, Any]) -> dict[str, tuple[TimeInterval, ...]]:
        out: dict[str, tuple[TimeInterval, ...]] = {}
        for section in ("time_intervals", "mute_time_intervals"):
            items = data.get(section) or []
            if not isinstance(items, list):
                self.issue((section,), f"{section} must be a list")
                continue
            for i, item in enumerate(items):
                name = item.get("name") if isinstance(item, Mapping) else None
                if not isinstance(name, str) or not name:
                    self.issue((section, i), "a time interval needs a name")
                    continue
                if name in out:
                    self.issue((section, i, "name"), f"time interval {name!r} is defined twice")
                parsed = []
                for j, entry in enumerate(item.get("time_intervals") or []):
                    try:
                        parsed.append(parse_time_interval(entry))
                    except (ValueError, AttributeError) as exc:
                        self.issue(
                            (section, i, "time_intervals", j), f"time interval {name!r}: {exc}"
                        )
                out[name] = tuple(parsed)
        return out

    def _receivers(
        self, items: Any, glob_: Mapping[str, Any], templates: TemplateSet
    ) -> dict[str, Receiver]:
        out: dict[str, Receiver] = {}
        if not isinstance(items, list) or not items:
            self.issue(("receivers",), "at least one receiver is needed under receivers:")
            return out
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or not item.get("name"):
                self.issue(("receivers", i), "a receiver needs a name")
                continue
            name = str(item["name"])
            if name in out:
                self.issue(("receivers", i, "name"), f"receiver {name!r} is defined twice")
            integrations: list[Integration] = []
            for key, configs in item.items():
                if key == "name":
                    continue
                if key in UNSUPPORTED:
                    self.issue(
                        ("receivers", i, key),
                        f"{key} is not supported by tenantwatch; use webhook_configs or "
                        "apprise_configs (any Apprise URL) instead",
                    )
                    continue
                if key not in KINDS:
                    self.issue(("receivers", i, key), f"unknown receiver field {key!r}")
                    continue
                kind, resolved_default = KINDS[key]
                if not isinstance(configs, list):
                    self.issue(("receivers", i, key), f"{key} must be a list")
                    continue
                for j, settings in enumerate(configs):
                    if not isinstance(settings, Mapping):
                        self.issue(("receivers", i, key, j), f"{key} entries are mappings")
                        continue
                    full = _with_globals(kind, dict(settings), glob_)
                    self._check_templates(full, templates, ("receivers", i, key, j))
                    integrations.append(
                        Integration(
                            kind=kind,
                            index=len([x for x in integrations if x.kind == kind]),
                            send_resolved=bool(full.get("send_resolved", resolved_default)),
                            settings=full,
                        )
                    )
            out[name] = Receiver(name, tuple(integrations))
        return out

    def _check_templates(
        self, value: Any, templates: TemplateSet, where: tuple[str | int, ...]
    ) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                self._check_templates(v, templates, (*where, str(k)))
        elif isinstance(value, list):
            for k, v in enumerate(value):
                self._check_templates(v, templates, (*where, k))
        elif isinstance(value, str) and "{{" in value:
            try:
                missing = templates.undefined_in(value)
            except TemplateError as exc:
                self.issue(where, f"{where[-1]}: bad template: {exc}")
                return
            if missing:
                self.issue(
                    where,
                    f"{where[-1]}: template {missing[0]!r} is not defined; define it in a "
                    "file listed under templates: or use a built-in one such as "
                    "'slack.default.title'",
                )

    def _route(
        self,
        data: Any,
        receivers: Mapping[str, Receiver],
        intervals: Mapping[str, Any],
    ) -> Route | None:
        if not isinstance(data, Mapping):
            self.issue(("route",), "a route: with a receiver is needed")
            return None
        try:
            root = build_route(data)
        except RoutingError as exc:
            self.issue(_path_of(str(exc)), str(exc))
            return None
        if root.mute_time_intervals or root.active_time_intervals:
            self.issue(("route",), "the root route cannot have time intervals")

        def walk(route: Route, where: tuple[str | int, ...]) -> None:
            if route.receiver not in receivers:
                self.issue(
                    (*where, "receiver"),
                    f"route uses undefined receiver {route.receiver!r}; define it under receivers:",
                )
            for key in ("mute_time_intervals", "active_time_intervals"):
                for name in getattr(route, key):
                    if name not in intervals:
                        self.issue(
                            (*where, key),
                            f"undefined time interval {name!r}; define it under time_intervals:",
                        )
            for i, child in enumerate(route.routes):
                walk(child, (*where, "routes", i))

        walk(root, ("route",))
        return root

    def _inhibit(self, items: Any) -> list[InhibitRule]:
        out: list[InhibitRule] = []
        if not isinstance(items, list):
            self.issue(("inhibit_rules",), "inhibit_rules must be a list")
            return out
        for i, item in enumerate(items):
            try:
                out.append(build_inhibit_rule(item, f"inhibit_rules[{i}]"))
            except (RoutingError, AttributeError) as exc:
                self.issue(("inhibit_rules", i), str(exc))
        return out


def _with_globals(kind: str, settings: dict[str, Any], glob_: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "slack" and "api_url" not in settings and glob_.get("slack_api_url"):
        settings["api_url"] = glob_["slack_api_url"]
    if kind == "pagerduty" and "url" not in settings and glob_.get("pagerduty_url"):
        settings["url"] = glob_["pagerduty_url"]
    if kind == "email":
        for key in (
            "from",
            "hello",
            "smarthost",
            "auth_username",
            "auth_password",
            "auth_secret",
            "auth_identity",
            "require_tls",
        ):
            if key not in settings and f"smtp_{key}" in glob_:
                settings[key] = glob_[f"smtp_{key}"]
    if "http_config" not in settings and glob_.get("http_config") and kind != "email":
        settings["http_config"] = glob_["http_config"]
    return settings


def parse_alertmanager_config(text: str, file: str, base: Path | None = None) -> AlertmanagerConfig:
    """Parse an Alertmanager configuration; raise ConfigError listing every problem."""
    data, lines, issues = load_yaml(text, file, None)
    if data is None and issues:
        raise ConfigError(issues)
    if not isinstance(data, Mapping):
        raise ConfigError([*issues, ConfigIssue(file, 1, "the configuration must be a mapping")])
    loader = _Loader(file, lines, base)
    config = loader.load(data)
    if issues or loader.issues or config is None:
        raise ConfigError([*issues, *loader.issues])
    return config


def config_from_mapping(data: Mapping[str, Any], file: str) -> AlertmanagerConfig:
    """An inline configuration (tenantwatch.yml's alertmanager.config)."""
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    return parse_alertmanager_config(text, file)


def with_tenant_routes(
    config: AlertmanagerConfig, routes: Mapping[str, Mapping[str, Any]]
) -> AlertmanagerConfig:
    """Put each tenant's route subtree first under the root, matched on tenant="<id>"."""
    if not routes:
        return config
    root = config.route
    children = []
    for tenant, subtree in routes.items():
        child = build_route({k: v for k, v in subtree.items()}, root, f"tenant_routes.{tenant}")
        children.append(
            replace(child, matchers=(LabelMatcher.of("tenant", "=", tenant), *child.matchers))
        )
        if child.receiver not in config.receivers:
            raise ConfigError(
                [
                    ConfigIssue(
                        "tenantwatch.yml",
                        0,
                        f"tenant_routes.{tenant}: undefined receiver {child.receiver!r}",
                    )
                ]
            )
    return replace(config, route=replace(root, routes=(*children, *root.routes)))

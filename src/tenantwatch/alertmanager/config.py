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

import glob
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from tenantwatch.alertmanager.config_show import show_config
from tenantwatch.alertmanager.config_show_values import dump_yaml
from tenantwatch.alertmanager.config_spec import (
    FILE_KEYS,
    GLOBAL,
    HTTP,
    INHIBIT,
    KIND_SPECS,
    LABEL_NAME,
    LAYOUTS,
    PAGERDUTY_URL,
    ROUTE_KEYS,
    SEND_RESOLVED,
    TOP_KEYS,
    TWILIO_URL,
    UNSUPPORTED,
)
from tenantwatch.alertmanager.config_tenant_view import tenant_view
from tenantwatch.alertmanager.host_zone import host_zone
from tenantwatch.alertmanager.inhibition import InhibitRule, build_inhibit_rule
from tenantwatch.alertmanager.routing import (
    LabelMatcher,
    Route,
    RoutingError,
    build_route,
    parse_matchers,
)
from tenantwatch.alertmanager.templates import TemplateFileError, TemplateSet
from tenantwatch.alertmanager.time_intervals import TimeInterval, parse_time_interval
from tenantwatch.config.errors import ConfigError, ConfigIssue
from tenantwatch.config.yaml_lines import LineMap, issue_at, load_yaml
from tenantwatch.domain.durations import parse_duration

Where = tuple[str | int, ...]


# -- the result --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Integration:
    """One entry of a receiver's `<kind>_configs`, with global defaults applied."""

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
    global_settings: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)
    tenant_routes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    base_dir: str | None = None  # the file's directory; relative paths are from there

    def public(self, tenant: str | None = None) -> dict[str, Any]:
        """The configuration as Alertmanager 0.25 shows it (defaults filled in, secrets as
        <secret>); for a tenant, only the part that handles its alerts."""
        shown = show_config(self.raw, self.tenant_routes, self.base_dir)
        return shown if tenant is None else tenant_view(shown, tenant)

    def receiver_names(self, tenant: str | None = None) -> list[str]:
        """The receivers' names; for a tenant, those its part of the configuration names."""
        if tenant is None:
            return list(self.receivers)
        return [str(r["name"]) for r in self.public(tenant).get("receivers", [])]

    def public_yaml(self, tenant: str | None = None) -> str:
        """public() as the YAML text of /api/v2/status' config.original."""
        return dump_yaml(self.public(tenant))


def default_config() -> AlertmanagerConfig:
    """No configuration: every alert goes to a receiver that sends nothing."""
    return AlertmanagerConfig(
        route=build_route({"receiver": "default", "group_by": ["alertname", "tenant"]}),
        receivers={"default": Receiver("default", ())},
        raw={
            "route": {"receiver": "default", "group_by": ["alertname", "tenant"]},
            "receivers": [{"name": "default"}],
        },
    )


# -- entry points ------------------------------------------------------------------------------


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


# -- the loader --------------------------------------------------------------------------------


class _Loader:
    def __init__(self, file: str, lines: LineMap, base: Path | None) -> None:
        self.file = file
        self.lines = lines
        self.base = base
        self.issues: list[ConfigIssue] = []

    def issue(self, where: Where, message: str) -> None:
        self.issues.append(issue_at(self.file, self.lines, where, message))

    def load(self, data: Mapping[str, Any]) -> AlertmanagerConfig | None:
        for key in data:
            if key not in TOP_KEYS:
                self._unknown((key,), str(key), TOP_KEYS)
        glob_ = self._global(data.get("global"))
        templates = self._templates(data.get("templates"))
        intervals = self._intervals(data)
        receivers = self._receivers(data.get("receivers"), glob_, templates)
        route = self._route(data.get("route"), receivers, intervals)
        inhibit = self._inhibit(data.get("inhibit_rules"))
        if self.issues or route is None:
            return None
        return AlertmanagerConfig(
            route=route,
            receivers=receivers,
            inhibit_rules=tuple(inhibit),
            time_intervals=intervals,
            templates=templates,
            resolve_timeout_s=_seconds(str(glob_["resolve_timeout"])),
            global_settings=glob_,
            raw=dict(data),
            base_dir=None if self.base is None else str(self.base),
        )

    # -- generic checks ------------------------------------------------------------------------

    def _unknown(self, where: Where, key: str, allowed: Any) -> None:
        close = [k for k in allowed if _similar(key, k)]
        hint = f"did you mean {close[0]!r}? " if close else ""
        self.issue(where, f"unknown field {key!r}; {hint}allowed here: {', '.join(allowed)}")

    def check(self, value: Any, spec: Any, where: Where) -> None:
        """Report every value that does not fit the spec (unknown keys, wrong types)."""
        name = str(where[-1]) if where else "value"
        if isinstance(spec, dict):
            if value is None:
                return
            if not isinstance(value, Mapping):
                self.issue(where, f"{name} must be a mapping")
                return
            for key, item in value.items():
                if key not in spec:
                    self._unknown((*where, key), str(key), list(spec))
                else:
                    self.check(item, spec[key], (*where, key))
            if spec is HTTP:
                self._http(value, where)
        elif isinstance(spec, list):
            if value is None:
                return
            if not isinstance(value, list):
                self.issue(where, f"{name} must be a list")
                return
            for i, item in enumerate(value):
                self.check(item, spec[0], (*where, i))
        else:
            problem = _scalar_problem(value, spec, name)
            if problem is not None:
                self.issue(where, problem)

    def _http(self, http: Mapping[str, Any], where: Where) -> None:
        ways = ("basic_auth", "oauth2", "bearer_token", "bearer_token_file")
        auth = [k for k in ways if http.get(k)]
        if len(auth) > 1:
            self.issue(
                where,
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file may be "
                f"set; this has {' and '.join(auth)}",
            )
        bearer = http.get("bearer_token") or http.get("bearer_token_file")
        if http.get("authorization") and bearer:
            self.issue(where, "authorization cannot be combined with bearer_token; keep one")
        if http.get("authorization") and (http.get("basic_auth") or http.get("oauth2")):
            self.issue(where, "at most one of basic_auth, oauth2 & authorization may be set")
        if http.get("proxy_connect_header") and not http.get("proxy_url"):
            self.issue(where, "proxy_connect_header needs proxy_url")
        for part, key in (("basic_auth", "password"), ("authorization", "credentials")):
            sub = http.get(part)
            if isinstance(sub, Mapping) and sub.get(key) and sub.get(f"{key}_file"):
                self.issue((*where, part), f"at most one of {key} & {key}_file may be set")

    # -- sections ------------------------------------------------------------------------------

    def _global(self, value: Any) -> dict[str, Any]:
        self.check(value, GLOBAL, ("global",))
        glob_: dict[str, Any] = {
            "resolve_timeout": "5m",
            "smtp_hello": "localhost",
            "smtp_require_tls": True,
            "pagerduty_url": PAGERDUTY_URL,
        }
        if isinstance(value, Mapping):
            glob_.update({k: v for k, v in value.items() if v is not None})
        for key in ("slack_api_url", "smtp_auth_password", "opsgenie_api_key"):
            if glob_.get(key) and glob_.get(f"{key}_file"):
                self.issue(("global", key), f"at most one of {key} & {key}_file may be set")
        return glob_

    def _templates(self, patterns: Any) -> TemplateSet:
        if patterns is None:
            return TemplateSet()
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            self.issue(("templates",), "templates must be a list of file globs, e.g. ['*.tmpl']")
            return TemplateSet()
        sources: list[tuple[str, str]] = []
        for i, pattern in enumerate(patterns):
            full = pattern if self.base is None else str(self.base / pattern)
            for path in sorted(glob.glob(full)):
                try:
                    sources.append((path, Path(path).read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError) as exc:
                    self.issue(("templates", i), f"cannot read template file {path}: {exc}")
        try:
            return TemplateSet.load(sources)
        except TemplateFileError as exc:
            self.issues.append(ConfigIssue(exc.file, exc.line, f"template: {exc.message}"))
            return TemplateSet()

    def _intervals(self, data: Mapping[str, Any]) -> dict[str, tuple[TimeInterval, ...]]:
        out: dict[str, tuple[TimeInterval, ...]] = {}
        for section in ("mute_time_intervals", "time_intervals"):
            items = data.get(section)
            if items is None:
                continue
            if not isinstance(items, list):
                self.issue((section,), f"{section} must be a list of {{name, time_intervals}}")
                continue
            for i, item in enumerate(items):
                self._interval(section, i, item, out)
        return out

    def _interval(
        self, section: str, i: int, item: Any, out: dict[str, tuple[TimeInterval, ...]]
    ) -> None:
        where: Where = (section, i)
        if not isinstance(item, Mapping):
            self.issue(where, "a time interval is a mapping with name and time_intervals")
            return
        for key in item:
            if key not in ("name", "time_intervals"):
                self._unknown((*where, key), str(key), ["name", "time_intervals"])
        name = item.get("name")
        if not isinstance(name, str) or not name:
            self.issue(where, "missing name in time interval")
            return
        if name in out:
            self.issue((*where, "name"), f"time interval {name!r} is defined twice; rename one")
        entries = item.get("time_intervals") or []
        if not isinstance(entries, list):
            self.issue((*where, "time_intervals"), "time_intervals must be a list")
            entries = []
        parsed = []
        for j, entry in enumerate(entries):
            at: Where = (*where, "time_intervals", j)
            try:
                parsed.append(parse_time_interval(entry, host_zone()))
            except ValueError as exc:
                key = str(exc).split(":", 1)[0]
                if isinstance(entry, Mapping) and key in entry:
                    at = (*at, key)
                self.issue(at, f"time interval {name!r}: {exc}")
        out[name] = tuple(parsed)

    def _receivers(
        self, items: Any, glob_: Mapping[str, Any], templates: TemplateSet
    ) -> dict[str, Receiver]:
        out: dict[str, Receiver] = {}
        if items is None:
            return out
        if not isinstance(items, list):
            self.issue(("receivers",), "receivers must be a list of {name: ..., <kind>_configs}")
            return out
        for i, item in enumerate(items):
            where: Where = ("receivers", i)
            if not isinstance(item, Mapping):
                self.issue(where, "a receiver is a mapping with a name")
                continue
            name = item.get("name")
            if not isinstance(name, str) or not name:
                self.issue(where, "missing name in receiver")
                continue
            if name in out:
                self.issue((*where, "name"), f"receiver {name!r} is defined twice; rename one")
            integrations: list[Integration] = []
            for key, configs in item.items():
                if key == "name":
                    continue
                at: Where = (*where, key)
                kind = str(key).removesuffix("_configs")
                if key in UNSUPPORTED:
                    self.issue(
                        at,
                        f"{key} is not supported by tenantwatch; use webhook_configs or "
                        "apprise_configs (any Apprise URL) instead",
                    )
                    continue
                if not str(key).endswith("_configs") or kind not in KIND_SPECS:
                    self._unknown(at, str(key), ["name", *(f"{k}_configs" for k in KIND_SPECS)])
                    continue
                if configs is None:
                    continue
                if not isinstance(configs, list):
                    self.issue(at, f"{key} must be a list")
                    continue
                for j, settings in enumerate(configs):
                    built = self._integration(kind, settings, glob_, templates, (*at, j))
                    if built is not None:
                        index = sum(1 for x in integrations if x.kind == kind)
                        integrations.append(replace(built, index=index))
            out[name] = Receiver(name, tuple(integrations))
        return out

    def _integration(
        self,
        kind: str,
        settings: Any,
        glob_: Mapping[str, Any],
        templates: TemplateSet,
        where: Where,
    ) -> Integration | None:
        before = len(self.issues)
        self.check(settings, KIND_SPECS[kind], where)
        if not isinstance(settings, Mapping):
            if settings is None:
                self.issue(where, f"{kind}_configs entries are mappings")
            return None
        full = {k: v for k, v in settings.items() if v is not None}
        full = _with_globals(kind, full, glob_)
        full = self._read_files(full, where)
        self._required(kind, full, where)
        if kind == "email":
            full = self._email(full, where)
        self._check_templates(settings, templates, where)
        if len(self.issues) > before:
            return None
        send_resolved = bool(full.get("send_resolved", SEND_RESOLVED[kind]))
        full["send_resolved"] = send_resolved
        return Integration(kind=kind, index=0, send_resolved=send_resolved, settings=full)

    def _read_files(self, settings: dict[str, Any], where: Where) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in settings.items():
            if isinstance(value, Mapping) and key in ("http_config", "basic_auth", "authorization"):
                value = self._read_files(dict(value), (*where, key))
            target = FILE_KEYS.get(str(key))
            if target is None or not isinstance(value, str) or not value:
                out[key] = value
                continue
            path = Path(value) if self.base is None else self.base / value
            try:
                out[target] = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                self.issue((*where, key), f"{key}: cannot read {path}: {exc.strerror}")
        return out

    def _required(self, kind: str, s: Mapping[str, Any], where: Where) -> None:
        def need(key: str, message: str) -> None:
            if not s.get(key):
                self.issue(where, message)

        layout = s.get("layout")
        if layout is not None and layout != LAYOUTS.get(kind):
            self.issue(
                (*where, "layout"),
                f"unknown layout {layout!r}; the one {kind} layout is {LAYOUTS.get(kind)!r} "
                "(leave layout out for Alertmanager's)",
            )
        if kind == "webhook":
            need("url", "missing url in webhook config; e.g. url: 'https://example.com/hook'")
        elif kind == "slack":
            need(
                "api_url",
                "no Slack API URL: set api_url here or slack_api_url under global:",
            )
            for i, f in enumerate(s.get("fields") or []):
                if isinstance(f, Mapping) and not (f.get("title") and f.get("value")):
                    self.issue((*where, "fields", i), "a Slack field needs a title and a value")
            for i, a in enumerate(s.get("actions") or []):
                if isinstance(a, Mapping) and not (a.get("type") and a.get("text")):
                    self.issue((*where, "actions", i), "a Slack action needs a type and a text")
                elif isinstance(a, Mapping) and not (a.get("url") or a.get("name")):
                    self.issue((*where, "actions", i), "a Slack action needs a url or a name")
        elif kind == "email":
            need("to", "missing to address in email config")
            need("smarthost", "no SMTP smarthost: set smarthost here or smtp_smarthost in global:")
            need("from", "no sender: set from here or smtp_from under global:")
        elif kind == "pagerduty":
            if not (s.get("routing_key") or s.get("service_key")):
                self.issue(where, "missing routing_key (Events API v2) or service_key")
            if s.get("routing_key") and s.get("service_key"):
                self.issue(where, "give either routing_key (Events API v2) or service_key")
        elif kind == "msteams":
            need("webhook_url", "missing webhook_url in msteams config")
        elif kind == "twilio":
            for key in ("account_sid", "auth_token", "from", "to"):
                need(key, f"missing {key} in twilio config")
        elif kind == "apprise":
            need("urls", "apprise_configs needs urls, e.g. ['mailto://user:pass@example.com']")

    def _email(self, s: dict[str, Any], where: Where) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name, value in (s.get("headers") or {}).items():
            canonical = "-".join(p.capitalize() for p in str(name).split("-"))
            if canonical in headers:
                self.issue((*where, "headers", name), f"duplicate header {canonical!r}")
            headers[canonical] = str(value)
        if "subject" in s:
            if "Subject" in headers:
                self.issue((*where, "subject"), "subject is also in headers; keep one")
            headers["Subject"] = str(s.pop("subject"))
        if "body" in s:
            if s.get("text"):
                self.issue((*where, "body"), "body and text are both given; keep text")
            s["text"] = str(s.pop("body"))
        if headers:
            s["headers"] = headers
        return s

    def _check_templates(self, value: Any, templates: TemplateSet, where: Where) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if k not in ("http_config", "tls_config") and not str(k).endswith("_file"):
                    self._check_templates(v, templates, (*where, str(k)))
        elif isinstance(value, list):
            for k, v in enumerate(value):
                self._check_templates(v, templates, (*where, k))
        elif isinstance(value, str) and "{{" in value:
            problem = templates.problem(value)
            if problem is not None:
                self.issue(where, f"{where[-1]}: {problem}")

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
                problem = _scalar_problem(data[key], "duration", key)
                if problem is not None:
                    self.issue((*where, key), problem)
                elif key != "group_wait" and _seconds(str(data[key])) == 0:
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


# -- values ------------------------------------------------------------------------------------


def _scalar_problem(value: Any, kind: str, name: str) -> str | None:
    """Why a value does not fit a scalar type, or None."""
    if kind == "any" or value is None:
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false"
    if kind == "uint":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else f"{name} must be a whole number of 0 or more"
    if kind in ("strlist", "strmap"):
        if kind == "strlist" and not (
            isinstance(value, list) and all(_is_scalar(v) for v in value)
        ):
            return f"{name} must be a list of strings"
        if kind == "strmap" and not (
            isinstance(value, Mapping) and all(_is_scalar(v) for v in value.values())
        ):
            return f"{name} must map names to strings"
        return None
    if not _is_scalar(value):
        return f"{name} must be a string"
    text = str(value)
    if kind == "url":
        return _url_problem(text, name)
    if kind == "hostport":
        return _hostport_problem(text, name)
    if kind == "duration":
        return _duration_problem(value, name)
    return None


def _seconds(text: str) -> float:
    return 0.0 if text == "0" else parse_duration(text)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list)


def _url_problem(text: str, name: str) -> str | None:
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https"):
        hint = (
            "; Alertmanager configs do not expand environment variables"
            if "${" in text or text.startswith("$")
            else ""
        )
        return (
            f"{name}: unsupported scheme {parsed.scheme!r} for URL {text!r}; write an http:// "
            f"or https:// URL{hint}"
        )
    if not parsed.netloc:
        return f"{name}: missing host in URL {text!r}"
    return None


def _hostport_problem(text: str, name: str) -> str | None:
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    if not sep or (":" in host and not host.startswith("[")):
        return f"{name}: address {text!r} needs a port, e.g. 'smtp.example.com:587'"
    if not port:
        return f"{name}: address {text!r}: the port cannot be empty"
    return None


def _duration_problem(value: Any, name: str) -> str | None:
    if not isinstance(value, str):
        return f"{name}: write a duration with a unit, e.g. '30s', '5m' or '4h'"
    if value == "0":
        return None
    try:
        parse_duration(value)
    except ValueError:
        return f"{name}: {value!r} is not a duration; write e.g. '30s', '5m' or '1h30m'"
    return None


def _similar(a: str, b: str) -> bool:
    """Whether b is a likely intended spelling of a (one edit or a transposition apart)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _with_globals(kind: str, settings: dict[str, Any], glob_: Mapping[str, Any]) -> dict[str, Any]:
    """Fill what the entry leaves out from global:, as Alertmanager does."""
    http_kinds = ("webhook", "slack", "pagerduty", "msteams", "twilio")
    if kind in http_kinds and "http_config" not in settings and glob_.get("http_config"):
        settings["http_config"] = glob_["http_config"]
    if kind == "slack" and not settings.get("api_url") and not settings.get("api_url_file"):
        for key in ("slack_api_url", "slack_api_url_file"):
            if glob_.get(key):
                settings[key.removeprefix("slack_")] = glob_[key]
    if kind == "pagerduty" and not settings.get("url"):
        settings["url"] = glob_.get("pagerduty_url") or PAGERDUTY_URL
    if kind == "twilio" and not settings.get("url"):
        settings["url"] = TWILIO_URL
    if kind == "email":
        for key in ("from", "hello", "smarthost", "auth_username", "auth_secret", "auth_identity"):
            if not settings.get(key) and glob_.get(f"smtp_{key}"):
                settings[key] = glob_[f"smtp_{key}"]
        if not settings.get("auth_password") and not settings.get("auth_password_file"):
            for key in ("auth_password", "auth_password_file"):
                if glob_.get(f"smtp_{key}"):
                    settings[key] = glob_[f"smtp_{key}"]
        if "require_tls" not in settings:
            settings["require_tls"] = bool(glob_.get("smtp_require_tls", True))
    return settings

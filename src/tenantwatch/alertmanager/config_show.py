"""The configuration as Alertmanager 0.25 shows it in `/api/v2/status` (`config.original`):
every default filled in, secrets as `<secret>`, fields in its order.

amtool reads that YAML back with Alertmanager's strict loader (`amtool config routes`), so
what only tenantwatch understands is left out: `msteams_configs` (Alertmanager 0.26+),
`twilio_configs`, `apprise_configs`, a webhook's `hmac_secret` and `layout:`. Tenant
routes (tenantwatch.yml's `tenant_routes`) are shown where they act: first under the root,
each matching its `tenant="<id>"`. Seed 000's email `subject:`/`body:` show as the
Subject header and `text`, as they behave.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from tenantwatch.alertmanager.config_show_receivers import SHOWN_KINDS, shown_receiver
from tenantwatch.alertmanager.config_show_values import (
    Flow,
    Out,
    Raw,
    go_duration,
    host_port,
    put,
    secret,
    shown_http,
    sorted_map,
)
from tenantwatch.alertmanager.notify_pagerduty import PAGERDUTY_URL
from tenantwatch.alertmanager.routing import LabelMatcher, parse_matchers
from tenantwatch.alertmanager.time_intervals import WEEKDAYS, parse_time_interval

# global: defaults, and the order Alertmanager writes the keys in (None: written only when set)
GLOBAL_DEFAULTS: Mapping[str, Any] = {
    "resolve_timeout": "5m",
    "http_config": None,
    "smtp_from": None,
    "smtp_hello": "localhost",
    "smtp_smarthost": None,
    "smtp_auth_username": None,
    "smtp_auth_password": None,
    "smtp_auth_password_file": None,
    "smtp_auth_secret": None,
    "smtp_auth_identity": None,
    "smtp_require_tls": True,
    "slack_api_url": None,
    "slack_api_url_file": None,
    "pagerduty_url": PAGERDUTY_URL,
    "opsgenie_api_url": "https://api.opsgenie.com/",
    "opsgenie_api_key": None,
    "opsgenie_api_key_file": None,
    "wechat_api_url": "https://qyapi.weixin.qq.com/cgi-bin/",
    "wechat_api_secret": None,
    "wechat_api_corp_id": None,
    "victorops_api_url": "https://alert.victorops.com/integrations/generic/20131114/alert/",
    "victorops_api_key": None,
    "victorops_api_key_file": None,
    "telegram_api_url": "https://api.telegram.org",
    "webex_api_url": "https://webexapis.com/v1/messages",
}
_GLOBAL_SECRETS = {
    "smtp_auth_password",
    "smtp_auth_secret",
    "slack_api_url",
    "opsgenie_api_key",
    "wechat_api_secret",
    "victorops_api_key",
}
_MATCH_TYPES = ("=", "!=", "=~", "!~")


def show_config(
    data: Raw, tenant_routes: Mapping[str, Raw] | None = None, base_dir: str | None = None
) -> Out:
    """The configuration mapping as Alertmanager 0.25 writes it back out. Relative template
    and http_config file paths show joined to base_dir (the file's directory), as there."""
    glob = shown_global(data.get("global"))
    out: Out = {"global": glob, "route": shown_route(data.get("route") or {})}
    if tenant_routes:
        route = out["route"]
        mine = [shown_tenant_route(t, r) for t, r in tenant_routes.items()]
        route["routes"] = [*mine, *route.get("routes", [])]
        out["route"] = _route_order(route)
    if rules := data.get("inhibit_rules"):
        out["inhibit_rules"] = [shown_inhibit_rule(r) for r in rules]
    receivers = data.get("receivers") or []
    if receivers:
        out["receivers"] = [shown_receiver(r, data.get("global") or {}) for r in receivers]
    out["templates"] = [_join(base_dir, str(t)) for t in data.get("templates") or []]
    for section in ("mute_time_intervals", "time_intervals"):
        if items := data.get(section):
            out[section] = [shown_time_interval(i) for i in items]
    if base_dir is not None:
        _join_http_files(out, base_dir)
    return out


def _join(base_dir: str | None, path: str) -> str:
    """filepath.Join(base_dir, path) for a relative path, as Alertmanager resolves them."""
    if base_dir is None or not path or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base_dir, path))


_HTTP_FILES = {
    "basic_auth": ("password_file",),
    "authorization": ("credentials_file",),
    "tls_config": ("ca_file", "cert_file", "key_file"),
}


def _join_http_files(out: Out, base_dir: str) -> None:
    """Join the file paths of every http_config (global and receivers') to base_dir."""
    configs = [out["global"].get("http_config") or {}]
    for receiver in out.get("receivers", []):
        for kind in SHOWN_KINDS:
            configs += [c.get("http_config") or {} for c in receiver.get(f"{kind}_configs", [])]
    for http in configs:
        parts = [http, *[http.get(k) or {} for k in ("oauth2",)]]
        for part in parts:
            for section, keys in _HTTP_FILES.items():
                holder = part.get(section)
                if not isinstance(holder, dict):
                    continue
                for key in keys:
                    if holder.get(key):
                        holder[key] = _join(base_dir, str(holder[key]))
        oauth = http.get("oauth2")
        if isinstance(oauth, dict) and oauth.get("client_secret_file"):
            oauth["client_secret_file"] = _join(base_dir, str(oauth["client_secret_file"]))


# -- values ------------------------------------------------------------------------------------


def matcher_lines(lines: Sequence[Any]) -> list[str]:
    """`matchers:` lines parsed, sorted (name, value, type) and printed as Alertmanager does."""
    parsed = parse_matchers([str(x) for x in lines])
    ordered = sorted(parsed, key=lambda m: (m.name, m.value, _MATCH_TYPES.index(m.op)))
    return [_matcher_text(m) for m in ordered]


def _matcher_text(m: LabelMatcher) -> str:
    value = m.value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return f'{m.name}{m.op}"{value}"'


# -- sections ----------------------------------------------------------------------------------


def shown_global(raw: Raw | None) -> Out:
    given = {k: v for k, v in (raw or {}).items() if v is not None}
    out: Out = {}
    for key, default in GLOBAL_DEFAULTS.items():
        value = given.get(key, default)
        if key == "resolve_timeout":
            out[key] = go_duration(value)
        elif key == "http_config":
            out[key] = shown_http(value)
        elif key == "smtp_require_tls":
            out[key] = bool(value)
        elif key == "smtp_smarthost":
            put(out, key, host_port(value) if value else None)
        elif key in _GLOBAL_SECRETS:
            put(out, key, secret(value))
        else:
            put(out, key, value)
    return out


def shown_route(raw: Raw) -> Out:
    out: Out = {}
    put(out, "receiver", raw.get("receiver"))
    put(out, "group_by", [str(x) for x in raw.get("group_by") or []])
    put(out, "match", sorted_map(raw.get("match")))
    put(out, "match_re", sorted_map(raw.get("match_re")))
    put(out, "matchers", matcher_lines(raw.get("matchers") or []))
    put(out, "mute_time_intervals", [str(x) for x in raw.get("mute_time_intervals") or []])
    put(out, "active_time_intervals", [str(x) for x in raw.get("active_time_intervals") or []])
    out["continue"] = bool(raw.get("continue", False))
    put(out, "routes", [shown_route(r) for r in raw.get("routes") or []])
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if raw.get(key) is not None:
            out[key] = go_duration(raw[key])
    return out


def shown_tenant_route(tenant: str, raw: Raw) -> Out:
    """A tenant's subtree as the route it acts as: its matchers plus tenant="<id>"."""
    lines = [f'tenant="{tenant}"', *[str(m) for m in raw.get("matchers") or []]]
    return shown_route({**raw, "matchers": lines})


def _route_order(route: Out) -> Out:
    order = [
        "receiver",
        "group_by",
        "match",
        "match_re",
        "matchers",
        "mute_time_intervals",
        "active_time_intervals",
        "continue",
        "routes",
        "group_wait",
        "group_interval",
        "repeat_interval",
    ]
    return {k: route[k] for k in order if k in route}


def shown_inhibit_rule(raw: Raw) -> Out:
    out: Out = {}
    for side in ("source", "target"):
        put(out, f"{side}_match", sorted_map(raw.get(f"{side}_match")))
        put(out, f"{side}_match_re", sorted_map(raw.get(f"{side}_match_re")))
        put(out, f"{side}_matchers", matcher_lines(raw.get(f"{side}_matchers") or []))
    put(out, "equal", [str(x) for x in raw.get("equal") or []])
    return out


def shown_time_interval(raw: Raw) -> Out:
    return {
        "name": str(raw.get("name") or ""),
        "time_intervals": [_interval(i) for i in raw.get("time_intervals") or []],
    }


def _interval(raw: Raw) -> Out:
    parsed = parse_time_interval(raw)
    out: Out = {}

    def ranges(items: Sequence[tuple[int, int]], name: Any = str) -> Flow:
        return Flow(name(a) if a == b else f"{name(a)}:{name(b)}" for a, b in items)

    put(
        out,
        "times",
        [{"start_time": _clock(a), "end_time": _clock(b)} for a, b in parsed.times],
    )
    put(out, "weekdays", ranges(parsed.weekdays, lambda d: WEEKDAYS[d]))
    put(out, "days_of_month", ranges(parsed.days_of_month))
    put(out, "months", ranges(parsed.months))
    put(out, "years", ranges(parsed.years))
    put(out, "location", raw.get("location"))
    return out


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"

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

import yaml

from tenantwatch.domain.durations import parse_duration
from tenantwatch.domain.notify_email import EMAIL_DEFAULT_HTML, EMAIL_DEFAULT_SUBJECT
from tenantwatch.domain.notify_pagerduty import (
    PAGERDUTY_DEFAULT_DETAILS,
    PAGERDUTY_DEFAULTS,
    PAGERDUTY_URL,
)
from tenantwatch.domain.notify_slack import SLACK_DEFAULTS
from tenantwatch.domain.routing import LabelMatcher, parse_matchers
from tenantwatch.domain.time_intervals import WEEKDAYS, parse_time_interval

SECRET = "<secret>"  # noqa: S105  (what Alertmanager prints in a secret's place)
Raw = Mapping[str, Any]
Out = dict[str, Any]

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
_SEND_RESOLVED = {"email": False, "pagerduty": True, "slack": False, "webhook": True}
_MATCH_TYPES = ("=", "!=", "=~", "!~")
# the receiver kinds Alertmanager 0.25 reads, in the order it writes them
SHOWN_KINDS = ("email", "pagerduty", "slack", "webhook")


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


class Flow(list[str]):
    """A list Alertmanager writes in flow style: [monday:friday, saturday]."""


class _Dumper(yaml.SafeDumper):
    pass


def _flow(dumper: yaml.SafeDumper, value: Flow) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value), flow_style=True)


_Dumper.add_representer(Flow, _flow)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """YAML in Go's yaml.v2 layout: keys in the given order, block style, lists not indented."""
    return yaml.dump(
        dict(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10_000,
    )


# -- values ------------------------------------------------------------------------------------


def go_duration(text: Any) -> str:
    """A duration as Prometheus' model.Duration prints it: years and weeks only when exact
    ("90d", not "12w6d"), then d h m s ms ("1h30m"); "0s" for zero."""
    ms = 0 if str(text) == "0" else round(parse_duration(str(text)) * 1000)
    if ms == 0:
        return "0s"
    out = ""
    for unit, size, exact in (
        ("y", 31_536_000_000, True),
        ("w", 604_800_000, True),
        ("d", 86_400_000, False),
        ("h", 3_600_000, False),
        ("m", 60_000, False),
        ("s", 1000, False),
        ("ms", 1, False),
    ):
        if exact and ms % size:
            continue
        if count := ms // size:
            out += f"{count}{unit}"
            ms -= count * size
    return out


def _secret(value: Any) -> str | None:
    return SECRET if value not in (None, "") else None


def _host_port(text: Any) -> str:
    """host:port as Alertmanager prints it (brackets of an IPv6 host dropped, as Go does)."""
    host, _, port = str(text).rpartition(":")
    return f"{host.strip('[]')}:{port}"


def _sorted_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in sorted((value or {}).items(), key=lambda kv: str(kv[0]))}


def _put(out: Out, key: str, value: Any) -> None:
    """Set key unless value is empty (Go's omitempty)."""
    if value not in (None, "", [], {}, False, 0):
        out[key] = value


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
            _put(out, key, _host_port(value) if value else None)
        elif key in _GLOBAL_SECRETS:
            _put(out, key, _secret(value))
        else:
            _put(out, key, value)
    return out


def shown_http(raw: Raw | None) -> Out:
    """An http_config with the library's defaults (follow_redirects, enable_http2 on) and a
    bearer_token shown as the Authorization it becomes."""
    raw = dict(raw or {})
    out: Out = {}
    if basic := raw.get("basic_auth"):
        auth: Out = {"username": str(basic.get("username") or "")}
        _put(auth, "password", _secret(basic.get("password")))
        _put(auth, "password_file", basic.get("password_file"))
        out["basic_auth"] = auth
    authorization = dict(raw.get("authorization") or {})
    if raw.get("bearer_token") and not authorization:
        authorization = {"credentials": raw["bearer_token"]}
    if raw.get("bearer_token_file") and not authorization:
        authorization = {"credentials_file": raw["bearer_token_file"]}
    if authorization:
        shown: Out = {"type": str(authorization.get("type") or "").strip() or "Bearer"}
        _put(shown, "credentials", _secret(authorization.get("credentials")))
        _put(shown, "credentials_file", authorization.get("credentials_file"))
        out["authorization"] = shown
    if oauth := raw.get("oauth2"):
        out["oauth2"] = _oauth2(oauth)
    _put(out, "proxy_url", raw.get("proxy_url"))
    _put(out, "tls_config", shown_tls(raw.get("tls_config")))
    out["follow_redirects"] = bool(raw.get("follow_redirects", True))
    out["enable_http2"] = bool(raw.get("enable_http2", True))
    return out


def _oauth2(raw: Raw) -> Out:
    out: Out = {
        "client_id": str(raw.get("client_id") or ""),
        "client_secret": _secret(raw.get("client_secret")),
        "client_secret_file": str(raw.get("client_secret_file") or ""),
    }
    _put(out, "scopes", [str(s) for s in raw.get("scopes") or []])
    out["token_url"] = str(raw.get("token_url") or "")
    _put(out, "endpoint_params", _sorted_map(raw.get("endpoint_params")))
    _put(out, "proxy_url", raw.get("proxy_url"))
    out["tls_config"] = shown_tls(raw.get("tls_config")) or {"insecure_skip_verify": False}
    return out


def shown_tls(raw: Raw | None) -> Out:
    """A tls_config, or {} when every field is empty (Alertmanager then leaves it out)."""
    raw = raw or {}
    out: Out = {}
    for key in ("ca_file", "cert_file", "key_file", "server_name"):
        _put(out, key, raw.get(key))
    skip = bool(raw.get("insecure_skip_verify", False))
    for key in ("min_version", "max_version"):
        _put(out, key, raw.get(key))
    if not out and not skip:
        return {}
    versions: Out = {k: out.pop(k) for k in ("min_version", "max_version") if k in out}
    return {**out, "insecure_skip_verify": skip, **versions}


def shown_route(raw: Raw) -> Out:
    out: Out = {}
    _put(out, "receiver", raw.get("receiver"))
    _put(out, "group_by", [str(x) for x in raw.get("group_by") or []])
    _put(out, "match", _sorted_map(raw.get("match")))
    _put(out, "match_re", _sorted_map(raw.get("match_re")))
    _put(out, "matchers", matcher_lines(raw.get("matchers") or []))
    _put(out, "mute_time_intervals", [str(x) for x in raw.get("mute_time_intervals") or []])
    _put(out, "active_time_intervals", [str(x) for x in raw.get("active_time_intervals") or []])
    out["continue"] = bool(raw.get("continue", False))
    _put(out, "routes", [shown_route(r) for r in raw.get("routes") or []])
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
        _put(out, f"{side}_match", _sorted_map(raw.get(f"{side}_match")))
        _put(out, f"{side}_match_re", _sorted_map(raw.get(f"{side}_match_re")))
        _put(out, f"{side}_matchers", matcher_lines(raw.get(f"{side}_matchers") or []))
    _put(out, "equal", [str(x) for x in raw.get("equal") or []])
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

    _put(
        out,
        "times",
        [{"start_time": _clock(a), "end_time": _clock(b)} for a, b in parsed.times],
    )
    _put(out, "weekdays", ranges(parsed.weekdays, lambda d: WEEKDAYS[d]))
    _put(out, "days_of_month", ranges(parsed.days_of_month))
    _put(out, "months", ranges(parsed.months))
    _put(out, "years", ranges(parsed.years))
    _put(out, "location", raw.get("location"))
    return out


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# -- receivers ---------------------------------------------------------------------------------


def shown_receiver(raw: Raw, glob: Raw) -> Out:
    out: Out = {"name": str(raw.get("name") or "")}
    for kind in SHOWN_KINDS:
        configs = raw.get(f"{kind}_configs") or []
        if configs:
            out[f"{kind}_configs"] = [_SHOWN[kind](dict(c or {}), glob) for c in configs]
    return out


def _common(kind: str, raw: Raw, glob: Raw) -> Out:
    out: Out = {"send_resolved": bool(raw.get("send_resolved", _SEND_RESOLVED[kind]))}
    if kind != "email":
        out["http_config"] = shown_http(raw.get("http_config") or glob.get("http_config"))
    return out


def shown_webhook(raw: Raw, glob: Raw) -> Out:
    out = _common("webhook", raw, glob)
    out["url"] = str(raw.get("url") or "")
    out["max_alerts"] = int(raw.get("max_alerts") or 0)
    return out


def shown_email(raw: Raw, glob: Raw) -> Out:
    out = _common("email", raw, glob)

    def pick(key: str) -> Any:
        value = raw.get(key)
        return value if value not in (None, "") else glob.get(f"smtp_{key}")

    _put(out, "to", raw.get("to"))
    _put(out, "from", pick("from"))
    _put(out, "hello", pick("hello") or "localhost")
    _put(out, "smarthost", _host_port(pick("smarthost")) if pick("smarthost") else None)
    _put(out, "auth_username", pick("auth_username"))
    own_password = raw.get("auth_password") or raw.get("auth_password_file")
    password = raw.get("auth_password") if own_password else glob.get("smtp_auth_password")
    password_file = (
        raw.get("auth_password_file") if own_password else glob.get("smtp_auth_password_file")
    )
    _put(out, "auth_password", _secret(password))
    _put(out, "auth_password_file", password_file)
    _put(out, "auth_secret", _secret(pick("auth_secret")))
    _put(out, "auth_identity", pick("auth_identity"))
    headers = {
        "-".join(p.capitalize() for p in str(k).split("-")): str(v)
        for k, v in (raw.get("headers") or {}).items()
    }
    if raw.get("subject") is not None:
        headers.setdefault("Subject", str(raw["subject"]))
    headers.setdefault("Subject", EMAIL_DEFAULT_SUBJECT)
    headers.setdefault("To", str(raw.get("to") or ""))
    headers.setdefault("From", str(out.get("from") or ""))
    out["headers"] = _sorted_map(headers)
    html = raw.get("html")
    _put(out, "html", EMAIL_DEFAULT_HTML if html is None else html)
    text = raw.get("text") if raw.get("text") is not None else raw.get("body")
    _put(out, "text", text)
    require = raw.get("require_tls")
    out["require_tls"] = bool(glob.get("smtp_require_tls", True) if require is None else require)
    _put(out, "tls_config", shown_tls(raw.get("tls_config")))
    return out


def shown_pagerduty(raw: Raw, glob: Raw) -> Out:
    out = _common("pagerduty", raw, glob)
    _put(out, "service_key", _secret(raw.get("service_key")))
    _put(out, "service_key_file", raw.get("service_key_file"))
    _put(out, "routing_key", _secret(raw.get("routing_key")))
    _put(out, "routing_key_file", raw.get("routing_key_file"))
    out["url"] = str(raw.get("url") or glob.get("pagerduty_url") or PAGERDUTY_URL)
    for key in ("client", "client_url", "description"):
        value = raw.get(key)
        _put(out, key, PAGERDUTY_DEFAULTS[key] if value is None else value)
    out["details"] = _sorted_map({**PAGERDUTY_DEFAULT_DETAILS, **(raw.get("details") or {})})
    images = [_only(i, ("src", "alt", "href")) for i in raw.get("images") or []]
    _put(out, "images", images)
    _put(out, "links", [_only(i, ("href", "text")) for i in raw.get("links") or []])
    _put(out, "source", raw.get("source") or out.get("client"))
    for key in ("severity", "class", "component", "group"):
        _put(out, key, raw.get(key))
    return out


def _only(raw: Any, keys: Sequence[str]) -> Out:
    out: Out = {}
    for key in keys:
        _put(out, key, (raw or {}).get(key))
    return out


def shown_slack(raw: Raw, glob: Raw) -> Out:
    out = _common("slack", raw, glob)
    own = raw.get("api_url") or raw.get("api_url_file")
    _put(out, "api_url", _secret(raw.get("api_url") if own else glob.get("slack_api_url")))
    file = raw.get("api_url_file") if own else glob.get("slack_api_url_file")
    _put(out, "api_url_file", file)
    _put(out, "channel", raw.get("channel"))

    def field(key: str) -> None:
        value = raw.get(key)
        _put(out, key, SLACK_DEFAULTS.get(key) if value is None else value)

    for key in ("username", "color", "title", "title_link", "pretext", "text"):
        field(key)
    _put(out, "fields", [_slack_field(f) for f in raw.get("fields") or []])
    out["short_fields"] = bool(raw.get("short_fields", False))
    for key in ("footer", "fallback", "callback_id", "icon_emoji", "icon_url"):
        field(key)
    _put(out, "image_url", raw.get("image_url"))
    _put(out, "thumb_url", raw.get("thumb_url"))
    out["link_names"] = bool(raw.get("link_names", False))
    _put(out, "mrkdwn_in", [str(x) for x in raw.get("mrkdwn_in") or []])
    _put(out, "actions", [_slack_action(a) for a in raw.get("actions") or []])
    return out


def _slack_field(raw: Raw) -> Out:
    out = _only(raw, ("title", "value"))
    if raw.get("short") is not None:
        out["short"] = bool(raw["short"])
    return out


def _slack_action(raw: Raw) -> Out:
    keys = (
        ("type", "text", "url", "style")
        if raw.get("url")
        else ("type", "text", "url", "style", "name", "value")
    )
    out = _only(raw, keys)
    if raw.get("confirm") is not None and not raw.get("url"):
        out["confirm"] = _only(raw["confirm"], ("text", "title", "ok_text", "dismiss_text"))
    return out


_SHOWN = {
    "email": shown_email,
    "pagerduty": shown_pagerduty,
    "slack": shown_slack,
    "webhook": shown_webhook,
}

"""Slack: the incoming-webhook message Alertmanager 0.25 sends, or seed 002's attachment.

Every field a `slack_configs` entry leaves unset takes Alertmanager 0.25's default
(SLACK_DEFAULTS): a `danger` attachment for any firing group, `good` once resolved,
titled with `__subject` and linked to the external URL. `layout: seed002` (tenantwatch's
own option) starts from seed 002's attachment instead (color by severity, Tenant,
Severity and Time fields, footer, ts); fields the config sets still replace their part.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tenantwatch.alertmanager.notify_data import NotifyData
from tenantwatch.alertmanager.notify_request import (
    OutboundRequest,
    Render,
    auth_headers,
    common_or_joined,
    first_occurred,
    http_url_setting,
    json_request,
    redact_url,
    required_setting,
    setting_str,
    severity_of,
    truncate_runes,
)

MAX_TITLE_RUNES = 1024  # Slack title, as Alertmanager truncates it
SEED_002 = "seed002"

# Alertmanager 0.25's DefaultSlackConfig: the template of every field left unset
SLACK_DEFAULTS: Mapping[str, str] = {
    "username": '{{ template "slack.default.username" . }}',
    "color": '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
    "title": '{{ template "slack.default.title" . }}',
    "title_link": '{{ template "slack.default.titlelink" . }}',
    "pretext": '{{ template "slack.default.pretext" . }}',
    "text": '{{ template "slack.default.text" . }}',
    "footer": '{{ template "slack.default.footer" . }}',
    "fallback": '{{ template "slack.default.fallback" . }}',
    "callback_id": '{{ template "slack.default.callbackid" . }}',
    "icon_emoji": '{{ template "slack.default.iconemoji" . }}',
    "icon_url": '{{ template "slack.default.iconurl" . }}',
}
DEFAULT_MRKDWN_IN = ("fallback", "pretext", "text")
_SEVERITY_COLOR = {"info": "good", "warning": "warning", "error": "danger", "critical": "danger"}

# attachment keys in the order Alertmanager writes them; `always` ones even when empty
_ATTACHMENT = (
    ("title", False),
    ("title_link", False),
    ("pretext", False),
    ("text", True),
    ("fallback", True),
    ("callback_id", True),
    ("fields", False),
    ("actions", False),
    ("image_url", False),
    ("thumb_url", False),
    ("footer", True),
    ("color", False),
    ("mrkdwn_in", False),
)
_TEXT_FIELDS = (
    "title",
    "title_link",
    "pretext",
    "text",
    "fallback",
    "callback_id",
    "image_url",
    "thumb_url",
    "footer",
    "color",
)


def build_slack(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """An incoming-webhook message with one attachment, as Alertmanager 0.25 sends it
    (or seed 002's attachment with `layout: seed002`)."""
    kind = "slack"
    url = http_url_setting(
        required_setting(settings, "api_url", kind, "https://hooks.slack.com/services/..."),
        kind,
        "api_url",
    )
    layout = setting_str(settings, "layout", kind)
    if layout not in (None, SEED_002):
        raise ValueError(f"slack: layout {layout!r} is unknown; the one layout is {SEED_002!r}")
    if layout == SEED_002:
        message = _seed_message(settings, data, render)
    else:
        message = _alertmanager_message(settings, render)
    headers = auth_headers(settings, kind)
    return json_request(kind, url, message, redact_url(url), idempotency_key, headers)


def _field(settings: Mapping[str, Any], key: str) -> str | None:
    """The field's template: the config's, else Alertmanager's default (None: no default)."""
    value = setting_str(settings, key, "slack")
    return SLACK_DEFAULTS.get(key) if value is None else value


def _alertmanager_message(settings: Mapping[str, Any], render: Render) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in _TEXT_FIELDS:
        tpl = _field(settings, key)
        values[key] = render(tpl) if tpl else ""
    values["title"] = truncate_runes(values["title"], MAX_TITLE_RUNES)
    values["fields"] = _slack_fields(settings, render)
    values["actions"] = _slack_actions(settings, render)
    mrkdwn_in = [str(x) for x in _list(settings, "mrkdwn_in")]
    values["mrkdwn_in"] = mrkdwn_in or list(DEFAULT_MRKDWN_IN)
    attachment = {key: values[key] for key, always in _ATTACHMENT if always or values[key]}
    message: dict[str, Any] = {}
    for key in ("channel", "username", "icon_emoji", "icon_url"):
        tpl = _field(settings, key)
        if tpl and (value := render(tpl)):
            message[key] = value
    if settings.get("link_names"):
        message["link_names"] = True
    message["attachments"] = [attachment]
    return message


def _list(settings: Mapping[str, Any], key: str) -> list[Any]:
    value = settings.get(key)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValueError(f"slack: '{key}' must be a list")
    return list(value)


def _slack_fields(settings: Mapping[str, Any], render: Render) -> list[dict[str, Any]]:
    """The config's fields rendered; an empty title or value is left out, as Slack's
    field object in Alertmanager omits it."""
    default_short = bool(settings.get("short_fields", False))
    out = []
    for f in _list(settings, "fields"):
        if not isinstance(f, Mapping) or "title" not in f or "value" not in f:
            raise ValueError("slack: each of 'fields' needs a title and a value")
        short = f.get("short")
        field: dict[str, Any] = {}
        if title := render(str(f["title"])):
            field["title"] = title
        if value := render(str(f["value"])):
            field["value"] = value
        field["short"] = default_short if short is None else bool(short)
        out.append(field)
    return out


def _slack_actions(settings: Mapping[str, Any], render: Render) -> list[dict[str, Any]]:
    return [_slack_action(a, render) for a in _list(settings, "actions")]


def _slack_action(action: Any, render: Render) -> dict[str, Any]:
    """A button: a url one is a link (name, value and confirm dropped, as Alertmanager's
    config does); otherwise name/value for an interactive message."""
    if not isinstance(action, Mapping) or not action.get("type") or not action.get("text"):
        raise ValueError("slack: each of 'actions' needs a type and a text, e.g. type: button")
    keys: tuple[str, ...] = ("type", "text", "url", "style")
    if not action.get("url"):
        keys = (*keys, "name", "value")
    out: dict[str, Any] = {}
    for key in keys:
        if action.get(key) is not None and (value := render(str(action[key]))):
            out[key] = value
    confirm = action.get("confirm")
    if isinstance(confirm, Mapping) and not action.get("url"):
        rendered = {
            k: render(str(confirm[k]))
            for k in ("text", "title", "ok_text", "dismiss_text")
            if confirm.get(k) is not None
        }
        out["confirm"] = {k: v for k, v in rendered.items() if v}
    return out


# --- seed 002's layout ----------------------------------------------------------------


def slack_seed_attachment(data: NotifyData) -> dict[str, Any]:
    """Seed 002's attachment: color by severity, title, text, Tenant/Severity/Time, footer, ts."""
    severity = severity_of(data)
    color = "good" if data.status == "resolved" else _SEVERITY_COLOR.get(severity, "danger")
    first = first_occurred(data)
    when = datetime.fromtimestamp(first, UTC).strftime("%Y-%m-%d %H:%M:%S") if first else ""
    return {
        "color": color,
        "title": _seed_title(data),
        "text": _seed_text(data),
        "fields": [
            {"title": "Tenant", "value": common_or_joined(data, "tenant") or "-", "short": True},
            {"title": "Severity", "value": severity.upper() or "-", "short": True},
            {"title": "Time", "value": when, "short": True},
        ],
        "footer": "tenantwatch",
        "ts": int(first),
    }


def _seed_title(data: NotifyData) -> str:
    status = f"FIRING:{len(data.firing)}" if data.status == "firing" else "RESOLVED"
    name = common_or_joined(data, "alertname") or f"{len(data.alerts)} alerts"
    tenant = common_or_joined(data, "tenant")
    return f"[{status}] {name}" + (f" - {tenant}" if tenant else "")


def _seed_text(data: NotifyData) -> str:
    lines: list[str] = []
    for alert in data.alerts:
        line = alert.annotations.get("description") or alert.annotations.get("summary") or ""
        if line and line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _seed_message(settings: Mapping[str, Any], data: NotifyData, render: Render) -> dict[str, Any]:
    """Seed 002's attachment with the fields the config sets rendered in their place."""
    att = slack_seed_attachment(data)
    for key in _TEXT_FIELDS:
        tpl = setting_str(settings, key, "slack")
        if tpl is None:
            continue
        value = render(tpl)
        att[key] = truncate_runes(value, MAX_TITLE_RUNES) if key == "title" else value
    if settings.get("fields") is not None:
        att["fields"] = _slack_fields(settings, render)
    if settings.get("actions") is not None:
        att["actions"] = _slack_actions(settings, render)
    if settings.get("mrkdwn_in") is not None:
        att["mrkdwn_in"] = [str(x) for x in _list(settings, "mrkdwn_in")]
    elif any(settings.get(k) is not None for k in ("text", "pretext", "fallback")):
        att["mrkdwn_in"] = list(DEFAULT_MRKDWN_IN)
    att = {k: v for k, v in att.items() if v not in ("", [], None) or k in ("text", "title")}
    message: dict[str, Any] = {}
    for key in ("channel", "username", "icon_emoji", "icon_url"):
        tpl = setting_str(settings, key, "slack")
        if tpl is not None and (value := render(tpl)):
            message[key] = value
    if settings.get("link_names"):
        message["link_names"] = True
    message["attachments"] = [att]
    return message

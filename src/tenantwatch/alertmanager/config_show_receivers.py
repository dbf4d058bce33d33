"""Receivers as Alertmanager 0.25's configuration prints them (for /api/v2/status): the
kinds it reads, each with its defaults, global settings applied and secrets masked."""

from __future__ import annotations

from typing import Any

from tenantwatch.alertmanager.config_show_values import (
    Out,
    Raw,
    host_port,
    only,
    put,
    secret,
    shown_http,
    shown_tls,
    sorted_map,
)
from tenantwatch.alertmanager.notify_email import EMAIL_DEFAULT_HTML, EMAIL_DEFAULT_SUBJECT
from tenantwatch.alertmanager.notify_pagerduty import (
    PAGERDUTY_DEFAULT_DETAILS,
    PAGERDUTY_DEFAULTS,
    PAGERDUTY_URL,
)
from tenantwatch.alertmanager.notify_slack import SLACK_DEFAULTS

_SEND_RESOLVED = {"email": False, "pagerduty": True, "slack": False, "webhook": True}
# the receiver kinds Alertmanager 0.25 reads, in the order it writes them
SHOWN_KINDS = ("email", "pagerduty", "slack", "webhook")


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

    put(out, "to", raw.get("to"))
    put(out, "from", pick("from"))
    put(out, "hello", pick("hello") or "localhost")
    put(out, "smarthost", host_port(pick("smarthost")) if pick("smarthost") else None)
    put(out, "auth_username", pick("auth_username"))
    own_password = raw.get("auth_password") or raw.get("auth_password_file")
    password = raw.get("auth_password") if own_password else glob.get("smtp_auth_password")
    password_file = (
        raw.get("auth_password_file") if own_password else glob.get("smtp_auth_password_file")
    )
    put(out, "auth_password", secret(password))
    put(out, "auth_password_file", password_file)
    put(out, "auth_secret", secret(pick("auth_secret")))
    put(out, "auth_identity", pick("auth_identity"))
    headers = {
        "-".join(p.capitalize() for p in str(k).split("-")): str(v)
        for k, v in (raw.get("headers") or {}).items()
    }
    if raw.get("subject") is not None:
        headers.setdefault("Subject", str(raw["subject"]))
    headers.setdefault("Subject", EMAIL_DEFAULT_SUBJECT)
    headers.setdefault("To", str(raw.get("to") or ""))
    headers.setdefault("From", str(out.get("from") or ""))
    out["headers"] = sorted_map(headers)
    html = raw.get("html")
    put(out, "html", EMAIL_DEFAULT_HTML if html is None else html)
    text = raw.get("text") if raw.get("text") is not None else raw.get("body")
    put(out, "text", text)
    require = raw.get("require_tls")
    out["require_tls"] = bool(glob.get("smtp_require_tls", True) if require is None else require)
    put(out, "tls_config", shown_tls(raw.get("tls_config")))
    return out


def shown_pagerduty(raw: Raw, glob: Raw) -> Out:
    out = _common("pagerduty", raw, glob)
    put(out, "service_key", secret(raw.get("service_key")))
    put(out, "service_key_file", raw.get("service_key_file"))
    put(out, "routing_key", secret(raw.get("routing_key")))
    put(out, "routing_key_file", raw.get("routing_key_file"))
    out["url"] = str(raw.get("url") or glob.get("pagerduty_url") or PAGERDUTY_URL)
    for key in ("client", "client_url", "description"):
        value = raw.get(key)
        put(out, key, PAGERDUTY_DEFAULTS[key] if value is None else value)
    out["details"] = sorted_map({**PAGERDUTY_DEFAULT_DETAILS, **(raw.get("details") or {})})
    images = [only(i, ("src", "alt", "href")) for i in raw.get("images") or []]
    put(out, "images", images)
    put(out, "links", [only(i, ("href", "text")) for i in raw.get("links") or []])
    put(out, "source", raw.get("source") or out.get("client"))
    for key in ("severity", "class", "component", "group"):
        put(out, key, raw.get(key))
    return out


def shown_slack(raw: Raw, glob: Raw) -> Out:
    out = _common("slack", raw, glob)
    own = raw.get("api_url") or raw.get("api_url_file")
    put(out, "api_url", secret(raw.get("api_url") if own else glob.get("slack_api_url")))
    file = raw.get("api_url_file") if own else glob.get("slack_api_url_file")
    put(out, "api_url_file", file)
    put(out, "channel", raw.get("channel"))

    def field(key: str) -> None:
        value = raw.get(key)
        put(out, key, SLACK_DEFAULTS.get(key) if value is None else value)

    for key in ("username", "color", "title", "title_link", "pretext", "text"):
        field(key)
    put(out, "fields", [_slack_field(f) for f in raw.get("fields") or []])
    out["short_fields"] = bool(raw.get("short_fields", False))
    for key in ("footer", "fallback", "callback_id", "icon_emoji", "icon_url"):
        field(key)
    put(out, "image_url", raw.get("image_url"))
    put(out, "thumb_url", raw.get("thumb_url"))
    out["link_names"] = bool(raw.get("link_names", False))
    put(out, "mrkdwn_in", [str(x) for x in raw.get("mrkdwn_in") or []])
    put(out, "actions", [_slack_action(a) for a in raw.get("actions") or []])
    return out


def _slack_field(raw: Raw) -> Out:
    out = only(raw, ("title", "value"))
    if raw.get("short") is not None:
        out["short"] = bool(raw["short"])
    return out


def _slack_action(raw: Raw) -> Out:
    keys = (
        ("type", "text", "url", "style")
        if raw.get("url")
        else ("type", "text", "url", "style", "name", "value")
    )
    out = only(raw, keys)
    if raw.get("confirm") is not None and not raw.get("url"):
        out["confirm"] = only(raw["confirm"], ("text", "title", "ok_text", "dismiss_text"))
    return out


_SHOWN = {
    "email": shown_email,
    "pagerduty": shown_pagerduty,
    "slack": shown_slack,
    "webhook": shown_webhook,
}

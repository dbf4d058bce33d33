"""What each notification channel sends: pure builders from NotifyData to an OutboundRequest.

Every builder takes the integration's settings (its mapping from the Alertmanager-style
config, with global defaults such as `slack_api_url` or `smtp_smarthost` already applied
by the config layer), the NotifyData, and `render`, which executes an Alertmanager
template string against that NotifyData. Builders never read files, the clock or the
network; the senders in adapters/notifiers do the I/O.

Webhook signatures (`hmac_secret`): the sender adds, at each delivery attempt,
`X-Tenantwatch-Timestamp: <unix seconds>` and
`X-Tenantwatch-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`.
Receivers recompute it with `webhook_signature` (or `verify_webhook_signature`), and
reject old timestamps to stop replays. `X-Tenantwatch-Idempotency-Key` is the same on
every retry of one notification, so receivers can drop duplicates.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tenantwatch.domain.notify_data import (
    NotifyData,
    webhook_payload,
)
from tenantwatch.domain.notify_email import build_email, notify_data_from_payload
from tenantwatch.domain.notify_request import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    OutboundRequest,
    Render,
    RenderEmail,
    auth_headers,
    common_or_joined,
    first_occurred,
    go_json,
    group_key_hash,
    http_url_setting,
    json_request,
    redact_url,
    required_setting,
    setting_mapping,
    setting_str,
    severity_of,
    truncate_runes,
    verify_webhook_signature,
    webhook_signature,
    with_http_config,
)

# what callers import from here though it is defined in notify_request or notify_email
__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "OutboundRequest",
    "Render",
    "RenderEmail",
    "build_email",
    "go_json",
    "group_key_hash",
    "notify_data_from_payload",
    "redact_url",
    "severity_of",
    "truncate_runes",
    "verify_webhook_signature",
    "webhook_signature",
]

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
TWILIO_URL = "https://api.twilio.com"
MAX_TITLE_RUNES = 1024  # Slack title, as Alertmanager truncates it
MAX_SUMMARY_RUNES = 1024  # PagerDuty payload.summary
MAX_SMS_CHARS = 1600  # Twilio's limit on Body
MAX_PAGERDUTY_EVENT = 512_000

_SUBJECT = '{{ template "__subject" . }}'
_ALERT_LIST_MARKDOWN = (
    "{{ range . }}\nLabels:\n{{ range .Labels.SortedPairs }}  - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}\nAnnotations:\n{{ range .Annotations.SortedPairs }}  - {{ .Name }} = "
    "{{ .Value }}\n{{ end }}\nSource: {{ .GeneratorURL }}\n{{ end }}\n"
)
# Alertmanager's msteams.default.text (0.26+), spelled out because 0.25's template set
# has neither it nor __text_alert_list_markdown.
MSTEAMS_DEFAULT_TEXT = (
    "\n{{ if gt (len .Alerts.Firing) 0 }}\n# Alerts Firing:\n"
    + _ALERT_LIST_MARKDOWN.replace("{{ range . }}", "{{ range .Alerts.Firing }}")
    + "{{ end }}\n{{ if gt (len .Alerts.Resolved) 0 }}\n# Alerts Resolved:\n"
    + _ALERT_LIST_MARKDOWN.replace("{{ range . }}", "{{ range .Alerts.Resolved }}")
    + "{{ end }}\n"
)
PAGERDUTY_DEFAULT_DETAILS = {
    "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
    "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
    "num_firing": "{{ .Alerts.Firing | len }}",
    "num_resolved": "{{ .Alerts.Resolved | len }}",
}
_PD_SEVERITY = {
    "critical": "critical",
    "crit": "critical",
    "page": "critical",
    "fatal": "critical",
    "error": "error",
    "err": "error",
    "high": "error",
    "warning": "warning",
    "warn": "warning",
    "medium": "warning",
    "info": "info",
    "informational": "info",
    "low": "info",
}
_SLACK_COLOR = {"info": "good", "warning": "warning", "error": "danger", "critical": "danger"}


# --- webhook --------------------------------------------------------------------------


def truncate_alerts(data: NotifyData, max_alerts: int) -> NotifyData:
    """The data of the first max_alerts alerts, as Alertmanager's webhook max_alerts does."""
    if max_alerts <= 0 or len(data.alerts) <= max_alerts:
        return data
    kept = data.alerts[:max_alerts]
    common_labels = _intersect([a.labels for a in kept])
    common_annotations = _intersect([a.annotations for a in kept])
    return replace(
        data,
        alerts=kept,
        status="firing" if any(a.status == "firing" for a in kept) else "resolved",
        common_labels=common_labels,
        common_annotations=common_annotations,
        truncated_alerts=data.truncated_alerts + len(data.alerts) - max_alerts,
    )


def _intersect(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    out = dict(maps[0]) if maps else {}
    for m in maps[1:]:
        out = {k: v for k, v in out.items() if m.get(k) == v}
    return out


def _go_payload(data: NotifyData) -> dict[str, Any]:
    payload = webhook_payload(data)
    for key in ("groupLabels", "commonLabels", "commonAnnotations"):
        payload[key] = dict(sorted(payload[key].items()))
    for alert in payload["alerts"]:
        alert["labels"] = dict(sorted(alert["labels"].items()))
        alert["annotations"] = dict(sorted(alert["annotations"].items()))
    return payload


def build_webhook(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """Alertmanager's webhook (version 4) POST; optional max_alerts and HMAC signature."""
    del render  # the webhook body is not templated
    url = http_url_setting(
        required_setting(settings, "url", "webhook", "https://example.com/alerts"), "webhook", "url"
    )
    max_alerts = settings.get("max_alerts", 0) or 0
    if isinstance(max_alerts, bool) or not isinstance(max_alerts, int) or max_alerts < 0:
        raise ValueError(
            f"webhook: max_alerts {max_alerts!r} must be a whole number >= 0 (0 = all)"
        )
    secret = setting_str(settings, "hmac_secret", "webhook") or None
    headers = [*auth_headers(settings, "webhook"), (IDEMPOTENCY_HEADER, idempotency_key)]
    payload = _go_payload(truncate_alerts(data, max_alerts))
    return json_request(
        "webhook", url, payload, redact_url(url), idempotency_key, headers, hmac_secret=secret
    )


# --- slack ----------------------------------------------------------------------------

_SLACK_TEXT_FIELDS = (
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


def slack_seed_attachment(data: NotifyData) -> dict[str, Any]:
    """Seed 002's attachment: color by severity, title, text, Tenant/Severity/Time, footer, ts."""
    severity = severity_of(data)
    color = "good" if data.status == "resolved" else _SLACK_COLOR.get(severity, "danger")
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


def build_slack(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """An incoming-webhook message: seed 002's attachment, with the fields the config sets
    (title, text, color, fields, actions, ...) rendered and put in their place."""
    kind = "slack"
    url = http_url_setting(
        required_setting(settings, "api_url", kind, "https://hooks.slack.com/services/..."),
        kind,
        "api_url",
    )
    att = slack_seed_attachment(data)
    for key in _SLACK_TEXT_FIELDS:
        tpl = setting_str(settings, key, kind)
        if tpl is None:
            continue
        value = render(tpl)
        att[key] = truncate_runes(value, MAX_TITLE_RUNES) if key == "title" else value
    if settings.get("fields") is not None:
        att["fields"] = _slack_fields(settings, render)
    if settings.get("actions") is not None:
        att["actions"] = [_slack_action(a, render) for a in _list(settings, "actions", kind)]
    if settings.get("mrkdwn_in") is not None:
        att["mrkdwn_in"] = [str(x) for x in _list(settings, "mrkdwn_in", kind)]
    elif any(settings.get(k) is not None for k in ("text", "pretext", "fallback")):
        att["mrkdwn_in"] = ["fallback", "pretext", "text"]
    att = {k: v for k, v in att.items() if v not in ("", [], None) or k in ("text", "title")}
    message: dict[str, Any] = {}
    for key in ("channel", "username", "icon_emoji", "icon_url"):
        tpl = setting_str(settings, key, kind)
        if tpl is not None and (value := render(tpl)):
            message[key] = value
    if settings.get("link_names"):
        message["link_names"] = True
    message["attachments"] = [att]
    headers = auth_headers(settings, kind)
    return json_request(kind, url, message, redact_url(url), idempotency_key, headers)


def _list(settings: Mapping[str, Any], key: str, kind: str) -> list[Any]:
    value = settings.get(key)
    if not isinstance(value, list | tuple):
        raise ValueError(f"{kind}: '{key}' must be a list")
    return list(value)


def _slack_fields(settings: Mapping[str, Any], render: Render) -> list[dict[str, Any]]:
    default_short = bool(settings.get("short_fields", False))
    out = []
    for f in _list(settings, "fields", "slack"):
        if not isinstance(f, Mapping) or "title" not in f or "value" not in f:
            raise ValueError("slack: each of 'fields' needs a title and a value")
        short = f.get("short")
        out.append(
            {
                "title": render(str(f["title"])),
                "value": render(str(f["value"])),
                "short": default_short if short is None else bool(short),
            }
        )
    return out


def _slack_action(action: Any, render: Render) -> dict[str, Any]:
    if not isinstance(action, Mapping) or not action.get("type") or not action.get("text"):
        raise ValueError("slack: each of 'actions' needs a type and a text, e.g. type: button")
    out: dict[str, Any] = {}
    for key in ("type", "text", "url", "style", "name", "value"):
        if action.get(key) is not None and (value := render(str(action[key]))):
            out[key] = value
    confirm = action.get("confirm")
    if isinstance(confirm, Mapping):
        out["confirm"] = {
            k: render(str(confirm[k]))
            for k in ("title", "text", "ok_text", "dismiss_text")
            if confirm.get(k) is not None
        }
    return out


# --- pagerduty ------------------------------------------------------------------------


def pagerduty_severity(data: NotifyData) -> str:
    """A PagerDuty severity from the group's severity label; 'error' when unknown."""
    return _PD_SEVERITY.get(severity_of(data), "error")


def _pagerduty_basics(settings: Mapping[str, Any], render: Render) -> tuple[str, str, str]:
    kind = "pagerduty"
    if settings.get("service_key") or settings.get("service_key_file"):
        raise ValueError(
            "pagerduty: service_key (Events API v1) is not supported; "
            "use routing_key, the integration key of an Events API v2 integration"
        )
    if settings.get("routing_key_file"):
        raise ValueError(
            "pagerduty: routing_key_file is not supported; put routing_key in the config"
        )
    routing_key = render(
        required_setting(settings, "routing_key", kind, "<32-character integration key>")
    )
    if not routing_key:
        raise ValueError(
            "pagerduty: routing_key is empty after templating; give the integration key"
        )
    url = http_url_setting(setting_str(settings, "url", kind) or PAGERDUTY_URL, kind, "url")
    return url, routing_key, f"{redact_url(url)} (routing_key ***)"


def build_pagerduty(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """An Events API v2 event: trigger while any alert fires, resolve when all resolved."""
    kind = "pagerduty"
    url, routing_key, target = _pagerduty_basics(settings, render)
    client_tpl = (
        setting_str(settings, "client", kind) or '{{ template "pagerduty.default.client" . }}'
    )
    client_url_tpl = (
        setting_str(settings, "client_url", kind)
        or '{{ template "pagerduty.default.clientURL" . }}'
    )
    description = (
        setting_str(settings, "description", kind)
        or '{{ template "pagerduty.default.description" .}}'
    )
    severity_tpl = setting_str(settings, "severity", kind)
    details_tpl = {
        **PAGERDUTY_DEFAULT_DETAILS,
        **{str(k): str(v) for k, v in setting_mapping(settings, "details", kind).items()},
    }
    details = {k: render(v) for k, v in details_tpl.items()}
    payload: dict[str, Any] = {
        "summary": truncate_runes(render(description), MAX_SUMMARY_RUNES),
        "source": render(setting_str(settings, "source", kind) or client_tpl),
        "severity": render(severity_tpl) if severity_tpl else pagerduty_severity(data),
    }
    for key in ("class", "component", "group"):
        tpl = setting_str(settings, key, kind)
        if tpl and (value := render(tpl)):
            payload[key] = value
    if details:
        payload["custom_details"] = details
    message: dict[str, Any] = {
        "routing_key": routing_key,
        "dedup_key": group_key_hash(data.group_key),
        "event_action": "trigger" if data.status == "firing" else "resolve",
        "payload": payload,
    }
    if client := render(client_tpl):
        message["client"] = client
    if client_url := render(client_url_tpl):
        message["client_url"] = client_url
    images = [_pd_item(i, ("src", "alt", "href"), render) for i in settings.get("images") or ()]
    if images := [i for i in images if i["src"]]:
        message["images"] = images
    links = [_pd_item(i, ("href", "text"), render) for i in settings.get("links") or ()]
    if links := [link for link in links if link["href"]]:
        message["links"] = links
    if len(go_json(message)) > MAX_PAGERDUTY_EVENT:
        payload["custom_details"] = {
            "error": "Custom details have been removed because the original event exceeds "
            "the maximum size of 512kB"
        }
    return json_request(kind, url, message, target, idempotency_key, auth_headers(settings, kind))


def _pd_item(item: Any, keys: tuple[str, ...], render: Render) -> dict[str, str]:
    if not isinstance(item, Mapping):
        raise ValueError(f"pagerduty: images and links are mappings with {', '.join(keys)}")
    return {k: render(str(item.get(k) or "")) for k in keys}


def build_pagerduty_ack(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """An Events API v2 acknowledge for the group's open PagerDuty alert (same dedup_key)."""
    url, routing_key, target = _pagerduty_basics(settings, render)
    message = {
        "routing_key": routing_key,
        "dedup_key": group_key_hash(data.group_key),
        "event_action": "acknowledge",
    }
    headers = auth_headers(settings, "pagerduty")
    request = json_request("pagerduty", url, message, target, idempotency_key, headers)
    return with_http_config(request, settings, "pagerduty")


# --- microsoft teams ------------------------------------------------------------------


def build_msteams(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """A Teams MessageCard with Alertmanager's msteams_configs defaults."""
    kind = "msteams"
    url = http_url_setting(
        required_setting(settings, "webhook_url", kind, "https://example.webhook.office.com/..."),
        kind,
        "webhook_url",
    )
    card = {
        "@context": "http://schema.org/extensions",
        "@type": "MessageCard",
        "title": render(setting_str(settings, "title", kind) or _SUBJECT),
        "summary": render(setting_str(settings, "summary", kind) or _SUBJECT),
        "text": render(setting_str(settings, "text", kind) or MSTEAMS_DEFAULT_TEXT),
        "themeColor": "8C1A1A" if data.status == "firing" else "2DC72D",
    }
    headers = auth_headers(settings, kind)
    return json_request(kind, url, card, redact_url(url), idempotency_key, headers)


# --- twilio ---------------------------------------------------------------------------


def build_twilio(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """An SMS through Twilio's Messages API: form-encoded To/From/Body, basic auth."""
    del data
    kind = "twilio"
    sid = required_setting(settings, "account_sid", kind, "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
    token = required_setting(settings, "auth_token", kind, "<auth token>")
    if not isinstance(settings.get("to"), str):
        raise ValueError(
            "twilio: 'to' must be one phone number such as +15550100; add one config per number"
        )
    to = required_setting(settings, "to", kind, "+15550100")
    sender = required_setting(settings, "from", kind, "+15550199")
    base = http_url_setting(setting_str(settings, "url", kind) or TWILIO_URL, kind, "url").rstrip(
        "/"
    )
    text = render(setting_str(settings, "message", kind) or _SUBJECT)
    body = urlencode([("To", to), ("From", sender), ("Body", truncate_runes(text, MAX_SMS_CHARS))])
    auth = base64.b64encode(f"{sid}:{token}".encode()).decode("ascii")
    return OutboundRequest(
        kind=kind,
        method="POST",
        url=f"{base}/2010-04-01/Accounts/{sid}/Messages.json",
        headers=(
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", f"Basic {auth}"),
        ),
        body=body.encode("ascii"),
        json=None,
        smtp=None,
        target=f"sms:{to} via {redact_url(base)}",
        idempotency_key=idempotency_key,
    )


# --- apprise --------------------------------------------------------------------------

APPRISE_DEFAULT_BODY = MSTEAMS_DEFAULT_TEXT
_APPRISE_HOSTED = ("json", "jsons", "xml", "xmls", "form", "forms")


def apprise_target(url: str) -> str:
    """An Apprise URL with everything but the scheme masked (the host too, except for
    json/xml/form URLs, whose host is the destination rather than a token)."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        return "<invalid apprise url>"
    if scheme.lower() in _APPRISE_HOSTED:
        return redact_url("http://" + url.split("://", 1)[1]).replace("http://", f"{scheme}://", 1)
    return f"{scheme}://***"


def build_apprise(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """A title and body for every URL in `urls` (any Apprise URL)."""
    del data
    kind = "apprise"
    urls = settings.get("urls")
    if isinstance(urls, str):
        urls = [urls]
    if not urls or not all(isinstance(u, str) and "://" in u for u in urls):
        raise ValueError(
            "apprise: 'urls' must list Apprise URLs, e.g. urls: ['json://hooks.example.com/alerts']"
        )
    message = {
        "urls": list(urls),
        "title": render(setting_str(settings, "title", kind) or _SUBJECT),
        "body": render(setting_str(settings, "body", kind) or APPRISE_DEFAULT_BODY),
    }
    return OutboundRequest(
        kind=kind,
        method="NOTIFY",
        url="",
        headers=(),
        body=None,
        json=message,
        smtp=None,
        target=", ".join(apprise_target(u) for u in urls),
        idempotency_key=idempotency_key,
    )


Builder = Callable[..., OutboundRequest]
BUILDERS: Mapping[str, Builder] = {
    "webhook": build_webhook,
    "slack": build_slack,
    "pagerduty": build_pagerduty,
    "msteams": build_msteams,
    "twilio": build_twilio,
    "email": build_email,
    "apprise": build_apprise,
}


def build_request(
    kind: str,
    settings: Mapping[str, Any],
    data: NotifyData,
    render: Render,
    *,
    idempotency_key: str,
    render_email: RenderEmail | None = None,
    render_html: Render | None = None,
) -> OutboundRequest:
    """The request of one integration; kind is the config's `<kind>_configs` prefix."""
    builder = BUILDERS.get(kind)
    if builder is None:
        raise ValueError(f"unknown notification kind {kind!r}; use one of {', '.join(BUILDERS)}")
    if kind == "email":  # no http_config
        return build_email(
            settings,
            data,
            render,
            idempotency_key=idempotency_key,
            render_email=render_email,
            render_html=render_html,
        )
    request = builder(settings, data, render, idempotency_key=idempotency_key)
    return with_http_config(request, settings, kind)

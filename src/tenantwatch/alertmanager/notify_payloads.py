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
from typing import Any
from urllib.parse import urlencode

from tenantwatch.alertmanager.notify_data import (
    NotifyData,
    webhook_payload,
)
from tenantwatch.alertmanager.notify_email import build_email, notify_data_from_payload
from tenantwatch.alertmanager.notify_pagerduty import (
    PAGERDUTY_DEFAULT_DETAILS,
    build_pagerduty,
    build_pagerduty_ack,
)
from tenantwatch.alertmanager.notify_request import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    OutboundRequest,
    Render,
    RenderEmail,
    auth_headers,
    go_json,
    group_key_hash,
    http_url_setting,
    json_request,
    redact_url,
    required_setting,
    setting_str,
    severity_of,
    truncate_runes,
    verify_webhook_signature,
    webhook_signature,
    with_http_config,
)
from tenantwatch.alertmanager.notify_slack import build_slack, slack_seed_attachment

# what callers import from here though it is defined in notify_request, notify_email,
# notify_slack or notify_pagerduty
__all__ = [
    "IDEMPOTENCY_HEADER",
    "PAGERDUTY_DEFAULT_DETAILS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "OutboundRequest",
    "Render",
    "RenderEmail",
    "build_email",
    "build_pagerduty",
    "build_pagerduty_ack",
    "build_slack",
    "go_json",
    "group_key_hash",
    "notify_data_from_payload",
    "redact_url",
    "severity_of",
    "slack_seed_attachment",
    "truncate_runes",
    "verify_webhook_signature",
    "webhook_signature",
]

TWILIO_URL = "https://api.twilio.com"
MAX_SMS_CHARS = 1600  # Twilio's limit on Body

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


# --- microsoft teams ------------------------------------------------------------------


MSTEAMS_DEFAULTS: Mapping[str, str] = {
    "title": '{{ template "msteams.default.title" . }}',
    "text": '{{ template "msteams.default.text" . }}',
}


def build_msteams(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """A Teams MessageCard as Alertmanager 0.26 (the first with msteams_configs) sends it,
    with its defaults for title and text; `summary` (from 0.27) is added when set."""
    kind = "msteams"
    url = http_url_setting(
        required_setting(settings, "webhook_url", kind, "https://example.webhook.office.com/..."),
        kind,
        "webhook_url",
    )

    def field(key: str) -> str:
        value = setting_str(settings, key, kind)
        return render(MSTEAMS_DEFAULTS.get(key, "") if value is None else value)

    card = {"@context": "http://schema.org/extensions", "type": "MessageCard"}
    card["title"] = field("title")
    if setting_str(settings, "summary", kind) is not None:
        card["summary"] = field("summary")
    card["text"] = field("text")
    card["themeColor"] = "8C1A1A" if data.status == "firing" else "2DC72D"
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

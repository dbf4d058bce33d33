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
import hashlib
import hmac
import json as jsonlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any
from urllib.parse import urlencode, urlsplit

from tenantwatch.domain.notify_data import (
    NotifyAlert,
    NotifyData,
    parse_go_time,
    webhook_payload,
)

Render = Callable[[str], str]
RenderEmail = Callable[[str, NotifyData], tuple[str, str]]

SIGNATURE_HEADER = "X-Tenantwatch-Signature"
TIMESTAMP_HEADER = "X-Tenantwatch-Timestamp"
IDEMPOTENCY_HEADER = "X-Tenantwatch-Idempotency-Key"
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
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}
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


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """One message to send. Holds secrets (auth headers, keys); show only `target`.

    HTTP kinds use method/url/headers/body (`json` keeps the decoded body for display);
    email uses `smtp`; apprise uses `json` = {"urls", "title", "body"}.
    """

    kind: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    json: Any | None
    smtp: Mapping[str, Any] | None
    target: str
    idempotency_key: str = ""
    hmac_secret: str | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable dict that from_json turns back into an equal request."""
        body: str | None = None
        encoding = "utf-8"
        if self.body is not None:
            try:
                body = self.body.decode("utf-8")
            except UnicodeDecodeError:
                body, encoding = base64.b64encode(self.body).decode("ascii"), "base64"
        return {
            "kind": self.kind,
            "method": self.method,
            "url": self.url,
            "headers": [[k, v] for k, v in self.headers],
            "body": body,
            "body_encoding": encoding,
            "json": self.json,
            "smtp": dict(self.smtp) if self.smtp is not None else None,
            "target": self.target,
            "idempotency_key": self.idempotency_key,
            "hmac_secret": self.hmac_secret,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> OutboundRequest:
        """The request to_json stored (a dict, or its JSON text)."""
        d: Mapping[str, Any] = jsonlib.loads(data) if isinstance(data, str | bytes) else data
        raw = d.get("body")
        body: bytes | None = None
        if raw is not None:
            body = (
                base64.b64decode(raw)
                if d.get("body_encoding") == "base64"
                else str(raw).encode("utf-8")
            )
        return cls(
            kind=str(d["kind"]),
            method=str(d["method"]),
            url=str(d["url"]),
            headers=tuple((str(k), str(v)) for k, v in d.get("headers") or ()),
            body=body,
            json=d.get("json"),
            smtp=_freeze_smtp(d.get("smtp")),
            target=str(d.get("target", "")),
            idempotency_key=str(d.get("idempotency_key") or ""),
            hmac_secret=d.get("hmac_secret"),
        )


def _freeze_smtp(smtp: Any) -> Mapping[str, Any] | None:
    if smtp is None:
        return None
    out = dict(smtp)
    for key in ("to", "headers"):
        if key in out and out[key] is not None:
            out[key] = [list(x) if isinstance(x, list | tuple) else x for x in out[key]]
    return out


# --- shared helpers -------------------------------------------------------------------


def go_json(value: Any) -> bytes:
    """JSON as Go's json.Encoder writes it: compact, <>& escaped, newline-terminated."""
    text = jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, esc)
    return (text + "\n").encode("utf-8")


def truncate_runes(text: str, n: int) -> str:
    """text cut to n characters, the last being '…' when cut (Alertmanager's rule)."""
    if len(text) <= n:
        return text
    return text[:n] if n <= 3 else text[: n - 1] + "…"


def group_key_hash(group_key: str) -> str:
    """Alertmanager's Key.Hash(): the sha256 hex of the group key."""
    return hashlib.sha256(group_key.encode("utf-8")).hexdigest()


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Tenantwatch-Signature value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, "sha256")
    return "sha256=" + mac.hexdigest()


def verify_webhook_signature(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: float,
    tolerance_s: float = 300.0,
) -> bool:
    """True when signature matches body and timestamp, and timestamp is within tolerance."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance_s:
        return False
    return hmac.compare_digest(webhook_signature(secret, timestamp, body), signature)


def redact_url(url: str) -> str:
    """scheme://host[:port]/first-segment with credentials, query and token-like parts masked."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid url>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    segments = [s for s in parts.path.split("/") if s]
    path = ""
    if segments:
        first = segments[0]
        path = "/" + ("***" if _looks_secret(first) else first)
        if len(segments) > 1:
            path += "/***"
    if parts.query:
        path += "?***"
    return f"{parts.scheme}://{netloc}{path}"


def _looks_secret(segment: str) -> bool:
    return len(segment) >= 20 or (
        len(segment) >= 12
        and bool(re.search(r"\d", segment))
        and bool(re.search(r"[A-Za-z]", segment))
    )


def _str(
    settings: Mapping[str, Any], key: str, kind: str, default: str | None = None
) -> str | None:
    value = settings.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{kind}: '{key}' must be a string, got {type(value).__name__}")
    return value


def _required(settings: Mapping[str, Any], key: str, kind: str, example: str) -> str:
    value = _str(settings, key, kind)
    if not value:
        raise ValueError(f"{kind}: '{key}' is required; e.g. {key}: {example}")
    return value


def _http_url(url: str, kind: str, key: str) -> str:
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{kind}: '{key}' {redact_url(url)!r} must be an http:// or https:// URL with a host"
        )
    return url


def _mapping(settings: Mapping[str, Any], key: str, kind: str) -> Mapping[str, Any]:
    value = settings.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{kind}: '{key}' must be a mapping of name: value")
    return value


def _auth_headers(settings: Mapping[str, Any], kind: str) -> list[tuple[str, str]]:
    """Authorization from http_config: basic_auth, authorization or bearer_token."""
    http = _mapping(settings, "http_config", kind)
    basic = _mapping(http, "basic_auth", f"{kind} http_config")
    authz = _mapping(http, "authorization", f"{kind} http_config")
    bearer = _str(http, "bearer_token", f"{kind} http_config")
    given = [
        name
        for name, v in (("basic_auth", basic), ("authorization", authz), ("bearer_token", bearer))
        if v
    ]
    if len(given) > 1:
        raise ValueError(
            f"{kind}: http_config has {' and '.join(given)}; give only one way to authenticate"
        )
    if basic:
        user = str(basic.get("username") or "")
        password = str(basic.get("password") or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return [("Authorization", f"Basic {token}")]
    if authz:
        scheme = str(authz.get("type") or "Bearer")
        credentials = str(authz.get("credentials") or "")
        return [("Authorization", f"{scheme} {credentials}")]
    if bearer:
        return [("Authorization", f"Bearer {bearer}")]
    return []


def _json_request(
    kind: str,
    url: str,
    payload: Any,
    target: str,
    idempotency_key: str,
    headers: Sequence[tuple[str, str]] = (),
    hmac_secret: str | None = None,
) -> OutboundRequest:
    return OutboundRequest(
        kind=kind,
        method="POST",
        url=url,
        headers=(("Content-Type", "application/json"), *headers),
        body=go_json(payload),
        json=payload,
        smtp=None,
        target=target,
        idempotency_key=idempotency_key,
        hmac_secret=hmac_secret,
    )


def _common_or_joined(data: NotifyData, label: str) -> str:
    if label in data.common_labels:
        return data.common_labels[label]
    if label in data.group_labels:
        return data.group_labels[label]
    values = sorted({a.labels[label] for a in data.alerts if a.labels.get(label)})
    return ", ".join(values)


def severity_of(data: NotifyData) -> str:
    """The group's severity: the common `severity` label, else the worst known one, else ''."""
    if "severity" in data.common_labels:
        return data.common_labels["severity"].lower()
    known = [a.labels.get("severity", "").lower() for a in data.alerts]
    ranked = [s for s in known if s in _SEVERITY_RANK]
    return max(ranked, key=_SEVERITY_RANK.__getitem__) if ranked else ""


def _first_occurred(data: NotifyData) -> float:
    starts = [a.starts_at for a in data.alerts if a.starts_at]
    return min(starts) if starts else 0.0


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
    url = _http_url(
        _required(settings, "url", "webhook", "https://example.com/alerts"), "webhook", "url"
    )
    max_alerts = settings.get("max_alerts", 0) or 0
    if isinstance(max_alerts, bool) or not isinstance(max_alerts, int) or max_alerts < 0:
        raise ValueError(
            f"webhook: max_alerts {max_alerts!r} must be a whole number >= 0 (0 = all)"
        )
    secret = _str(settings, "hmac_secret", "webhook") or None
    headers = [*_auth_headers(settings, "webhook"), (IDEMPOTENCY_HEADER, idempotency_key)]
    payload = _go_payload(truncate_alerts(data, max_alerts))
    return _json_request(
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
    first = _first_occurred(data)
    when = datetime.fromtimestamp(first, UTC).strftime("%Y-%m-%d %H:%M:%S") if first else ""
    return {
        "color": color,
        "title": _seed_title(data),
        "text": _seed_text(data),
        "fields": [
            {"title": "Tenant", "value": _common_or_joined(data, "tenant") or "-", "short": True},
            {"title": "Severity", "value": severity.upper() or "-", "short": True},
            {"title": "Time", "value": when, "short": True},
        ],
        "footer": "tenantwatch",
        "ts": int(first),
    }


def _seed_title(data: NotifyData) -> str:
    status = f"FIRING:{len(data.firing)}" if data.status == "firing" else "RESOLVED"
    name = _common_or_joined(data, "alertname") or f"{len(data.alerts)} alerts"
    tenant = _common_or_joined(data, "tenant")
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
    url = _http_url(
        _required(settings, "api_url", kind, "https://hooks.slack.com/services/..."),
        kind,
        "api_url",
    )
    att = slack_seed_attachment(data)
    for key in _SLACK_TEXT_FIELDS:
        tpl = _str(settings, key, kind)
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
        tpl = _str(settings, key, kind)
        if tpl is not None and (value := render(tpl)):
            message[key] = value
    if settings.get("link_names"):
        message["link_names"] = True
    message["attachments"] = [att]
    headers = _auth_headers(settings, kind)
    return _json_request(kind, url, message, redact_url(url), idempotency_key, headers)


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
    routing_key = render(_required(settings, "routing_key", kind, "<32-character integration key>"))
    if not routing_key:
        raise ValueError(
            "pagerduty: routing_key is empty after templating; give the integration key"
        )
    url = _http_url(_str(settings, "url", kind) or PAGERDUTY_URL, kind, "url")
    return url, routing_key, f"{redact_url(url)} (routing_key ***)"


def build_pagerduty(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """An Events API v2 event: trigger while any alert fires, resolve when all resolved."""
    kind = "pagerduty"
    url, routing_key, target = _pagerduty_basics(settings, render)
    client_tpl = _str(settings, "client", kind) or '{{ template "pagerduty.default.client" . }}'
    client_url_tpl = (
        _str(settings, "client_url", kind) or '{{ template "pagerduty.default.clientURL" . }}'
    )
    description = (
        _str(settings, "description", kind) or '{{ template "pagerduty.default.description" .}}'
    )
    severity_tpl = _str(settings, "severity", kind)
    details_tpl = {
        **PAGERDUTY_DEFAULT_DETAILS,
        **{str(k): str(v) for k, v in _mapping(settings, "details", kind).items()},
    }
    details = {k: render(v) for k, v in details_tpl.items()}
    payload: dict[str, Any] = {
        "summary": truncate_runes(render(description), MAX_SUMMARY_RUNES),
        "source": render(_str(settings, "source", kind) or client_tpl),
        "severity": render(severity_tpl) if severity_tpl else pagerduty_severity(data),
    }
    for key in ("class", "component", "group"):
        tpl = _str(settings, key, kind)
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
    return _json_request(kind, url, message, target, idempotency_key, _auth_headers(settings, kind))


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
    headers = _auth_headers(settings, "pagerduty")
    return _json_request("pagerduty", url, message, target, idempotency_key, headers)


# --- microsoft teams ------------------------------------------------------------------


def build_msteams(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """A Teams MessageCard with Alertmanager's msteams_configs defaults."""
    kind = "msteams"
    url = _http_url(
        _required(settings, "webhook_url", kind, "https://example.webhook.office.com/..."),
        kind,
        "webhook_url",
    )
    card = {
        "@context": "http://schema.org/extensions",
        "@type": "MessageCard",
        "title": render(_str(settings, "title", kind) or _SUBJECT),
        "summary": render(_str(settings, "summary", kind) or _SUBJECT),
        "text": render(_str(settings, "text", kind) or MSTEAMS_DEFAULT_TEXT),
        "themeColor": "8C1A1A" if data.status == "firing" else "2DC72D",
    }
    headers = _auth_headers(settings, kind)
    return _json_request(kind, url, card, redact_url(url), idempotency_key, headers)


# --- twilio ---------------------------------------------------------------------------


def build_twilio(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """An SMS through Twilio's Messages API: form-encoded To/From/Body, basic auth."""
    del data
    kind = "twilio"
    sid = _required(settings, "account_sid", kind, "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
    token = _required(settings, "auth_token", kind, "<auth token>")
    if not isinstance(settings.get("to"), str):
        raise ValueError(
            "twilio: 'to' must be one phone number such as +15550100; add one config per number"
        )
    to = _required(settings, "to", kind, "+15550100")
    sender = _required(settings, "from", kind, "+15550199")
    base = _http_url(_str(settings, "url", kind) or TWILIO_URL, kind, "url").rstrip("/")
    text = render(_str(settings, "message", kind) or _SUBJECT)
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


# --- email ----------------------------------------------------------------------------


def _canonical_header(name: str) -> str:
    """Go's textproto.CanonicalMIMEHeaderKey: message-id -> Message-Id."""
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


def _host_port(smarthost: str) -> tuple[str, int]:
    m = re.fullmatch(r"\[?([^\]\s]+?)\]?:(\d{1,5})", smarthost.strip())
    if m is None or not 0 < int(m.group(2)) < 65536:
        raise ValueError(
            f"email: smarthost {smarthost!r} must be host:port, e.g. smtp.example.com:587"
        )
    return m.group(1), int(m.group(2))


def build_email(
    settings: Mapping[str, Any],
    data: NotifyData,
    render: Render,
    *,
    idempotency_key: str,
    render_email: RenderEmail | None = None,
    render_html: Render | None = None,
) -> OutboundRequest:
    """An email: headers (To, From, Subject, ...) and text/html bodies, plus SMTP settings.

    `html` / `text` (seed 000's `body` means `text`) are Alertmanager templates (`html`
    rendered by render_html, which escapes values as html/template does); a part the
    config does not set comes from the Jinja2 templates: rendered now by
    render_email("default", data) when given, else by the email sender (the request then
    carries the data as `template_data`). An empty string leaves the part out.
    """
    kind = "email"
    to_tpl = _required(settings, "to", kind, "ops@example.com")
    from_tpl = _required(settings, "from", kind, "alertmanager@example.com")
    host, port = _host_port(_required(settings, "smarthost", kind, "smtp.example.com:587"))
    headers: dict[str, str] = {}
    for name, value in _mapping(settings, "headers", kind).items():
        canonical = _canonical_header(str(name))
        if canonical in headers:
            raise ValueError(f"email: header {canonical!r} is given twice; keep one")
        headers[canonical] = str(value)
    headers.setdefault("To", to_tpl)
    headers.setdefault("From", from_tpl)
    headers.setdefault(
        "Subject", _str(settings, "subject", kind) or '{{ template "email.default.subject" . }}'
    )
    rendered = [(name, render(tpl)) for name, tpl in headers.items()]
    envelope_from = [a for _, a in getaddresses([render(from_tpl)]) if a]
    if len(envelope_from) != 1:
        raise ValueError(f"email: 'from' must be exactly one address, got {len(envelope_from)}")
    envelope_to = [a for _, a in getaddresses([render(to_tpl)]) if a]
    if not envelope_to:
        raise ValueError("email: 'to' has no address; e.g. to: ops@example.com")
    html_tpl = _str(settings, "html", kind)
    text_tpl = _str(settings, "text", kind)
    if text_tpl is None:
        text_tpl = _str(settings, "body", kind)
    html = (render_html or render)(html_tpl) if html_tpl is not None else None
    text = render(text_tpl) if text_tpl is not None else None
    defaults = [part for part, value in (("html", html), ("text", text)) if value is None]
    if defaults and render_email is not None:
        default_html, default_text = render_email("default", data)
        html = default_html if html is None else html
        text = default_text if text is None else text
        defaults = []
    tls = _mapping(settings, "tls_config", kind)
    require_tls = settings.get("require_tls", True)
    smtp = {
        "host": host,
        "port": port,
        "hello": _str(settings, "hello", kind) or "",
        "from": envelope_from[0],
        "to": envelope_to,
        "headers": [[name, value] for name, value in rendered],
        "message_id": f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@tenantwatch>",
        "text": text or None,
        "html": html or None,
        "auth_username": _str(settings, "auth_username", kind) or "",
        "auth_password": _str(settings, "auth_password", kind) or "",
        "auth_identity": _str(settings, "auth_identity", kind) or "",
        "require_tls": True if require_tls is None else bool(require_tls),
        "insecure_skip_verify": bool(tls.get("insecure_skip_verify", False)),
        "ca_file": str(tls.get("ca_file") or "") or None,
        "server_name": str(tls.get("server_name") or "") or None,
    }
    if defaults:  # the email sender renders them from the Jinja2 templates
        smtp["default_parts"] = defaults
        smtp["template"] = "default"
        smtp["template_data"] = webhook_payload(data)
    return OutboundRequest(
        kind=kind,
        method="SMTP",
        url=f"smtp://{host}:{port}",
        headers=(),
        body=None,
        json=None,
        smtp=smtp,
        target=f"{', '.join(envelope_to)} via {host}:{port}",
        idempotency_key=idempotency_key,
    )


def notify_data_from_payload(payload: Mapping[str, Any]) -> NotifyData:
    """The NotifyData a webhook_payload was made from (receiver already quoted)."""
    alerts = tuple(
        NotifyAlert(
            status=str(a["status"]),
            labels=dict(a["labels"]),
            annotations=dict(a["annotations"]),
            starts_at=parse_go_time(str(a["startsAt"])),
            ends_at=parse_go_time(str(a["endsAt"])),
            generator_url=str(a["generatorURL"]),
            fingerprint=str(a["fingerprint"]),
        )
        for a in payload["alerts"]
    )
    return NotifyData(
        receiver=str(payload["receiver"]),
        status=str(payload["status"]),
        alerts=alerts,
        group_labels=dict(payload["groupLabels"]),
        common_labels=dict(payload["commonLabels"]),
        common_annotations=dict(payload["commonAnnotations"]),
        external_url=str(payload["externalURL"]),
        group_key=str(payload["groupKey"]),
        truncated_alerts=int(payload.get("truncatedAlerts", 0)),
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
        "title": render(_str(settings, "title", kind) or _SUBJECT),
        "body": render(_str(settings, "body", kind) or APPRISE_DEFAULT_BODY),
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
    if kind == "email":
        return build_email(
            settings,
            data,
            render,
            idempotency_key=idempotency_key,
            render_email=render_email,
            render_html=render_html,
        )
    return builder(settings, data, render, idempotency_key=idempotency_key)

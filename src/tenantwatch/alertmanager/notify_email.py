"""Email: the headers, bodies and SMTP settings of a message, as Alertmanager's email
notifier builds them (plus seed 000's `subject:`/`body:`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from email.utils import getaddresses
from typing import Any

from tenantwatch.alertmanager.notify_data import NotifyAlert, NotifyData, webhook_payload
from tenantwatch.alertmanager.notify_request import (
    OutboundRequest,
    Render,
    RenderEmail,
    required_setting,
    setting_mapping,
    setting_str,
)
from tenantwatch.gotext.times import parse_rfc3339

TENANTWATCH_LAYOUT = "tenantwatch"
# Alertmanager 0.25's defaults for the Subject header and the html part
EMAIL_DEFAULT_SUBJECT = '{{ template "email.default.subject" . }}'
EMAIL_DEFAULT_HTML = '{{ template "email.default.html" . }}'

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

    `html` / `text` (seed 000's `body` means `text`) are Alertmanager templates, `html`
    rendered by render_html (which escapes values as html/template does). Unset, they take
    Alertmanager 0.25's defaults: the `email.default.html` page and no text part. With
    `layout: tenantwatch`, an unset part comes from tenantwatch's Jinja2 templates instead:
    rendered now by render_email("default", data) when given, else by the email sender
    (the request then carries the data as `template_data`). An empty string leaves the
    part out.
    """
    kind = "email"
    layout = setting_str(settings, "layout", kind)
    if layout not in (None, TENANTWATCH_LAYOUT):
        raise ValueError(
            f"email: layout {layout!r} is unknown; the one layout is {TENANTWATCH_LAYOUT!r}"
        )
    to_tpl = required_setting(settings, "to", kind, "ops@example.com")
    from_tpl = required_setting(settings, "from", kind, "alertmanager@example.com")
    host, port = _host_port(required_setting(settings, "smarthost", kind, "smtp.example.com:587"))
    headers: dict[str, str] = {}
    for name, value in setting_mapping(settings, "headers", kind).items():
        canonical = _canonical_header(str(name))
        if canonical in headers:
            raise ValueError(f"email: header {canonical!r} is given twice; keep one")
        headers[canonical] = str(value)
    headers.setdefault("To", to_tpl)
    headers.setdefault("From", from_tpl)
    headers.setdefault("Subject", setting_str(settings, "subject", kind) or EMAIL_DEFAULT_SUBJECT)
    rendered = [(name, render(tpl)) for name, tpl in headers.items()]
    envelope_from = [a for _, a in getaddresses([render(from_tpl)]) if a]
    if len(envelope_from) != 1:
        raise ValueError(f"email: 'from' must be exactly one address, got {len(envelope_from)}")
    envelope_to = [a for _, a in getaddresses([render(to_tpl)]) if a]
    if not envelope_to:
        raise ValueError("email: 'to' has no address; e.g. to: ops@example.com")
    html_tpl = setting_str(settings, "html", kind)
    text_tpl = setting_str(settings, "text", kind)
    if text_tpl is None:
        text_tpl = setting_str(settings, "body", kind)
    if layout is None:
        html_tpl = EMAIL_DEFAULT_HTML if html_tpl is None else html_tpl
        text_tpl = "" if text_tpl is None else text_tpl
    html = (render_html or render)(html_tpl) if html_tpl else html_tpl
    text = render(text_tpl) if text_tpl else text_tpl
    defaults = [part for part, value in (("html", html), ("text", text)) if value is None]
    if defaults and render_email is not None:
        default_html, default_text = render_email("default", data)
        html = default_html if html is None else html
        text = default_text if text is None else text
        defaults = []
    tls = setting_mapping(settings, "tls_config", kind)
    require_tls = settings.get("require_tls", True)
    smtp = {
        "host": host,
        "port": port,
        "hello": setting_str(settings, "hello", kind) or "",
        "from": envelope_from[0],
        "to": envelope_to,
        "headers": [[name, value] for name, value in rendered],
        "message_id": f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@tenantwatch>",
        "text": text or None,
        "html": html or None,
        "auth_username": setting_str(settings, "auth_username", kind) or "",
        "auth_password": setting_str(settings, "auth_password", kind) or "",
        "auth_identity": setting_str(settings, "auth_identity", kind) or "",
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
            starts_at=parse_rfc3339(str(a["startsAt"])),
            ends_at=parse_rfc3339(str(a["endsAt"])),
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

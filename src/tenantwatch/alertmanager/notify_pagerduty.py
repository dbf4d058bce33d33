"""PagerDuty: the events Alertmanager 0.25 sends, Events API v2 (`routing_key`) or v1
(`service_key`), with its defaults for every field a config leaves unset, plus the
acknowledge event tenantwatch sends when an alert is acknowledged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantwatch.alertmanager.notify_data import NotifyData
from tenantwatch.alertmanager.notify_request import (
    OutboundRequest,
    Render,
    auth_headers,
    go_json,
    group_key_hash,
    http_url_setting,
    json_request,
    redact_url,
    setting_mapping,
    setting_str,
    truncate_runes,
    with_http_config,
)

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
# Alertmanager sends Events API v1 (service_key) here, whatever `url` says
PAGERDUTY_V1_URL = "https://events.pagerduty.com/generic/2010-04-15/create_event.json"
MAX_SUMMARY_RUNES = 1024  # v2 payload.summary and v1 description
MAX_PAGERDUTY_EVENT = 512_000
TOO_BIG = (
    "Custom details have been removed because the original event exceeds the maximum size of 512kB"
)

# Alertmanager 0.25's DefaultPagerdutyConfig; `source` defaults to the client template
PAGERDUTY_DEFAULTS: Mapping[str, str] = {
    "client": '{{ template "pagerduty.default.client" . }}',
    "client_url": '{{ template "pagerduty.default.clientURL" . }}',
    "description": '{{ template "pagerduty.default.description" .}}',
}
PAGERDUTY_DEFAULT_DETAILS: Mapping[str, str] = {
    "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
    "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
    "num_firing": "{{ .Alerts.Firing | len }}",
    "num_resolved": "{{ .Alerts.Resolved | len }}",
}
DEFAULT_SEVERITY = "error"


def _field(settings: Mapping[str, Any], key: str) -> str:
    """The field's template: the config's, else Alertmanager's default, else ''."""
    value = setting_str(settings, key, "pagerduty")
    if value is not None:
        return value
    if key == "source":
        return _field(settings, "client")
    return PAGERDUTY_DEFAULTS.get(key, "")


def _key(settings: Mapping[str, Any], name: str, render: Render) -> str:
    if settings.get(f"{name}_file") and not settings.get(name):
        raise ValueError(f"pagerduty: {name}_file is read when the configuration loads; reload it")
    key = render(setting_str(settings, name, "pagerduty") or "")
    if not key:
        raise ValueError(f"pagerduty: {name} is empty after templating; give the integration key")
    return key


def _is_v1(settings: Mapping[str, Any]) -> bool:
    return bool(settings.get("service_key") or settings.get("service_key_file"))


def _details(settings: Mapping[str, Any], render: Render) -> dict[str, str]:
    """The rendered details: Alertmanager's four defaults, with the config's added or
    replacing them; keys sorted as Go writes a map."""
    templates = {
        **PAGERDUTY_DEFAULT_DETAILS,
        **{str(k): str(v) for k, v in setting_mapping(settings, "details", "pagerduty").items()},
    }
    return {k: render(templates[k]) for k in sorted(templates)}


def build_pagerduty(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """A trigger while any alert fires, a resolve when all resolved; Events API v1 for a
    service_key, v2 otherwise."""
    if _is_v1(settings):
        return _build_v1(settings, data, render, idempotency_key)
    kind = "pagerduty"
    url = http_url_setting(setting_str(settings, "url", kind) or PAGERDUTY_URL, kind, "url")
    routing_key = _key(settings, "routing_key", render)
    severity = setting_str(settings, "severity", kind) or DEFAULT_SEVERITY
    payload: dict[str, Any] = {
        "summary": truncate_runes(render(_field(settings, "description")), MAX_SUMMARY_RUNES),
        "source": render(_field(settings, "source")),
        "severity": render(severity),
    }
    for key in ("class", "component", "group"):
        if value := render(_field(settings, key)):
            payload[key] = value
    payload["custom_details"] = _details(settings, render)
    message: dict[str, Any] = {
        "routing_key": routing_key,
        "dedup_key": group_key_hash(data.group_key),
        "event_action": "trigger" if data.status == "firing" else "resolve",
        "payload": payload,
    }
    if client := render(_field(settings, "client")):
        message["client"] = client
    if client_url := render(_field(settings, "client_url")):
        message["client_url"] = client_url
    images = [_item(i, ("src", "alt", "href"), render) for i in settings.get("images") or ()]
    if images := [i for i in images if i["src"]]:
        message["images"] = images
    links = [_item(i, ("href", "text"), render) for i in settings.get("links") or ()]
    if links := [link for link in links if link["href"]]:
        message["links"] = links
    if len(go_json(message)) > MAX_PAGERDUTY_EVENT:
        payload["custom_details"] = {"error": TOO_BIG}
    target = f"{redact_url(url)} (routing_key ***)"
    return json_request(kind, url, message, target, idempotency_key, auth_headers(settings, kind))


def _build_v1(
    settings: Mapping[str, Any], data: NotifyData, render: Render, idempotency_key: str
) -> OutboundRequest:
    """Events API v1, field for field as Alertmanager writes it (`event_action` empty and
    `payload` null included); client and client_url on triggers only."""
    trigger = data.status == "firing"
    message: dict[str, Any] = {
        "service_key": _key(settings, "service_key", render),
        "incident_key": group_key_hash(data.group_key),
        "event_type": "trigger" if trigger else "resolve",
        "description": truncate_runes(render(_field(settings, "description")), MAX_SUMMARY_RUNES),
        "event_action": "",
        "payload": None,
    }
    if trigger:
        if client := render(_field(settings, "client")):
            message["client"] = client
        if client_url := render(_field(settings, "client_url")):
            message["client_url"] = client_url
    message["details"] = _details(settings, render)
    if len(go_json(message)) > MAX_PAGERDUTY_EVENT:
        message["details"] = {"error": TOO_BIG}
    headers = auth_headers(settings, "pagerduty")
    target = f"{PAGERDUTY_V1_URL} (service_key ***)"
    return json_request("pagerduty", PAGERDUTY_V1_URL, message, target, idempotency_key, headers)


def _item(item: Any, keys: tuple[str, ...], render: Render) -> dict[str, str]:
    if not isinstance(item, Mapping):
        raise ValueError(f"pagerduty: images and links are mappings with {', '.join(keys)}")
    return {k: render(str(item.get(k) or "")) for k in keys}


def build_pagerduty_ack(
    settings: Mapping[str, Any], data: NotifyData, render: Render, *, idempotency_key: str
) -> OutboundRequest:
    """An acknowledge for the group's open PagerDuty incident (the same dedup/incident key)."""
    kind = "pagerduty"
    headers = auth_headers(settings, kind)
    key = group_key_hash(data.group_key)
    if _is_v1(settings):
        v1 = {
            "service_key": _key(settings, "service_key", render),
            "incident_key": key,
            "event_type": "acknowledge",
        }
        target = f"{PAGERDUTY_V1_URL} (service_key ***)"
        request = json_request(kind, PAGERDUTY_V1_URL, v1, target, idempotency_key, headers)
        return with_http_config(request, settings, kind)
    url = http_url_setting(setting_str(settings, "url", kind) or PAGERDUTY_URL, kind, "url")
    message = {
        "routing_key": _key(settings, "routing_key", render),
        "dedup_key": key,
        "event_action": "acknowledge",
    }
    target = f"{redact_url(url)} (routing_key ***)"
    request = json_request(kind, url, message, target, idempotency_key, headers)
    return with_http_config(request, settings, kind)

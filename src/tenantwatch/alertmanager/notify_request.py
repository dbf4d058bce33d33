"""The request a notification becomes (OutboundRequest), and what every channel's
builder shares: reading settings with messages that say how to fix them, Go's JSON,
Alertmanager's truncation, webhook signatures and URL redaction."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from tenantwatch import jsonio
from tenantwatch.alertmanager.notify_data import NotifyData

Render = Callable[[str], str]
RenderEmail = Callable[[str, NotifyData], tuple[str, str]]

SIGNATURE_HEADER = "X-Tenantwatch-Signature"
TIMESTAMP_HEADER = "X-Tenantwatch-Timestamp"
IDEMPOTENCY_HEADER = "X-Tenantwatch-Idempotency-Key"
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """One message to send. Holds secrets (auth headers, keys); show only `target`.

    HTTP kinds use method/url/headers/body (`json` keeps the decoded body for display)
    and follow redirects unless `follow_redirects` is off (http_config); email uses
    `smtp`; apprise uses `json` = {"urls", "title", "body"}.
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
    follow_redirects: bool = True

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
            "follow_redirects": self.follow_redirects,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> OutboundRequest:
        """The request to_json stored (a dict, or its JSON text)."""
        d: Mapping[str, Any] = jsonio.loads(data) if isinstance(data, str | bytes) else data
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
            follow_redirects=d.get("follow_redirects", True) is not False,
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
    text = jsonio.dumps(value, compact=True, ascii_only=False)
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


def setting_str(
    settings: Mapping[str, Any], key: str, kind: str, default: str | None = None
) -> str | None:
    value = settings.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{kind}: '{key}' must be a string, got {type(value).__name__}")
    return value


def required_setting(settings: Mapping[str, Any], key: str, kind: str, example: str) -> str:
    value = setting_str(settings, key, kind)
    if not value:
        raise ValueError(f"{kind}: '{key}' is required; e.g. {key}: {example}")
    return value


def http_url_setting(url: str, kind: str, key: str) -> str:
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


def setting_mapping(settings: Mapping[str, Any], key: str, kind: str) -> Mapping[str, Any]:
    value = settings.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{kind}: '{key}' must be a mapping of name: value")
    return value


def auth_headers(settings: Mapping[str, Any], kind: str) -> list[tuple[str, str]]:
    """Authorization from http_config: basic_auth, authorization or bearer_token."""
    http = setting_mapping(settings, "http_config", kind)
    basic = setting_mapping(http, "basic_auth", f"{kind} http_config")
    authz = setting_mapping(http, "authorization", f"{kind} http_config")
    bearer = setting_str(http, "bearer_token", f"{kind} http_config")
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


def with_http_config(
    request: OutboundRequest, settings: Mapping[str, Any], kind: str
) -> OutboundRequest:
    """request with http_config's `follow_redirects` (Alertmanager's default: true)."""
    http = setting_mapping(settings, "http_config", kind)
    follow = http.get("follow_redirects", True)
    if not isinstance(follow, bool):
        raise ValueError(f"{kind}: http_config.follow_redirects must be true or false")
    return request if follow else replace(request, follow_redirects=False)


def json_request(
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


def common_or_joined(data: NotifyData, label: str) -> str:
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


def first_occurred(data: NotifyData) -> float:
    starts = [a.starts_at for a in data.alerts if a.starts_at]
    return min(starts) if starts else 0.0

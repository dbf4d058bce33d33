"""Pure checks of single Alertmanager configuration values, and global defaults filled in."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from tenantwatch.alertmanager.config_spec import PAGERDUTY_URL, TWILIO_URL
from tenantwatch.domain.durations import parse_duration


def scalar_problem(value: Any, kind: str, name: str) -> str | None:
    """Why a value does not fit a scalar type, or None."""
    if kind == "any" or value is None:
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false"
    if kind == "uint":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else f"{name} must be a whole number of 0 or more"
    if kind in ("strlist", "strmap"):
        if kind == "strlist" and not (
            isinstance(value, list) and all(_is_scalar(v) for v in value)
        ):
            return f"{name} must be a list of strings"
        if kind == "strmap" and not (
            isinstance(value, Mapping) and all(_is_scalar(v) for v in value.values())
        ):
            return f"{name} must map names to strings"
        return None
    if not _is_scalar(value):
        return f"{name} must be a string"
    text = str(value)
    if kind == "url":
        return _url_problem(text, name)
    if kind == "hostport":
        return _hostport_problem(text, name)
    if kind == "duration":
        return _duration_problem(value, name)
    return None


def seconds(text: str) -> float:
    return 0.0 if text == "0" else parse_duration(text)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list)


def _url_problem(text: str, name: str) -> str | None:
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https"):
        hint = (
            "; Alertmanager configs do not expand environment variables"
            if "${" in text or text.startswith("$")
            else ""
        )
        return (
            f"{name}: unsupported scheme {parsed.scheme!r} for URL {text!r}; write an http:// "
            f"or https:// URL{hint}"
        )
    if not parsed.netloc:
        return f"{name}: missing host in URL {text!r}"
    return None


def _hostport_problem(text: str, name: str) -> str | None:
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    if not sep or (":" in host and not host.startswith("[")):
        return f"{name}: address {text!r} needs a port, e.g. 'smtp.example.com:587'"
    if not port:
        return f"{name}: address {text!r}: the port cannot be empty"
    return None


def _duration_problem(value: Any, name: str) -> str | None:
    if not isinstance(value, str):
        return f"{name}: write a duration with a unit, e.g. '30s', '5m' or '4h'"
    if value == "0":
        return None
    try:
        parse_duration(value)
    except ValueError:
        return f"{name}: {value!r} is not a duration; write e.g. '30s', '5m' or '1h30m'"
    return None


def similar(a: str, b: str) -> bool:
    """Whether b is a likely intended spelling of a (one edit or a transposition apart)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def with_globals(kind: str, settings: dict[str, Any], glob_: Mapping[str, Any]) -> dict[str, Any]:
    """Fill what the entry leaves out from global:, as Alertmanager does."""
    http_kinds = ("webhook", "slack", "pagerduty", "msteams", "twilio")
    if kind in http_kinds and "http_config" not in settings and glob_.get("http_config"):
        settings["http_config"] = glob_["http_config"]
    if kind == "slack" and not settings.get("api_url") and not settings.get("api_url_file"):
        for key in ("slack_api_url", "slack_api_url_file"):
            if glob_.get(key):
                settings[key.removeprefix("slack_")] = glob_[key]
    if kind == "pagerduty" and not settings.get("url"):
        settings["url"] = glob_.get("pagerduty_url") or PAGERDUTY_URL
    if kind == "twilio" and not settings.get("url"):
        settings["url"] = TWILIO_URL
    if kind == "email":
        for key in ("from", "hello", "smarthost", "auth_username", "auth_secret", "auth_identity"):
            if not settings.get(key) and glob_.get(f"smtp_{key}"):
                settings[key] = glob_[f"smtp_{key}"]
        if not settings.get("auth_password") and not settings.get("auth_password_file"):
            for key in ("auth_password", "auth_password_file"):
                if glob_.get(f"smtp_{key}"):
                    settings[key] = glob_[f"smtp_{key}"]
        if "require_tls" not in settings:
            settings["require_tls"] = bool(glob_.get("smtp_require_tls", True))
    return settings

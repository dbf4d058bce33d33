"""The Alertmanager config checker's receivers: integrations, secrets files, templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tenantwatch.alertmanager.config_checker import ConfigChecker, Where
from tenantwatch.alertmanager.config_model import Integration, Receiver
from tenantwatch.alertmanager.config_spec import (
    FILE_KEYS,
    KIND_SPECS,
    LAYOUTS,
    SEND_RESOLVED,
    UNSUPPORTED,
)
from tenantwatch.alertmanager.config_values import with_globals
from tenantwatch.alertmanager.templates import TemplateSet


class ReceiverChecks(ConfigChecker):
    """Checks `receivers:` and builds each receiver's integrations."""

    def _receivers(
        self, items: Any, glob_: Mapping[str, Any], templates: TemplateSet
    ) -> dict[str, Receiver]:
        out: dict[str, Receiver] = {}
        if items is None:
            return out
        if not isinstance(items, list):
            self.issue(("receivers",), "receivers must be a list of {name: ..., <kind>_configs}")
            return out
        for i, item in enumerate(items):
            where: Where = ("receivers", i)
            if not isinstance(item, Mapping):
                self.issue(where, "a receiver is a mapping with a name")
                continue
            name = item.get("name")
            if not isinstance(name, str) or not name:
                self.issue(where, "missing name in receiver")
                continue
            if name in out:
                self.issue((*where, "name"), f"receiver {name!r} is defined twice; rename one")
            integrations: list[Integration] = []
            for key, configs in item.items():
                if key == "name":
                    continue
                at: Where = (*where, key)
                kind = str(key).removesuffix("_configs")
                if key in UNSUPPORTED:
                    self.issue(
                        at,
                        f"{key} is not supported by tenantwatch; use webhook_configs or "
                        "apprise_configs (any Apprise URL) instead",
                    )
                    continue
                if not str(key).endswith("_configs") or kind not in KIND_SPECS:
                    self._unknown(at, str(key), ["name", *(f"{k}_configs" for k in KIND_SPECS)])
                    continue
                if configs is None:
                    continue
                if not isinstance(configs, list):
                    self.issue(at, f"{key} must be a list")
                    continue
                for j, settings in enumerate(configs):
                    built = self._integration(kind, settings, glob_, templates, (*at, j))
                    if built is not None:
                        index = sum(1 for x in integrations if x.kind == kind)
                        integrations.append(replace(built, index=index))
            out[name] = Receiver(name, tuple(integrations))
        return out

    def _integration(
        self,
        kind: str,
        settings: Any,
        glob_: Mapping[str, Any],
        templates: TemplateSet,
        where: Where,
    ) -> Integration | None:
        before = len(self.issues)
        self.check(settings, KIND_SPECS[kind], where)
        if not isinstance(settings, Mapping):
            if settings is None:
                self.issue(where, f"{kind}_configs entries are mappings")
            return None
        full = {k: v for k, v in settings.items() if v is not None}
        full = with_globals(kind, full, glob_)
        full = self._read_files(full, where)
        self._required(kind, full, where)
        if kind == "email":
            full = self._email(full, where)
        self._check_templates(settings, templates, where)
        if len(self.issues) > before:
            return None
        send_resolved = bool(full.get("send_resolved", SEND_RESOLVED[kind]))
        full["send_resolved"] = send_resolved
        return Integration(kind=kind, index=0, send_resolved=send_resolved, settings=full)

    def _read_files(self, settings: dict[str, Any], where: Where) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in settings.items():
            if isinstance(value, Mapping) and key in ("http_config", "basic_auth", "authorization"):
                value = self._read_files(dict(value), (*where, key))
            target = FILE_KEYS.get(str(key))
            if target is None or not isinstance(value, str) or not value:
                out[key] = value
                continue
            path = Path(value) if self.base is None else self.base / value
            try:
                out[target] = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                self.issue((*where, key), f"{key}: cannot read {path}: {exc.strerror}")
        return out

    def _required(self, kind: str, s: Mapping[str, Any], where: Where) -> None:
        def need(key: str, message: str) -> None:
            if not s.get(key):
                self.issue(where, message)

        layout = s.get("layout")
        if layout is not None and layout != LAYOUTS.get(kind):
            self.issue(
                (*where, "layout"),
                f"unknown layout {layout!r}; the one {kind} layout is {LAYOUTS.get(kind)!r} "
                "(leave layout out for Alertmanager's)",
            )
        if kind == "webhook":
            need("url", "missing url in webhook config; e.g. url: 'https://example.com/hook'")
        elif kind == "slack":
            need(
                "api_url",
                "no Slack API URL: set api_url here or slack_api_url under global:",
            )
            for i, f in enumerate(s.get("fields") or []):
                if isinstance(f, Mapping) and not (f.get("title") and f.get("value")):
                    self.issue((*where, "fields", i), "a Slack field needs a title and a value")
            for i, a in enumerate(s.get("actions") or []):
                if isinstance(a, Mapping) and not (a.get("type") and a.get("text")):
                    self.issue((*where, "actions", i), "a Slack action needs a type and a text")
                elif isinstance(a, Mapping) and not (a.get("url") or a.get("name")):
                    self.issue((*where, "actions", i), "a Slack action needs a url or a name")
        elif kind == "email":
            need("to", "missing to address in email config")
            need("smarthost", "no SMTP smarthost: set smarthost here or smtp_smarthost in global:")
            need("from", "no sender: set from here or smtp_from under global:")
        elif kind == "pagerduty":
            if not (s.get("routing_key") or s.get("service_key")):
                self.issue(where, "missing routing_key (Events API v2) or service_key")
            if s.get("routing_key") and s.get("service_key"):
                self.issue(where, "give either routing_key (Events API v2) or service_key")
        elif kind == "msteams":
            need("webhook_url", "missing webhook_url in msteams config")
        elif kind == "twilio":
            for key in ("account_sid", "auth_token", "from", "to"):
                need(key, f"missing {key} in twilio config")
        elif kind == "apprise":
            need("urls", "apprise_configs needs urls, e.g. ['mailto://user:pass@example.com']")

    def _email(self, s: dict[str, Any], where: Where) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name, value in (s.get("headers") or {}).items():
            canonical = "-".join(p.capitalize() for p in str(name).split("-"))
            if canonical in headers:
                self.issue((*where, "headers", name), f"duplicate header {canonical!r}")
            headers[canonical] = str(value)
        if "subject" in s:
            if "Subject" in headers:
                self.issue((*where, "subject"), "subject is also in headers; keep one")
            headers["Subject"] = str(s.pop("subject"))
        if "body" in s:
            if s.get("text"):
                self.issue((*where, "body"), "body and text are both given; keep text")
            s["text"] = str(s.pop("body"))
        if headers:
            s["headers"] = headers
        return s

    def _check_templates(self, value: Any, templates: TemplateSet, where: Where) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if k not in ("http_config", "tls_config") and not str(k).endswith("_file"):
                    self._check_templates(v, templates, (*where, str(k)))
        elif isinstance(value, list):
            for k, v in enumerate(value):
                self._check_templates(v, templates, (*where, k))
        elif isinstance(value, str) and "{{" in value:
            problem = templates.problem(value)
            if problem is not None:
                self.issue(where, f"{where[-1]}: {problem}")

"""Alertmanager notification templates: the data model, functions and default definitions.

Receivers' fields (Slack titles, PagerDuty descriptions, email subjects, ...) are Go
templates over Alertmanager's data: `.Receiver`, `.Status`, `.Alerts` (with `.Firing` and
`.Resolved`), `.GroupLabels`, `.CommonLabels`, `.CommonAnnotations` (with `.SortedPairs`,
`.Names`, `.Values`, `.Remove`), `.ExternalURL`; each alert has `.Status`, `.Labels`,
`.Annotations`, `.StartsAt`, `.EndsAt`, `.GeneratorURL`, `.Fingerprint`.

The default definitions give the same output as Alertmanager 0.25's (`__subject`,
`slack.default.*`, `pagerduty.default.*`, `email.default.subject`, ...). tenantwatch adds
`pagerduty.default.firing` and `pagerduty.default.resolved` (the firing or resolved alerts
listed as `__text_alert_list` does), which seed 004 names and Alertmanager lacks.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tenantwatch.domain.gotemplate import (
    TemplateError,
    definitions,
    execute,
    parse,
    template_calls,
)
from tenantwatch.domain.notify_data import NotifyAlert, NotifyData


class GoTime:
    """A time printed as Go's time.Time.String() in UTC."""

    def __init__(self, ts: float) -> None:
        self.ts = ts

    def __str__(self) -> str:
        if self.ts == 0:
            return "0001-01-01 00:00:00 +0000 UTC"
        micros = round(self.ts * 1_000_000)
        whole, frac = divmod(micros, 1_000_000)
        text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%d %H:%M:%S")
        if frac:
            text += "." + f"{frac:06d}".rstrip("0")
        return text + " +0000 UTC"

    def Unix(self) -> int:
        return int(self.ts)

    def Format(self, layout: str) -> str:
        return str(self)


class Pairs(list[dict[str, str]]):
    def Names(self) -> list[str]:
        return [p["Name"] for p in self]

    def Values(self) -> list[str]:
        return [p["Value"] for p in self]


class KV(dict[str, str]):
    def SortedPairs(self) -> Pairs:
        return Pairs({"Name": k, "Value": self[k]} for k in sorted(self))

    def Names(self) -> list[str]:
        return sorted(self)

    def Values(self) -> list[str]:
        return [self[k] for k in sorted(self)]

    def Remove(self, names: Sequence[str]) -> KV:
        return KV({k: v for k, v in self.items() if k not in set(names)})


KV.Remove.takes_args = True  # type: ignore[attr-defined]


class Alerts(list[dict[str, Any]]):
    def Firing(self) -> Alerts:
        return Alerts(a for a in self if a["Status"] == "firing")

    def Resolved(self) -> Alerts:
        return Alerts(a for a in self if a["Status"] == "resolved")


def _alert(a: NotifyAlert) -> dict[str, Any]:
    return {
        "Status": a.status,
        "Labels": KV(a.labels),
        "Annotations": KV(a.annotations),
        "StartsAt": GoTime(a.starts_at),
        "EndsAt": GoTime(a.ends_at),
        "GeneratorURL": a.generator_url,
        "Fingerprint": a.fingerprint,
    }


def template_data(data: NotifyData) -> dict[str, Any]:
    return {
        "Receiver": data.receiver,
        "Status": data.status,
        "Alerts": Alerts(_alert(a) for a in data.alerts),
        "GroupLabels": KV(data.group_labels),
        "CommonLabels": KV(data.common_labels),
        "CommonAnnotations": KV(data.common_annotations),
        "ExternalURL": data.external_url,
    }


def _join(sep: str, items: Sequence[Any]) -> str:
    return sep.join(str(i) for i in items)


FUNCS: dict[str, Callable[..., Any]] = {
    "toUpper": lambda s: str(s).upper(),
    "toLower": lambda s: str(s).lower(),
    "title": lambda s: re.sub(r"\b(\w)", lambda m: m.group(1).upper(), str(s)),
    "join": _join,
    "match": lambda pattern, s: re.search(pattern, str(s)) is not None,
    "reReplaceAll": lambda pattern, repl, s: re.sub(
        pattern, re.sub(r"\$(\d+)|\$\{(\d+)\}", r"\\\1\2", repl), str(s)
    ),
    "safeHtml": lambda s: str(s),
    "stringSlice": lambda *items: [str(i) for i in items],
    "trimSpace": lambda s: str(s).strip(),
    "urlquery": lambda *items: urllib.parse.quote_plus("".join(str(i) for i in items)),
    "html": lambda *items: html.escape("".join(str(i) for i in items)),
    "print": lambda *items: "".join(str(i) for i in items),
}

DEFAULTS = r"""
{{ define "__alertmanager" }}Alertmanager{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}
{{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}
{{ define "__description" }}{{ end }}
{{ define "__text_alert_list" }}{{ range . }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Annotations:
{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}
{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "slack.default.fallback" }}{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}{{ end }}
{{ define "slack.default.callbackid" }}{{ end }}
{{ define "slack.default.pretext" }}{{ end }}
{{ define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "slack.default.iconemoji" }}{{ end }}
{{ define "slack.default.iconurl" }}{{ end }}
{{ define "slack.default.text" }}{{ end }}
{{ define "slack.default.footer" }}{{ end }}
{{ define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }}
{{ define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "pagerduty.default.clientURL" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }}
{{ define "pagerduty.default.firing" }}{{ template "__text_alert_list" .Alerts.Firing }}{{ end }}
{{ define "pagerduty.default.resolved" }}{{ template "__text_alert_list" .Alerts.Resolved }}{{ end }}
{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{ define "msteams.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "msteams.default.text" }}{{ range .Alerts }}{{ .Annotations.summary }}
{{ end }}{{ end }}
"""
_DEFAULT_DEFS = definitions(parse(DEFAULTS))
BUILTIN_NAMES = frozenset(_DEFAULT_DEFS)


@dataclass(frozen=True)
class TemplateProblem:
    file: str
    line: int
    message: str


class TemplateSet:
    """The default definitions plus those of the config's template files."""

    def __init__(self, defs: Mapping[str, Any] | None = None) -> None:
        self.defs: dict[str, Any] = {**_DEFAULT_DEFS, **(defs or {})}
        self._cache: dict[str, Any] = {}

    @classmethod
    def load(cls, sources: Sequence[tuple[str, str]]) -> TemplateSet:
        """Definitions from (file name, text) pairs; raise TemplateError naming the file."""
        defs: dict[str, Any] = {}
        for name, text in sources:
            try:
                defs.update(definitions(parse(text)))
            except TemplateError as exc:
                raise TemplateError(f"{name}: {exc}") from None
        return cls(defs)

    def names(self) -> set[str]:
        return set(self.defs)

    def _parsed(self, text: str) -> Any:
        nodes = self._cache.get(text)
        if nodes is None:
            nodes = parse(text)
            if len(self._cache) < 4096:
                self._cache[text] = nodes
        return nodes

    def undefined_in(self, text: str) -> list[str]:
        """Templates the text calls ({{ template "x" }}) that are not defined."""
        nodes = parse(text)
        known = {**self.defs, **definitions(nodes)}
        pending = list(template_calls(nodes))
        seen: set[str] = set()
        missing = []
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            if name not in known:
                missing.append(name)
            else:
                pending.extend(template_calls(known[name]))
        return sorted(missing)

    def render(self, text: str, data: NotifyData) -> str:
        if "{{" not in text:
            return text
        return execute(self._parsed(text), template_data(data), FUNCS, templates=self.defs)

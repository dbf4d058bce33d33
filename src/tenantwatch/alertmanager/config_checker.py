"""The base of the Alertmanager config checker: issues at file:line, generic and global checks."""

from __future__ import annotations

import glob
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tenantwatch.alertmanager.config_spec import GLOBAL, HTTP, PAGERDUTY_URL
from tenantwatch.alertmanager.config_values import scalar_problem, similar
from tenantwatch.alertmanager.host_zone import host_zone
from tenantwatch.alertmanager.templates import TemplateFileError, TemplateSet
from tenantwatch.alertmanager.time_intervals import TimeInterval, parse_time_interval
from tenantwatch.config.errors import ConfigIssue
from tenantwatch.config.yaml_lines import LineMap, issue_at

Where = tuple[str | int, ...]


class ConfigChecker:
    """Collects the problems of one file; the checks shared by every section."""

    def __init__(self, file: str, lines: LineMap, base: Path | None) -> None:
        self.file = file
        self.lines = lines
        self.base = base
        self.issues: list[ConfigIssue] = []

    def issue(self, where: Where, message: str) -> None:
        self.issues.append(issue_at(self.file, self.lines, where, message))

    # -- generic checks ------------------------------------------------------------------------

    def _unknown(self, where: Where, key: str, allowed: Any) -> None:
        close = [k for k in allowed if similar(key, k)]
        hint = f"did you mean {close[0]!r}? " if close else ""
        self.issue(where, f"unknown field {key!r}; {hint}allowed here: {', '.join(allowed)}")

    def check(self, value: Any, spec: Any, where: Where) -> None:
        """Report every value that does not fit the spec (unknown keys, wrong types)."""
        name = str(where[-1]) if where else "value"
        if isinstance(spec, dict):
            if value is None:
                return
            if not isinstance(value, Mapping):
                self.issue(where, f"{name} must be a mapping")
                return
            for key, item in value.items():
                if key not in spec:
                    self._unknown((*where, key), str(key), list(spec))
                else:
                    self.check(item, spec[key], (*where, key))
            if spec is HTTP:
                self._http(value, where)
        elif isinstance(spec, list):
            if value is None:
                return
            if not isinstance(value, list):
                self.issue(where, f"{name} must be a list")
                return
            for i, item in enumerate(value):
                self.check(item, spec[0], (*where, i))
        else:
            problem = scalar_problem(value, spec, name)
            if problem is not None:
                self.issue(where, problem)

    def _http(self, http: Mapping[str, Any], where: Where) -> None:
        ways = ("basic_auth", "oauth2", "bearer_token", "bearer_token_file")
        auth = [k for k in ways if http.get(k)]
        if len(auth) > 1:
            self.issue(
                where,
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file may be "
                f"set; this has {' and '.join(auth)}",
            )
        bearer = http.get("bearer_token") or http.get("bearer_token_file")
        if http.get("authorization") and bearer:
            self.issue(where, "authorization cannot be combined with bearer_token; keep one")
        if http.get("authorization") and (http.get("basic_auth") or http.get("oauth2")):
            self.issue(where, "at most one of basic_auth, oauth2 & authorization may be set")
        if http.get("proxy_connect_header") and not http.get("proxy_url"):
            self.issue(where, "proxy_connect_header needs proxy_url")
        for part, key in (("basic_auth", "password"), ("authorization", "credentials")):
            sub = http.get(part)
            if isinstance(sub, Mapping) and sub.get(key) and sub.get(f"{key}_file"):
                self.issue((*where, part), f"at most one of {key} & {key}_file may be set")

    # -- sections ------------------------------------------------------------------------------

    def _global(self, value: Any) -> dict[str, Any]:
        self.check(value, GLOBAL, ("global",))
        glob_: dict[str, Any] = {
            "resolve_timeout": "5m",
            "smtp_hello": "localhost",
            "smtp_require_tls": True,
            "pagerduty_url": PAGERDUTY_URL,
        }
        if isinstance(value, Mapping):
            glob_.update({k: v for k, v in value.items() if v is not None})
        for key in ("slack_api_url", "smtp_auth_password", "opsgenie_api_key"):
            if glob_.get(key) and glob_.get(f"{key}_file"):
                self.issue(("global", key), f"at most one of {key} & {key}_file may be set")
        return glob_

    def _templates(self, patterns: Any) -> TemplateSet:
        if patterns is None:
            return TemplateSet()
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            self.issue(("templates",), "templates must be a list of file globs, e.g. ['*.tmpl']")
            return TemplateSet()
        sources: list[tuple[str, str]] = []
        for i, pattern in enumerate(patterns):
            full = pattern if self.base is None else str(self.base / pattern)
            for path in sorted(glob.glob(full)):
                try:
                    sources.append((path, Path(path).read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError) as exc:
                    self.issue(("templates", i), f"cannot read template file {path}: {exc}")
        try:
            return TemplateSet.load(sources)
        except TemplateFileError as exc:
            self.issues.append(ConfigIssue(exc.file, exc.line, f"template: {exc.message}"))
            return TemplateSet()

    def _intervals(self, data: Mapping[str, Any]) -> dict[str, tuple[TimeInterval, ...]]:
        out: dict[str, tuple[TimeInterval, ...]] = {}
        for section in ("mute_time_intervals", "time_intervals"):
            items = data.get(section)
            if items is None:
                continue
            if not isinstance(items, list):
                self.issue((section,), f"{section} must be a list of {{name, time_intervals}}")
                continue
            for i, item in enumerate(items):
                self._interval(section, i, item, out)
        return out

    def _interval(
        self, section: str, i: int, item: Any, out: dict[str, tuple[TimeInterval, ...]]
    ) -> None:
        where: Where = (section, i)
        if not isinstance(item, Mapping):
            self.issue(where, "a time interval is a mapping with name and time_intervals")
            return
        for key in item:
            if key not in ("name", "time_intervals"):
                self._unknown((*where, key), str(key), ["name", "time_intervals"])
        name = item.get("name")
        if not isinstance(name, str) or not name:
            self.issue(where, "missing name in time interval")
            return
        if name in out:
            self.issue((*where, "name"), f"time interval {name!r} is defined twice; rename one")
        entries = item.get("time_intervals") or []
        if not isinstance(entries, list):
            self.issue((*where, "time_intervals"), "time_intervals must be a list")
            entries = []
        parsed = []
        for j, entry in enumerate(entries):
            at: Where = (*where, "time_intervals", j)
            try:
                parsed.append(parse_time_interval(entry, host_zone()))
            except ValueError as exc:
                key = str(exc).split(":", 1)[0]
                if isinstance(entry, Mapping) and key in entry:
                    at = (*at, key)
                self.issue(at, f"time interval {name!r}: {exc}")
        out[name] = tuple(parsed)

"""Alertmanager notification templates: the data model, functions and default definitions.

Receivers' fields (Slack titles, PagerDuty descriptions, email subjects, ...) are Go
templates over Alertmanager's data: `.Receiver`, `.Status`, `.Alerts` (with `.Firing` and
`.Resolved`), `.GroupLabels`, `.CommonLabels`, `.CommonAnnotations` (with `.SortedPairs`,
`.Names`, `.Values`, `.Remove`), `.ExternalURL`; each alert has `.Status`, `.Labels`,
`.Annotations`, `.StartsAt`, `.EndsAt` (Go times: `.Format`, `.Unix`, ...),
`.GeneratorURL`, `.Fingerprint`. Unknown fields of these are errors, as in Go; a missing
label reads as "" (missingkey=zero).

The default definitions give the same output as Alertmanager 0.25's (`__subject`,
`slack.default.*`, `pagerduty.default.*`, `email.default.subject`, `email.default.html`).
tenantwatch additions: `pagerduty.default.firing` and `pagerduty.default.resolved` (the
firing or resolved alerts listed as `__text_alert_list` does; seed 004 names them and
Alertmanager lacks them), and `msteams.default.*` as later Alertmanager versions define them.
Functions: Alertmanager's (toUpper, toLower, title, join, match, reReplaceAll, safeHtml,
stringSlice, and from later versions trimSpace, safeUrl, urlUnescape, date, tz,
humanizeDuration) plus Go's built-ins and printf.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tenantwatch.alertmanager.email_html import EMAIL_DEFAULT_HTML
from tenantwatch.alertmanager.notify_data import NotifyAlert, NotifyData
from tenantwatch.gotext.humanize import humanize_duration
from tenantwatch.gotext.printf import printf
from tenantwatch.gotext.template import (
    BUILTIN_FUNCS,
    SafeHTML,
    TemplateError,
    add_definitions,
    check_functions,
    definitions,
    execute,
    go_str,
    html_template_escape,
    parse,
    template_calls,
)
from tenantwatch.gotext.times import GoTime, time_in

# -- the data model ----------------------------------------------------------------------------


class Pair:
    """A label or annotation (`.Name`, `.Value`)."""

    go_name = "template.Pair"
    go_fields = frozenset({"Name", "Value"})
    __slots__ = ("Name", "Value")

    def __init__(self, name: str, value: str) -> None:
        self.Name = name
        self.Value = value

    def __str__(self) -> str:
        return f"{{{self.Name} {self.Value}}}"


class Pairs(list[Pair]):
    def Names(self) -> list[str]:
        return [p.Name for p in self]

    def Values(self) -> list[str]:
        return [p.Value for p in self]


class KV(dict[str, str]):
    """Labels or annotations; SortedPairs puts `alertname` first, then sorts by name."""

    def SortedPairs(self) -> Pairs:
        names = sorted(k for k in self if k != "alertname")
        if "alertname" in self:
            names.insert(0, "alertname")
        return Pairs(Pair(k, self[k]) for k in names)

    def Names(self) -> list[str]:
        return self.SortedPairs().Names()

    def Values(self) -> list[str]:
        return self.SortedPairs().Values()

    def Remove(self, names: Sequence[str]) -> KV:
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise TemplateError('Remove takes a list of names, e.g. (stringSlice "a" "b")')
        drop = set(names)
        return KV({k: v for k, v in self.items() if k not in drop})


class TemplateAlert:
    """One alert as templates see it (Alertmanager's template.Alert)."""

    go_name = "template.Alert"
    go_fields = frozenset(
        {"Status", "Labels", "Annotations", "StartsAt", "EndsAt", "GeneratorURL", "Fingerprint"}
    )
    __slots__ = tuple(sorted(go_fields))

    def __init__(self, a: NotifyAlert) -> None:
        self.Status = a.status
        self.Labels = KV(a.labels)
        self.Annotations = KV(a.annotations)
        self.StartsAt = GoTime(a.starts_at)
        self.EndsAt = GoTime(a.ends_at)
        self.GeneratorURL = a.generator_url
        self.Fingerprint = a.fingerprint

    def __str__(self) -> str:
        parts = (
            self.Status,
            self.Labels,
            self.Annotations,
            self.StartsAt,
            self.EndsAt,
            self.GeneratorURL,
            self.Fingerprint,
        )
        return "{" + " ".join(go_str(p) for p in parts) + "}"


class Alerts(list[TemplateAlert]):
    def Firing(self) -> list[TemplateAlert]:
        return [a for a in self if a.Status == "firing"]

    def Resolved(self) -> list[TemplateAlert]:
        return [a for a in self if a.Status == "resolved"]


class TemplateData:
    """The dot of a notification template (Alertmanager's template.Data)."""

    go_name = "template.Data"
    go_fields = frozenset(
        {
            "Receiver",
            "Status",
            "Alerts",
            "GroupLabels",
            "CommonLabels",
            "CommonAnnotations",
            "ExternalURL",
        }
    )
    __slots__ = tuple(sorted(go_fields))

    def __init__(self, data: NotifyData) -> None:
        self.Receiver = data.receiver
        self.Status = data.status
        self.Alerts = Alerts(TemplateAlert(a) for a in data.alerts)
        self.GroupLabels = KV(data.group_labels)
        self.CommonLabels = KV(data.common_labels)
        self.CommonAnnotations = KV(data.common_annotations)
        self.ExternalURL = data.external_url


def template_data(data: NotifyData) -> TemplateData:
    return TemplateData(data)


# -- functions ---------------------------------------------------------------------------------

_MID_LETTER = frozenset(":.'\u2018\u2019\u00b7")  # join letters: can't, e.g, x:y
_MID_NUM = frozenset(",;.'\u2019")  # join digits: 1,000 1.5


def _word_char(text: str, i: int) -> bool:
    """Whether text[i] belongs to a word (Unicode word boundaries, simplified)."""
    c = text[i]
    if c == "_" or unicodedata.category(c)[0] in "LNM":
        return True
    prev, nxt = text[i - 1 : i] if i else "", text[i + 1 : i + 2]
    if c in _MID_LETTER and prev.isalpha() and nxt.isalpha():
        return True
    return c in _MID_NUM and prev.isdigit() and nxt.isdigit()


def title(text: Any) -> str:
    """Title case as Alertmanager's `title` (x/text cases.Title): in each word the first
    cased letter is upper-cased and the rest lower-cased ("hELLO wORLD" -> "Hello World")."""
    s = go_str(text)
    out: list[str] = []
    seen_cased = False
    for i, c in enumerate(s):
        if not _word_char(s, i):
            seen_cased = False
            out.append(c)
            continue
        if c.lower() != c.upper() or c.istitle():
            out.append(c.lower() if seen_cased else c.title())
            seen_cased = True
        else:
            out.append(c)
    return "".join(out)


def go_expand(repl: str, m: re.Match[str]) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}; an unknown group is empty, $$ is $."""
    out: list[str] = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c != "$" or i + 1 >= len(repl):
            out.append(c)
            i += 1
            continue
        if repl[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        braced = re.match(r"\{(\w+)\}", repl[i + 1 :])
        plain = re.match(r"\w+", repl[i + 1 :])
        if braced is not None:
            name, i = braced.group(1), i + 1 + braced.end()
        elif plain is not None:
            name, i = plain.group(0), i + 1 + plain.end()
        else:
            out.append("$")
            i += 1
            continue
        out.append(_group(m, name))
    return "".join(out)


def _group(m: re.Match[str], name: str) -> str:
    if name.isdigit():
        n = int(name)
        return (m.group(n) or "") if n <= (m.re.groups) else ""
    return (m.group(name) or "") if name in m.re.groupindex else ""


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise TemplateError(f"error parsing regexp {pattern!r}: {exc}") from None


def re_replace_all(pattern: str, repl: str, text: Any) -> str:
    return _regex(pattern).sub(lambda m: go_expand(repl, m), go_str(text))


def _join(sep: str, items: Any) -> str:
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise TemplateError("join takes a list of strings, e.g. .CommonLabels.Values")
    return sep.join(go_str(i) for i in items)


def _tz(name: str, t: GoTime) -> GoTime:
    if not isinstance(t, GoTime):
        raise TemplateError('tz takes a time, e.g. (tz "Europe/Berlin" .StartsAt)')
    return time_in(t, name)


def _date(layout: str, t: GoTime) -> str:
    if not isinstance(t, GoTime):
        raise TemplateError('date takes a layout and a time, e.g. date "15:04" .StartsAt')
    return t.Format(layout)


def _duration_arg(value: Any) -> Any:
    return value.seconds if hasattr(value, "seconds") else value


FUNCS: dict[str, Callable[..., Any]] = {
    "toUpper": lambda s: go_str(s).upper(),
    "toLower": lambda s: go_str(s).lower(),
    "title": title,
    "trimSpace": lambda s: go_str(s).strip(" \t\n\r\v\f\u0085\u00a0"),
    "join": _join,
    "match": lambda pattern, s: _regex(pattern).search(go_str(s)) is not None,
    "reReplaceAll": re_replace_all,
    "safeHtml": lambda s: SafeHTML(go_str(s)),
    "safeUrl": lambda s: go_str(s),
    "urlUnescape": lambda s: urllib.parse.unquote_plus(go_str(s), errors="strict"),
    "stringSlice": lambda *items: [go_str(i) for i in items],
    "date": _date,
    "tz": _tz,
    "humanizeDuration": lambda v: humanize_duration(_duration_arg(v)),
    "printf": printf,
}
KNOWN_FUNCS = frozenset(FUNCS) | BUILTIN_FUNCS

# -- default definitions -----------------------------------------------------------------------

_ALERT_LIST = (
    "{{ range . }}Labels:\n"
    "{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Annotations:\n"
    "{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Source: {{ .GeneratorURL }}\n"
    "{{ end }}"
)
_ALERT_LIST_MARKDOWN = (
    "{{ range . }}\nLabels:\n"
    "{{ range .Labels.SortedPairs }}  - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}\nAnnotations:\n"
    "{{ range .Annotations.SortedPairs }}  - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}\nSource: {{ .GeneratorURL }}\n"
    "{{ end }}\n"
)
_SUBJECT = (
    '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}]'
    ' {{ .GroupLabels.SortedPairs.Values | join " " }}'
    " {{ if gt (len .CommonLabels) (len .GroupLabels) }}"
    '({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }})'
    "{{ end }}"
)
_FIRING_RESOLVED_MARKDOWN = (
    "\n{{ if gt (len .Alerts.Firing) 0 }}\n# Alerts Firing:\n"
    '{{ template "__text_alert_list_markdown" .Alerts.Firing }}\n{{ end }}\n'
    "{{ if gt (len .Alerts.Resolved) 0 }}\n# Alerts Resolved:\n"
    '{{ template "__text_alert_list_markdown" .Alerts.Resolved }}\n{{ end }}\n'
)

DEFAULTS: dict[str, str] = {
    "__alertmanager": "Alertmanager",
    "__alertmanagerURL": "{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}",
    "__subject": _SUBJECT,
    "__description": "",
    "__text_alert_list": _ALERT_LIST,
    "__text_alert_list_markdown": _ALERT_LIST_MARKDOWN,
    "slack.default.title": '{{ template "__subject" . }}',
    "slack.default.username": '{{ template "__alertmanager" . }}',
    "slack.default.fallback": (
        '{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}'
    ),
    "slack.default.callbackid": "",
    "slack.default.pretext": "",
    "slack.default.titlelink": '{{ template "__alertmanagerURL" . }}',
    "slack.default.iconemoji": "",
    "slack.default.iconurl": "",
    "slack.default.text": "",
    "slack.default.footer": "",
    "pagerduty.default.description": '{{ template "__subject" . }}',
    "pagerduty.default.client": '{{ template "__alertmanager" . }}',
    "pagerduty.default.clientURL": '{{ template "__alertmanagerURL" . }}',
    "pagerduty.default.instances": '{{ template "__text_alert_list" . }}',
    # tenantwatch additions (seed 004 names them; Alertmanager does not define them)
    "pagerduty.default.firing": '{{ template "__text_alert_list" .Alerts.Firing }}',
    "pagerduty.default.resolved": '{{ template "__text_alert_list" .Alerts.Resolved }}',
    "email.default.subject": '{{ template "__subject" . }}',
    "email.default.html": EMAIL_DEFAULT_HTML,
    "msteams.default.summary": '{{ template "__subject" . }}',
    "msteams.default.title": '{{ template "__subject" . }}',
    "msteams.default.text": _FIRING_RESOLVED_MARKDOWN,
}
_DEFAULT_DEFS = {name: parse(text) for name, text in DEFAULTS.items()}
BUILTIN_NAMES = frozenset(_DEFAULT_DEFS)


# -- the set -----------------------------------------------------------------------------------


class TemplateFileError(TemplateError):
    """A template file that cannot be used, at file:line."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.message = message


def line_of(text: str, pos: int | None) -> int:
    """The 1-based line of an offset in text (1 when unknown)."""
    return 1 if pos is None else text.count("\n", 0, pos) + 1


def _problem(nodes: Sequence[Any]) -> str | None:
    unknown = check_functions(nodes, KNOWN_FUNCS)
    if unknown:
        return f'function "{unknown[0]}" not defined; Alertmanager\'s are {_func_names()}'
    return None


def _func_names() -> str:
    return ", ".join(sorted(FUNCS))


class TemplateSet:
    """The default definitions plus those of the config's template files."""

    def __init__(self, defs: Mapping[str, Sequence[Any]] | None = None) -> None:
        self.defs: dict[str, Sequence[Any]] = add_definitions(_DEFAULT_DEFS, dict(defs or {}))
        self._cache: dict[str, list[Any]] = {}

    @classmethod
    def load(cls, sources: Sequence[tuple[str, str]]) -> TemplateSet:
        """Definitions from (file name, text) pairs, later files overriding earlier ones.

        Raise TemplateFileError(file, line, message) for a file Go would refuse to parse
        (syntax, or a function that does not exist)."""
        defs: dict[str, Sequence[Any]] = {}
        for name, text in sources:
            try:
                nodes = parse(text)
            except TemplateError as exc:
                raise TemplateFileError(name, line_of(text, exc.pos), _plain(exc)) from None
            problem = _problem(nodes)
            if problem is not None:
                raise TemplateFileError(name, _line_of_call(text, problem), problem)
            defs = add_definitions(defs, definitions(nodes))
        return cls(defs)

    def names(self) -> set[str]:
        return set(self.defs)

    def _parsed(self, text: str) -> list[Any]:
        nodes = self._cache.get(text)
        if nodes is None:
            nodes = parse(text)
            if len(self._cache) < 4096:
                self._cache[text] = nodes
        return nodes

    def undefined_in(self, text: str) -> list[str]:
        """Templates the text calls ({{ template "x" }}), directly or through the
        definitions it calls, that are not defined. Raise TemplateError if it cannot parse."""
        nodes = self._parsed(text)
        known = add_definitions(self.defs, definitions(nodes))
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

    def problem(self, text: str) -> str | None:
        """Why a receiver's template text cannot work, or None: a syntax error, a function
        that does not exist, or a {{ template "x" }} that nobody defines."""
        if "{{" not in text:
            return None
        try:
            nodes = self._parsed(text)
        except TemplateError as exc:
            return f"bad template: {exc}"
        problem = _problem(nodes)
        if problem is not None:
            return problem
        missing = self.undefined_in(text)
        if missing:
            return (
                f'template "{missing[0]}" is not defined; define it in a file listed under '
                "templates: or use a built-in one such as slack.default.title"
            )
        return None

    def render(self, text: str, data: NotifyData) -> str:
        """Render the text with the data, as Alertmanager's ExecuteTextString does.

        Raise TemplateError when the text cannot parse or execute."""
        if "{{" not in text:
            return text
        return execute(self._parsed(text), TemplateData(data), FUNCS, templates=self.defs)

    def render_html(self, text: str, data: NotifyData) -> str:
        """Render an HTML part (an email's `html`) as ExecuteHTMLString does: what actions
        print is HTML-escaped, except values passed through safeHtml."""
        if "{{" not in text:
            return text
        return execute(
            self._parsed(text),
            TemplateData(data),
            FUNCS,
            templates=self.defs,
            escape=html_template_escape,
        )


def _plain(exc: TemplateError) -> str:
    """The message without its 'position N: ' prefix (the caller gives the line)."""
    return re.sub(r"^position \d+: ", "", str(exc))


def _line_of_call(text: str, problem: str) -> int:
    m = re.search(r'function "([^"]+)"', problem)
    if m is None:
        return 1
    hit = re.search(r"\{\{[^}]*\b" + re.escape(m.group(1)) + r"\b", text)
    return line_of(text, hit.start() if hit else None)

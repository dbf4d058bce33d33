"""Alertmanager notification templates: data model, functions, defaults, template sets.

Where amtool is installed, outputs are compared with `amtool template render` (Alertmanager
0.25 renders the same data with its own default.tmpl)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tenantwatch.alertmanager.notify_data import (
    NotifyAlert,
    NotifyData,
    build_notify_data,
    webhook_payload,
)
from tenantwatch.alertmanager.templates import (
    BUILTIN_NAMES,
    TemplateFileError,
    TemplateSet,
    title,
)
from tenantwatch.gotext.template import TemplateError

T0 = 1_704_110_400.0  # 2024-01-01 12:00:00 UTC
DEFAULT_TMPL = Path("/usr/share/prometheus/alertmanager/default.tmpl")


def alert(
    tenant: str = "acme",
    status: str = "firing",
    starts_at: float = T0,
    ends_at: float = 0.0,
    **extra: str,
) -> NotifyAlert:
    return NotifyAlert(
        status=status,
        labels={"zeta": "1", "alertname": "HighLatency", "tenant": tenant, "Alpha": "A", **extra},
        annotations={"summary": f"slow on {tenant}", "description": "p99 > 2s"},
        starts_at=starts_at,
        ends_at=ends_at,
        generator_url="http://prom.example/graph?g0.expr=up",
        fingerprint=f"fp-{tenant}",
    )


@pytest.fixture
def data() -> NotifyData:
    return build_notify_data(
        "team-x",
        {"alertname": "HighLatency"},
        [
            alert(),
            alert("beta", "resolved", T0 + 0.5, T0 + 3600.123456),
        ],
        "http://am.example:9093",
        '{}:{alertname="HighLatency"}',
    )


ts = TemplateSet()


def test_subject_and_slack_title_as_alertmanager_writes_them(data: NotifyData) -> None:
    expected = "[FIRING:1] HighLatency (A 1)"
    assert ts.render('{{ template "__subject" . }}', data) == expected
    assert ts.render('{{ template "slack.default.title" . }}', data) == expected
    assert ts.render('{{ template "email.default.subject" . }}', data) == expected
    assert ts.render('{{ template "pagerduty.default.description" . }}', data) == expected


def test_slack_defaults_link_to_the_receiver_in_alertmanager(data: NotifyData) -> None:
    link = "http://am.example:9093/#/alerts?receiver=team-x"
    assert ts.render('{{ template "slack.default.titlelink" . }}', data) == link
    assert ts.render('{{ template "slack.default.username" . }}', data) == "Alertmanager"
    fallback = ts.render('{{ template "slack.default.fallback" . }}', data)
    assert fallback == f"[FIRING:1] HighLatency (A 1) | {link}"
    assert ts.render('{{ template "slack.default.text" . }}', data) == ""


def test_text_alert_list_puts_alertname_first_then_sorts_by_name(data: NotifyData) -> None:
    out = ts.render('{{ template "__text_alert_list" .Alerts.Firing }}', data)
    assert out == (
        "Labels:\n - alertname = HighLatency\n - Alpha = A\n - tenant = acme\n - zeta = 1\n"
        "Annotations:\n - description = p99 > 2s\n - summary = slow on acme\n"
        "Source: http://prom.example/graph?g0.expr=up\n"
    )


def test_pagerduty_firing_and_resolved_are_tenantwatch_additions(data: NotifyData) -> None:
    firing = ts.render('{{ template "pagerduty.default.firing" . }}', data)
    resolved = ts.render('{{ template "pagerduty.default.resolved" . }}', data)
    assert "tenant = acme" in firing and "beta" not in firing
    assert "tenant = beta" in resolved and "acme" not in resolved
    assert firing == ts.render('{{ template "pagerduty.default.instances" .Alerts.Firing }}', data)


def test_alert_times_print_as_go_time_strings(data: NotifyData) -> None:
    out = ts.render("{{ range .Alerts }}{{ .StartsAt }}|{{ .EndsAt }};{{ end }}", data)
    assert out == (
        "2024-01-01 12:00:00 +0000 UTC|0001-01-01 00:00:00 +0000 UTC;"
        "2024-01-01 12:00:00.5 +0000 UTC|2024-01-01 13:00:00.123456 +0000 UTC;"
    )


def test_tz_and_date_show_a_time_in_a_zone(data: NotifyData) -> None:
    text = '{{ (index .Alerts 0).StartsAt | tz "Europe/Berlin" }}|'
    text += '{{ date "15:04 MST" ((index .Alerts 0).StartsAt | tz "America/New_York") }}'
    assert ts.render(text, data) == "2024-01-01 13:00:00 +0100 CET|07:00 EST"
    with pytest.raises(TemplateError, match="unknown time zone"):
        ts.render('{{ (index .Alerts 0).StartsAt | tz "Mars/Base" }}', data)


def test_labels_have_go_methods(data: NotifyData) -> None:
    text = (
        "{{ .CommonLabels.Names }} {{ .CommonLabels.Values }} "
        '{{ (.CommonLabels.Remove (stringSlice "alertname" "zeta")).SortedPairs }}'
    )
    assert ts.render(text, data) == "[alertname Alpha zeta] [HighLatency A 1] [{Alpha A}]"


def test_unknown_fields_fail_like_go_and_missing_labels_are_empty(data: NotifyData) -> None:
    with pytest.raises(TemplateError, match=r"can't evaluate field Foo in type template\.Data"):
        ts.render("{{ .Foo }}", data)
    assert ts.render("[{{ .CommonLabels.nope }}]", data) == "[]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hELLO wORLD", "Hello World"),
        ("foo-bar o'neil", "Foo-Bar O'neil"),
        ("3am x.y 1.5k", "3Am X.y 1.5K"),
        ("ÉCOLE ßtraße", "École Sstraße"),
    ],
)
def test_title_is_alertmanagers_not_prometheus(text: str, expected: str) -> None:
    assert title(text) == expected


def test_functions(data: NotifyData) -> None:
    text = (
        '{{ join "," (stringSlice "a" "b") }}|{{ match "^a.c$" "abc" }}|'
        '{{ reReplaceAll "(a)(b)" "${2}$1x$3" "abab" }}|{{ "  x " | trimSpace }}|'
        '{{ printf "%s=%d" "n" 3 }}|{{ .Status | toUpper }}|{{ "A" | toLower }}'
    )
    assert ts.render(text, data) == "a,b|true|bb|x|n=3|FIRING|a"


def test_a_template_file_adds_and_overrides_definitions(data: NotifyData) -> None:
    custom = TemplateSet.load(
        [
            ("a.tmpl", '{{ define "team.title" }}{{ .Receiver }}!{{ end }}'),
            ("b.tmpl", '{{ define "slack.default.title" }}custom{{ end }}'),
        ]
    )
    assert "team.title" in custom.names() and custom.names() >= BUILTIN_NAMES
    assert custom.render('{{ template "team.title" . }}', data) == "team-x!"
    assert custom.render('{{ template "slack.default.title" . }}', data) == "custom"
    assert ts.render('{{ template "slack.default.title" . }}', data) != "custom"


def test_a_broken_template_file_is_reported_at_its_line() -> None:
    with pytest.raises(TemplateFileError) as caught:
        TemplateSet.load(
            [("ok.tmpl", "fine"), ("bad.tmpl", 'x\n\n{{ define "a" }}{{ .X }{{ end }}')]
        )
    assert (caught.value.file, caught.value.line) == ("bad.tmpl", 3)
    with pytest.raises(TemplateFileError) as unknown:
        TemplateSet.load([("f.tmpl", '{{ define "a" }}\n{{ nofunc . }}{{ end }}')])
    assert unknown.value.line == 2 and 'function "nofunc" not defined' in unknown.value.message


def test_undefined_in_follows_definitions_and_problem_explains() -> None:
    custom = TemplateSet.load([("a.tmpl", '{{ define "a" }}{{ template "missing" . }}{{ end }}')])
    assert custom.undefined_in('{{ template "a" . }}{{ template "slack.default.title" . }}') == [
        "missing"
    ]
    assert custom.undefined_in('{{ define "x" }}{{ end }}{{ template "x" . }}') == []
    assert custom.problem("no template here") is None
    assert "not defined" in (custom.problem('{{ template "zzz" . }}') or "")
    assert "bad template" in (custom.problem("{{ .A ") or "")
    assert 'function "nope"' in (custom.problem("{{ nope }}") or "")


def test_email_html_default_is_alertmanagers_page_with_escaped_values() -> None:
    data = build_notify_data("r", {}, [alert(tenant="<b>x</b>")], "http://am", "k")
    html = ts.render_html('{{ template "email.default.html" . }}', data)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "<title>[FIRING:1]  (HighLatency A &lt;b&gt;x&lt;/b&gt; 1)</title>" in html
    assert '<a href="http://am/#/alerts?receiver=r" class="btn-primary"' in html
    assert "[1] Firing</strong>" in html and "Resolved</strong>" not in html


# -- against the real amtool ------------------------------------------------------------------

AMTOOL_TEXTS = [
    '{{ template "slack.default.title" . }}',
    '{{ template "__subject" . }}',
    '{{ template "slack.default.fallback" . }}',
    '{{ template "pagerduty.default.instances" .Alerts }}',
    '{{ template "__alertmanagerURL" . }}',
    "{{ range .Alerts }}{{ .StartsAt }}|{{ .EndsAt }}|{{ .Labels.SortedPairs }}|"
    "{{ .Labels.Names }}|{{ .Labels }}\n{{ end }}",
    '{{ (index .Alerts 0).StartsAt.Format "Mon Jan _2 15:04:05.000 MST 2006 -07:00 pm" }}',
    '{{ "hELLO wORLD foo-bar 3am x.y" | title }}',
    '{{ join "," (stringSlice "a" "b") }}|{{ reReplaceAll "(a)(b)" "${2}$1x$3" "abab" }}',
    '{{ printf "%s-%d-%5.2f|%v" "x" 3 3.14159 .Alerts.Firing }}',
    '{{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}',
    "{{- range .Alerts -}}\n  {{ .Labels.alertname }}\n{{- end }}",
    "{{ range $i, $a := .Alerts }}{{ if $i }}{{ break }}{{ end }}{{ $a.Fingerprint }}{{ end }}",
    '{{ print 1 2 "a" }}|{{ html "<a>" }}|{{ urlquery "a b" }}|{{ index .Alerts 0 }}',
    '{{ define "x" }}X{{ . }}{{ end }}{{ template "x" "y" }}{{ block "b" 1 }}B{{ . }}{{ end }}',
]


def amtool() -> str:
    exe = shutil.which("amtool")
    if exe is None or not DEFAULT_TMPL.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("amtool is missing; run scripts/ensure-prometheus.sh")
        pytest.skip("amtool (prometheus-alertmanager) is missing")
    return exe


@pytest.mark.parametrize("text", AMTOOL_TEXTS)
def test_rendering_matches_amtool(text: str, data: NotifyData, tmp_path: Path) -> None:
    exe = amtool()
    payload = tmp_path / "data.json"
    payload.write_text(json.dumps(webhook_payload(data)))
    done = subprocess.run(
        [
            exe,
            "template",
            "render",
            f"--template.glob={DEFAULT_TMPL}",
            f"--template.data={payload}",
            f"--template.text={text}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert ts.render(text, data) == done.stdout


def test_html_parts_escape_values_as_html_template_does() -> None:
    nasty = build_notify_data(
        "team-x",
        {"alertname": "XSS"},
        [alert(summary_html='<img src=x onerror="alert(1)">', plus="a+b & 'c'")],
        "http://am.example:9093",
        "{}:{}",
    )
    text = (
        "<p>{{ (index .Alerts 0).Labels.summary_html }}</p>"
        "<i>{{ (index .Alerts 0).Labels.plus }}</i>"
        '{{ define "row" }}<td>{{ . }}</td>{{ end }}{{ template "row" .CommonLabels.plus }}'
        "<b>{{ .CommonLabels.plus | safeHtml }}</b>"
    )
    assert ts.render_html(text, nasty) == (
        "<p>&lt;img src=x onerror=&#34;alert(1)&#34;&gt;</p>"
        "<i>a&#43;b &amp; &#39;c&#39;</i>"
        "<td>a&#43;b &amp; &#39;c&#39;</td>"
        "<b>a+b & 'c'</b>"
    )
    # text parts (subjects, Slack, webhooks) are not HTML: values stay as they are
    assert ts.render("{{ .CommonLabels.plus }}", nasty) == "a+b & 'c'"

"""Seed 003's incident and resolution messages per channel, and operators' templates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tenantwatch.incidents import communications as comms
from tenantwatch.incidents.lifecycle import assign, resolve, transition
from tenantwatch.incidents.model import AffectedTenant, Incident, Role, Severity, Status

T0 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
STATUS_PAGE = "https://status.example.com"


def p1() -> Incident:
    """A P1 on one service hitting two tenants in two tiers, commanded by @john.doe."""
    inc = Incident(
        id="INC-20261207-0001",
        title="Service unavailable",
        severity=Severity.P1,
        status=Status.OPEN,
        detected_at=T0,
        services=("Smart Ebook Chat API",),
        tenants=(
            AffectedTenant("acme", "enterprise", T0),
            AffectedTenant("globex", "basic", T0 + timedelta(minutes=1)),
        ),
    )
    inc, _ = assign(inc, Role.COMMANDER, "@john.doe", T0, "alice")
    return inc


def test_notification_text_is_the_seeds_template() -> None:
    msg = comms.notification(p1(), "text", status_page_url=STATUS_PAGE, now=T0)
    assert msg.body == (
        "🚨 INCIDENT ALERT - P1\n"
        "Service: Smart Ebook Chat API\n"
        "Issue: Service unavailable\n"
        "Impact: 2 tenants (1 basic, 1 enterprise)\n"
        "ETA: Investigating\n"
        "Incident Commander: @john.doe\n"
        "Status Page: https://status.example.com"
    )
    assert msg.subject is None and msg.slack is None


def test_resolution_text_is_the_seeds_template() -> None:
    inc, _ = resolve(p1(), T0 + timedelta(minutes=15, seconds=20), "@john.doe")
    msg = comms.resolution(
        inc,
        "text",
        root_cause="Database connection pool exhaustion",
        actions_taken=["Restarted database", "increased pool size"],
        now=T0 + timedelta(hours=2),
    )
    assert msg.body == (
        "✅ RESOLVED - P1 Incident\n"
        "Service: Smart Ebook Chat API\n"
        "Issue: Service unavailable - RESOLVED\n"
        "Duration: 15 minutes\n"
        "Root Cause: Database connection pool exhaustion\n"
        "Actions Taken: Restarted database, increased pool size"
    )


def test_without_a_status_page_the_line_is_left_out_not_left_empty() -> None:
    msg = comms.notification(p1(), "text", status_page_url=None, now=T0)
    assert "Status Page" not in msg.body


def test_without_services_the_tenants_are_the_service_and_an_unassigned_commander_says_so() -> None:
    inc = Incident(
        "INC-20261207-0002",
        "Slow queries",
        Severity.P2,
        Status.OPEN,
        T0,
        tenants=(AffectedTenant("acme", "enterprise", T0),),
    )
    body = comms.notification(inc, "text", status_page_url=None, now=T0).body
    assert "Service: acme\n" in body
    assert "Impact: 1 tenant (enterprise)\n" in body
    assert "Incident Commander: unassigned" in body


def test_eta_follows_the_state_unless_given() -> None:
    inc, _ = transition(p1(), Status.IDENTIFIED, T0 + timedelta(minutes=5), "alice")
    assert (
        "ETA: Cause identified, fix in progress"
        in comms.notification(inc, "text", status_page_url=None, now=T0).body
    )
    given = comms.notification(inc, "text", status_page_url=None, now=T0, eta="about 30 minutes")
    assert "ETA: about 30 minutes" in given.body


def test_an_active_incidents_resolution_duration_runs_to_now() -> None:
    msg = comms.resolution(
        p1(), "text", root_cause=None, actions_taken=[], now=T0 + timedelta(hours=1, minutes=5)
    )
    assert "Duration: 1 hour 5 minutes\n" in msg.body
    assert "Root Cause: under investigation\n" in msg.body
    assert msg.body.endswith("Actions Taken: none recorded")


def test_slack_message_is_a_payload_with_text_and_one_mrkdwn_section() -> None:
    msg = comms.notification(p1(), "slack", status_page_url=STATUS_PAGE, now=T0)
    assert msg.slack is not None
    assert set(msg.slack) == {"text", "blocks"}
    assert msg.slack["text"] == msg.body
    assert msg.slack["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": msg.body}}
    ]
    assert msg.body.splitlines()[0] == "🚨 *INCIDENT ALERT - P1*"
    assert "*Incident Commander:* @john.doe" in msg.body
    assert "*Status Page:* <https://status.example.com>" in msg.body


def test_slack_escapes_a_title_so_it_cannot_mention_the_channel() -> None:
    inc = replace(p1(), title="db <!channel> & co")
    body = comms.notification(inc, "slack", status_page_url=None, now=T0).body
    assert "*Issue:* db &lt;!channel&gt; &amp; co" in body
    assert "<!channel>" not in body


def test_email_has_a_one_line_subject_and_the_text_body_with_the_incident_id() -> None:
    inc = replace(p1(), title="Service unavailable\nBcc: someone@example.com")
    msg = comms.notification(inc, "email", status_page_url=STATUS_PAGE, now=T0)
    assert msg.subject == (
        "[P1] Incident INC-20261207-0001: Service unavailable Bcc: someone@example.com"
    )
    assert msg.body.startswith("🚨 INCIDENT ALERT - P1\n")
    assert "Incident: INC-20261207-0001\n" in msg.body
    assert "Detected: 2026-12-07 14:00:00 UTC" in msg.body


def test_html_for_the_status_page_escapes_what_tenants_and_responders_wrote() -> None:
    inc = replace(p1(), title="<script>alert(1)</script>")
    html = comms.notification(inc, "html", status_page_url=None, now=T0).body
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.startswith('<article class="incident incident-p1">')


def test_resolution_html_lists_the_actions() -> None:
    inc, _ = resolve(p1(), T0 + timedelta(minutes=15), "alice")
    html = comms.resolution(
        inc, "html", root_cause="pool", actions_taken=["a <b>", "c"], now=T0
    ).body
    assert "<ul><li>a &lt;b&gt;</li><li>c</li></ul>" in html


def test_status_update_carries_the_responders_text_and_state() -> None:
    inc, _ = transition(p1(), Status.MONITORING, T0 + timedelta(minutes=9), "alice")
    msg = comms.status_update(inc, "text", "Pool size raised; latency back to normal.", T0)
    assert msg.body == (
        "🔄 UPDATE - P1 Incident INC-20261207-0001\n"
        "Issue: Service unavailable\n"
        "Status: monitoring\n"
        "Update: Pool size raised; latency back to normal.\n"
        "ETA: Fix applied, monitoring"
    )


def test_an_override_replaces_one_template_and_keeps_the_others() -> None:
    templates = comms.Templates(
        {
            "notification.text": "[{{ severity }}] {{ issue }} ({{ impact }}) {{ tenants | join(', ') }}"
        }
    )
    text = comms.notification(p1(), "text", status_page_url=None, now=T0, templates=templates)
    assert text.body == (
        "[P1] Service unavailable (2 tenants (1 basic, 1 enterprise)) "
        "acme (enterprise), globex (basic)"
    )
    slack = comms.notification(p1(), "slack", status_page_url=None, now=T0, templates=templates)
    assert slack.body.startswith("🚨 *INCIDENT ALERT - P1*")


def test_a_template_with_a_syntax_error_is_refused_naming_it_and_the_line() -> None:
    with pytest.raises(ValueError, match=r"'resolution\.slack', line 2: .*"):
        comms.Templates({"resolution.slack": "ok\n{% if severity %}never closed"})


def test_a_template_using_a_variable_its_message_lacks_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"'notification\.text' uses 'root_cause'"):
        comms.Templates({"notification.text": "{{ root_cause }}"})


def test_an_unknown_template_name_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match=r"unknown message template 'notification\.sms'.*"):
        comms.Templates({"notification.sms": "x"})


def test_an_undefined_attribute_fails_at_render_naming_the_template() -> None:
    templates = comms.Templates({"update.text": "{{ issue.no_such_thing }}"})
    with pytest.raises(ValueError, match=r"message template 'update\.text' failed"):
        comms.status_update(p1(), "text", "x", T0, templates=templates)


@pytest.mark.parametrize(
    "source",
    [
        "{{ issue.__class__.__mro__ }}",
        "{{ issue.__class__.__base__.__subclasses__() }}",
        "{{ tenants.__class__ }}",
        "{{ issue.format.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_attribute_tricks(source: str) -> None:
    templates = comms.Templates({"notification.text": source})
    with pytest.raises(ValueError, match=r"'notification\.text' failed: .*unsafe"):
        comms.notification(p1(), "text", status_page_url=None, now=T0, templates=templates)


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel 'sms'"):
        comms.notification(p1(), "sms", status_page_url=None, now=T0)  # type: ignore[arg-type]

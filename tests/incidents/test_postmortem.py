"""A postmortem drafted from a realistic incident: Markdown, HTML and a PDF of it."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from tenantwatch.adapters.pdf import render_pdf
from tenantwatch.incidents import lifecycle
from tenantwatch.incidents.model import (
    Entry,
    EntryKind,
    Incident,
    LinkedAlert,
    Role,
    Severity,
    Status,
)
from tenantwatch.incidents.postmortem import TO_FILL_IN, Postmortem, draft, to_html, to_markdown

T0 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def alert(fp: str, tenant: str) -> LinkedAlert:
    labels = {"alertname": "HighQueryResponseTime", "tenant_id": tenant}
    return LinkedAlert(fp, "HighQueryResponseTime", tenant, labels, True, T0)


def story(note: str = "p95 at 4.2 s; pool exhausted") -> tuple[Incident, list[Entry]]:
    """A P1 that hits two tenants, is acknowledged after 6 minutes, mitigated after 20 and
    resolved after 47 when its alerts stop; one automated action fails, one succeeds."""
    inc = Incident("INC-20261207-0042", "Slow queries", Severity.P1, Status.OPEN, T0)
    timeline = [Entry(T0, EntryKind.CREATED, "system", "opened by alert")]

    def apply(change: tuple[Incident, list[Entry]]) -> None:
        nonlocal inc
        inc, entries = change
        timeline.extend(entries)

    apply(lifecycle.attach_alert(inc, alert("a1", "acme"), "enterprise", T0))
    apply(lifecycle.attach_alert(inc, alert("g1", "globex"), "basic", at(2)))
    apply(lifecycle.acknowledge(inc, at(6), "alice"))
    apply(lifecycle.assign(inc, Role.COMMANDER, "alice", at(6), "alice"))
    apply(lifecycle.assign(inc, Role.TECHNICAL_LEAD, "bob", at(8), "alice"))
    apply(lifecycle.transition(inc, Status.INVESTIGATING, at(7), "alice"))
    apply(lifecycle.note(inc, at(10), "bob", note, pinned=True))
    timeline.append(Entry(at(12), EntryKind.ACTION, "automation", "scale api to 10", {"ok": False}))
    timeline.append(
        Entry(at(14), EntryKind.ACTION, "bob", "raise pool size", {"outcome": "succeeded"})
    )
    apply(lifecycle.transition(inc, Status.MONITORING, at(20), "alice", "pool raised"))
    apply(lifecycle.alert_resolved(inc, "a1", at(40)))
    apply(lifecycle.alert_resolved(inc, "g1", at(47)))
    return inc, [replace(e, seq=i) for i, e in enumerate(timeline, 1)]  # as stored


def drafted(note: str = "p95 at 4.2 s; pool exhausted") -> Postmortem:
    inc, timeline = story(note)
    return draft(inc, timeline, {"acme": 47.0, "globex": 45.5}, now=at(90))


def test_response_figures_match_the_timeline() -> None:
    r = drafted().response
    assert (r.detected, r.acknowledged, r.mitigated, r.resolved) == (T0, at(6), at(20), at(47))
    assert r.time_to_acknowledge == timedelta(minutes=6)
    assert r.time_to_resolve == timedelta(minutes=47)
    assert r.target_met is True
    assert r.detected_by == "alerts: HighQueryResponseTime"


def test_an_unacknowledged_incident_misses_its_target_once_due_and_not_before() -> None:
    inc = Incident("INC-20261207-0043", "x", Severity.P1, Status.OPEN, T0)
    assert draft(inc, [], {}, now=at(14)).response.target_met is None
    late = draft(inc, [], {}, now=at(15))
    assert late.response.target_met is False
    assert "Not acknowledged within the P1 response target (15 minutes)." in late.went_badly


def test_markdown_has_the_sections_of_a_blameless_review() -> None:
    md = to_markdown(drafted())
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings == [
        "# Postmortem: INC-20261207-0042 Slow queries",
        "## Summary",
        "## Impact",
        "## Timeline",
        "## Detection and response",
        "## Root cause",
        "## Contributing factors",
        "## What went well",
        "## What went badly",
        "## Action items",
    ]
    assert "Blameless review" in md
    assert md.count("Incident commander") == 1
    assert "- **Incident commander:** alice\n- **Technical lead:** bob\n" in md
    assert f"## Root cause\n\n{TO_FILL_IN}\n" in md


def test_markdown_timeline_lists_every_entry_in_order_with_pin_and_author() -> None:
    inc, timeline = story()
    md = to_markdown(draft(inc, list(reversed(timeline)), {}, now=at(90)))  # any order given
    rows = [line for line in md.split("## Timeline")[1].split("##")[0].splitlines()]
    rows = [r for r in rows if r.startswith("| 2026")]
    assert len(rows) == len(timeline)
    assert rows[0] == "| 2026-12-07 14:00:00 UTC |  | created | system | opened by alert |"
    assert rows[-1] == (
        "| 2026-12-07 14:47:00 UTC |  | status | system | monitoring → resolved: "
        "all its alerts resolved |"
    )
    pinned = [r for r in rows if "📌" in r]
    assert pinned == [
        "| 2026-12-07 14:10:00 UTC | 📌 | note | bob | p95 at 4.2 s; pool exhausted |"
    ]
    times = [r.split(" | ")[0] for r in rows]
    assert times == sorted(times)
    assert "| 2026-12-07 14:06:00 UTC |  | acknowledged | alice | acknowledged by alice |" in rows


def test_markdown_response_table_shows_tta_ttr_and_the_target() -> None:
    md = to_markdown(drafted())
    assert "| Time to acknowledge | 6 minutes |" in md
    assert "| Time to mitigate | 20 minutes |" in md
    assert "| Time to resolve | 47 minutes |" in md
    assert "| Response target (15 minutes) | met |" in md
    assert "| Acknowledged | 2026-12-07 14:06:00 UTC by alice |" in md


def test_markdown_impact_rows_carry_tier_since_and_the_given_sla_minutes() -> None:
    md = to_markdown(drafted())
    assert "Affected: 2 tenants (1 basic, 1 enterprise)." in md
    assert "| acme | enterprise | 2026-12-07 14:00:00 UTC | 47 |" in md
    assert "| globex | basic | 2026-12-07 14:02:00 UTC | 45.5 |" in md


def test_a_tenant_without_measured_sla_minutes_says_so() -> None:
    inc, timeline = story()
    md = to_markdown(draft(inc, timeline, {"acme": 3}, now=at(90)))
    assert "| globex | basic | 2026-12-07 14:02:00 UTC | not measured |" in md


def test_actions_and_their_outcomes_are_listed_under_action_items() -> None:
    pm = drafted()
    assert [(a.text, a.outcome) for a in pm.actions_taken] == [
        ("scale api to 10", "failed"),
        ("raise pool size", "succeeded"),
    ]
    md = to_markdown(pm)
    items = md.split("## Action items")[1]
    assert "| 2026-12-07 14:12:00 UTC | automation | scale api to 10 | failed |" in items
    assert "1 of 2 actions failed." in pm.went_badly
    assert "Acknowledged within the P1 response target (15 minutes)." in pm.went_well


def test_a_pipe_and_a_line_break_in_a_note_do_not_break_the_table() -> None:
    md = to_markdown(drafted("a | b\nsecond line"))
    row = next(line for line in md.splitlines() if "📌 | note" in line)
    assert row == "| 2026-12-07 14:10:00 UTC | 📌 | note | bob | a \\| b<br>second line |"
    assert len(re.split(r"(?<!\\)\|", row)) == 5 + 2  # five cells between the outer pipes


def test_the_draft_is_the_same_for_the_same_inputs() -> None:
    assert to_markdown(drafted()) == to_markdown(drafted())
    assert to_html(drafted()) == to_html(drafted())


def test_html_escapes_a_tenant_named_script() -> None:
    inc, timeline = story()
    inc, more = lifecycle.attach_alert(inc, alert("x1", "<script>"), "basic", at(30))
    html = to_html(draft(inc, [*timeline, *more], {"<script>": 1.0}, now=at(90)))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert re.search(r"<tr class=\"pinned\">", html)


@pytest.mark.timeout(120)
def test_the_html_renders_to_a_pdf_holding_the_incident_id() -> None:
    pdf = render_pdf(to_html(drafted()))
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
    assert "INC-20261207-0042" in text
    assert "Time to acknowledge" in text

"""Which runbook an alert points to, the built-in runbooks, and Markdown rendered safely."""

from __future__ import annotations

from tenantwatch.incidents.runbooks import (
    builtin_runbooks,
    from_markdown,
    render_markdown_safe,
    resolve_runbook,
)

URL = "https://wiki.example.com/runbooks/high-response-time"


def test_the_runbook_url_annotation_wins() -> None:
    assert resolve_runbook({"runbook_url": URL, "runbook": "high-response-time"}) == URL


def test_a_runbook_annotation_names_a_stored_runbook() -> None:
    assert resolve_runbook({"runbook": "high-response-time"}) == "high-response-time"
    assert resolve_runbook({"runbook": "high-response-time.md"}) == "high-response-time"
    assert resolve_runbook({"runbook": "disk-full"}, known={"disk-full"}) == "disk-full"


def test_a_runbook_annotation_may_hold_a_url() -> None:
    assert resolve_runbook({"runbook": URL}) == URL


def test_labels_are_read_after_annotations() -> None:
    assert resolve_runbook({}, {"runbook_url": URL}) == URL
    assert resolve_runbook({"runbook": "high-response-time"}, {"runbook_url": URL}) == (
        "high-response-time"
    )


def test_nothing_to_link_to_gives_none() -> None:
    assert resolve_runbook({}) is None
    assert resolve_runbook({"runbook": "no-such-runbook"}) is None
    assert resolve_runbook({"runbook_url": "javascript:alert(1)"}) is None
    assert resolve_runbook({"runbook_url": "/runbooks/x"}) is None
    assert resolve_runbook({"runbook_url": "https://"}) is None


def test_the_high_response_time_runbook_ships_with_a_title_and_its_steps() -> None:
    book = builtin_runbooks()["high-response-time"]
    assert book.title == "High response time"
    for heading in ("## Diagnosis", "## Mitigation", "## Escalation"):
        assert heading in book.body
    assert "HighQueryResponseTime" in book.body


def test_a_runbook_without_a_heading_is_titled_by_its_name() -> None:
    assert from_markdown("disk-full", "Free some space.").title == "Disk full"


def test_markdown_renders_headings_lists_code_and_tables() -> None:
    html = render_markdown_safe(
        "# T\n\n- a\n\n```\nx < y\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    assert "<h1>T</h1>" in html
    assert "<li>a</li>" in html
    assert "<code>x &lt; y\n</code>" in html
    assert "<td>1</td>" in html


def test_raw_html_is_escaped_not_passed_through() -> None:
    html = render_markdown_safe('Hi <script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n')
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_links_with_unsafe_schemes_are_not_made_links() -> None:
    html = render_markdown_safe("[ok](https://example.com) [bad](javascript:alert(1))")
    assert '<a href="https://example.com">ok</a>' in html
    assert 'href="javascript' not in html


def test_the_built_in_runbook_renders() -> None:
    html = render_markdown_safe(builtin_runbooks()["high-response-time"].body)
    assert html.startswith("<h1>High response time</h1>")
    assert "<h2>Mitigation</h2>" in html

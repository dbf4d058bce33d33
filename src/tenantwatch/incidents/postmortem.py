"""A blameless postmortem drafted from an incident and its timeline, as Markdown and as
printable HTML (the PDF's source) (pure).

The draft fills in what the record knows (impact, timeline, response figures, actions
taken) and leaves what only people know (root cause, contributing factors, follow-ups)
as "To fill in". The same inputs give the same draft.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import jinja2

from tenantwatch.incidents import wording
from tenantwatch.incidents.model import RESPONSE_TARGET, Entry, EntryKind, Incident, Role

TO_FILL_IN = "To fill in"


@dataclass(frozen=True)
class ImpactRow:
    tenant_id: str
    tier: str | None
    since: datetime
    sla_minutes: float | None  # SLA minutes the incident consumed; None: not given


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    kind: str
    author: str
    text: str
    pinned: bool


@dataclass(frozen=True)
class ActionTaken:
    """An ACTION entry: an automated or manual action and how it ended."""

    at: datetime
    author: str
    text: str
    outcome: str


@dataclass(frozen=True)
class Response:
    """Detection and response figures; a time is None until it happened."""

    detected: datetime
    detected_by: str
    acknowledged: datetime | None
    acknowledged_by: str | None
    mitigated: datetime | None
    resolved: datetime | None
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None
    response_target: timedelta
    target_met: bool | None  # None: not acknowledged, target not yet passed
    escalated: datetime | None
    reopened: int


@dataclass(frozen=True)
class Postmortem:
    incident_id: str
    title: str
    severity: str
    status: str
    drafted_at: datetime
    commander: str
    roles: tuple[tuple[str, str], ...]  # (role, user) besides the commander, in Role's order
    summary: str
    impact: tuple[ImpactRow, ...]
    impact_text: str
    timeline: tuple[TimelineRow, ...]
    response: Response
    root_cause: str
    contributing_factors: tuple[str, ...]
    went_well: tuple[str, ...]
    went_badly: tuple[str, ...]
    actions_taken: tuple[ActionTaken, ...]
    action_items: tuple[str, ...]


def draft(
    incident: Incident,
    timeline: Sequence[Entry],
    sla_minutes: Mapping[str, float],
    *,
    now: datetime,
) -> Postmortem:
    """Return the postmortem draft. `timeline` is every entry of the incident (any order;
    shown by time, then sequence); `sla_minutes` maps a tenant id to the SLA minutes the
    incident consumed for it, as the caller measured them."""
    entries = sorted(timeline, key=lambda e: (e.at, e.seq))
    response = _response(incident, now)
    actions = tuple(
        ActionTaken(e.at, e.author, e.text, _outcome(e))
        for e in entries
        if e.kind is EntryKind.ACTION
    )
    well, badly = _went(incident, response, actions)
    return Postmortem(
        incident_id=incident.id,
        title=incident.title,
        severity=str(incident.severity),
        status=str(incident.status),
        drafted_at=now,
        commander=wording.commander(incident),
        roles=tuple(
            (str(role).replace("_", " "), incident.roles[role])
            for role in Role
            if role is not Role.COMMANDER and role in incident.roles
        ),
        summary=incident.summary or _summary(incident, now),
        impact=tuple(
            ImpactRow(t.tenant_id, t.tier, t.since, sla_minutes.get(t.tenant_id))
            for t in incident.tenants
        ),
        impact_text=wording.impact(incident.tenants),
        timeline=tuple(TimelineRow(e.at, str(e.kind), e.author, e.text, e.pinned) for e in entries),
        response=response,
        root_cause=TO_FILL_IN,
        contributing_factors=(TO_FILL_IN,),
        went_well=(*well, TO_FILL_IN),
        went_badly=(*badly, TO_FILL_IN),
        actions_taken=actions,
        action_items=(f"{TO_FILL_IN}: what will prevent this or shorten it, with an owner",),
    )


def to_markdown(pm: Postmortem) -> str:
    """Return the postmortem as a Markdown document (GitHub-flavoured tables)."""
    r = pm.response
    lines = [
        f"# Postmortem: {pm.incident_id} {_inline(pm.title)}",
        "",
        f"*Blameless review, drafted {wording.utc(pm.drafted_at)}. "
        "It asks what happened and how the system let it happen, not who is to blame.*",
        "",
        f"- **Severity:** {pm.severity}",
        f"- **Status:** {pm.status}",
        f"- **Incident commander:** {_inline(pm.commander)}",
        *(f"- **{role.capitalize()}:** {_inline(user)}" for role, user in pm.roles),
        "",
        "## Summary",
        "",
        pm.summary,
        "",
        "## Impact",
        "",
        f"Affected: {pm.impact_text}.",
        "",
    ]
    if pm.impact:
        lines += _table(
            ("Tenant", "Tier", "Affected since", "SLA minutes consumed"),
            [
                (i.tenant_id, i.tier or "—", wording.utc(i.since), _minutes(i.sla_minutes))
                for i in pm.impact
            ],
        )
        lines.append("")
    lines += [
        "## Timeline",
        "",
        "Times in UTC; 📌 marks a pinned entry.",
        "",
        *_table(
            ("Time", "Pin", "Event", "Author", "What happened"),
            [
                (wording.utc(t.at), "📌" if t.pinned else "", t.kind, t.author, t.text)
                for t in pm.timeline
            ],
        ),
        "",
        "## Detection and response",
        "",
        *_table(("Figure", "Value"), _figures(r)),
        "",
        "## Root cause",
        "",
        pm.root_cause,
        "",
        "## Contributing factors",
        "",
        *_bullets(pm.contributing_factors),
        "",
        "## What went well",
        "",
        *_bullets(pm.went_well),
        "",
        "## What went badly",
        "",
        *_bullets(pm.went_badly),
        "",
        "## Action items",
        "",
    ]
    if pm.actions_taken:
        lines += [
            "Actions taken during the incident:",
            "",
            *_table(
                ("Time", "By", "Action", "Outcome"),
                [(wording.utc(a.at), a.author, a.text, a.outcome) for a in pm.actions_taken],
            ),
            "",
            "Follow-ups:",
            "",
        ]
    lines += _bullets(pm.action_items)
    return "\n".join(lines) + "\n"


def to_html(pm: Postmortem) -> str:
    """Return the postmortem as a standalone, printable HTML document (A4) with its CSS
    inline, for adapters.pdf.render_pdf. Every value is autoescaped."""
    return (
        _environment()
        .get_template("postmortem.html.j2")
        .render(pm=pm, figures=_figures(pm.response), utc=wording.utc, minutes=_minutes)
    )


def _response(incident: Incident, now: datetime) -> Response:
    target = RESPONSE_TARGET[incident.severity]
    if incident.acknowledged_at is not None:
        met: bool | None = incident.acknowledged_at <= incident.response_due
    else:
        met = False if now >= incident.response_due else None
    mitigated = incident.mitigated_at
    detected_by = ", ".join(sorted({a.alertname for a in incident.alerts}))
    return Response(
        detected=incident.detected_at,
        detected_by=f"alerts: {detected_by}" if detected_by else f"opened by {incident.created_by}",
        acknowledged=incident.acknowledged_at,
        acknowledged_by=incident.acknowledged_by,
        mitigated=mitigated,
        resolved=incident.resolved_at,
        time_to_acknowledge=incident.time_to_acknowledge,
        time_to_mitigate=None if mitigated is None else mitigated - incident.detected_at,
        time_to_resolve=incident.time_to_resolve,
        response_target=target,
        target_met=met,
        escalated=incident.escalated_at,
        reopened=incident.reopened,
    )


def _figures(r: Response) -> list[tuple[str, str]]:
    def at(when: datetime | None) -> str:
        return "—" if when is None else wording.utc(when)

    def span(d: timedelta | None) -> str:
        return "—" if d is None else wording.human_duration(d)

    verdict = {True: "met", False: "missed", None: "not yet due"}[r.target_met]
    by = f" by {r.acknowledged_by}" if r.acknowledged_by else ""
    rows = [
        ("Detected", f"{at(r.detected)} ({r.detected_by})"),
        ("Acknowledged", at(r.acknowledged) + (by if r.acknowledged else "")),
        ("Mitigated", at(r.mitigated)),
        ("Resolved", at(r.resolved)),
        ("Time to acknowledge", span(r.time_to_acknowledge)),
        ("Time to mitigate", span(r.time_to_mitigate)),
        ("Time to resolve", span(r.time_to_resolve)),
        (f"Response target ({wording.human_duration(r.response_target)})", verdict),
    ]
    if r.escalated is not None:
        rows.append(("Escalated", at(r.escalated)))
    if r.reopened:
        rows.append(("Reopened", f"{r.reopened} time{'' if r.reopened == 1 else 's'}"))
    return rows


def _went(
    incident: Incident, r: Response, actions: Sequence[ActionTaken]
) -> tuple[list[str], list[str]]:
    """What the record alone shows went well and badly."""
    well: list[str] = []
    badly: list[str] = []
    target = wording.human_duration(r.response_target)
    if r.target_met is True:
        well.append(f"Acknowledged within the {incident.severity} response target ({target}).")
    elif r.target_met is False:
        badly.append(f"Not acknowledged within the {incident.severity} response target ({target}).")
    if r.escalated is not None:
        badly.append(f"Escalated at {wording.utc(r.escalated)}.")
    if r.reopened:
        badly.append(f"Reopened {r.reopened} time{'' if r.reopened == 1 else 's'}: it recurred.")
    failed = [a for a in actions if a.outcome in ("failed", "error")]
    if failed:
        badly.append(f"{len(failed)} of {len(actions)} actions failed.")
    elif actions:
        well.append(f"All {len(actions)} actions taken succeeded.")
    return well, badly


def _outcome(entry: Entry) -> str:
    if "outcome" in entry.data:
        return str(entry.data["outcome"])
    ok = entry.data.get("ok")
    if ok is True:
        return "succeeded"
    return "failed" if ok is False else "not recorded"


def _summary(incident: Incident, now: datetime) -> str:
    span = wording.human_duration(wording.duration(incident, now))
    state = (
        f"resolved at {wording.utc(incident.resolved_at)} after {span}"
        if incident.resolved_at is not None
        else f"still {incident.status} after {span}"
    )
    return (
        f"{incident.severity} incident \u201c{incident.title}\u201d on "
        f"{wording.service(incident)}, affecting {wording.impact(incident.tenants)}. "
        f"Detected at {wording.utc(incident.detected_at)}; {state}."
    )


def _minutes(value: float | None) -> str:
    return "not measured" if value is None else f"{value:g}"


def _cell(value: str) -> str:
    """A Markdown table cell: `|` escaped, line breaks as <br>."""
    text = value.replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(text.splitlines()) if text else ""


def _inline(value: str) -> str:
    return " ".join(value.split())


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _bullets(items: Sequence[str]) -> list[str]:
    return [f"- {_inline(i)}" for i in items]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("tenantwatch.incidents", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

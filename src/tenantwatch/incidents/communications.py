"""Seed 003's incident messages (notification, resolution, status update) per channel,
rendered from Jinja2 templates in a sandbox so that operators may override them (pure).

Channels: `text` (the seed's plain text), `slack` (mrkdwn, with a Slack message payload),
`email` (a subject and a text body) and `html` (a fragment for the status page). Templates
see only plain values (strings and lists of strings), never the incident object. Text
channels render with autoescape off; `html` templates with it on; Slack templates get
their values with `&`, `<` and `>` escaped, so a title cannot mention `<!channel>`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Literal, get_args

import jinja2
import jinja2.meta
from jinja2.sandbox import SandboxedEnvironment

from tenantwatch.incidents import wording
from tenantwatch.incidents.model import Incident

Channel = Literal["text", "slack", "email", "html"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
KINDS = ("notification", "resolution", "update")

_SLACK_TEXT_LIMIT = 3000  # a section block's text

_COMMON = (
    "incident_id",
    "severity",
    "status",
    "service",
    "services",
    "issue",
    "summary",
    "impact",
    "tenants",
    "commander",
    "detected",
    "sent",
    "status_page",
)
# the variables each kind of message offers its templates
VARIABLES: dict[str, tuple[str, ...]] = {
    "notification": (*_COMMON, "eta"),
    "resolution": (*_COMMON, "duration", "root_cause", "actions_taken", "actions"),
    "update": (*_COMMON, "eta", "duration", "update"),
}

_NOTIFICATION_TEXT = """\
🚨 INCIDENT ALERT - {{ severity }}
Service: {{ service }}
Issue: {{ issue }}
Impact: {{ impact }}
ETA: {{ eta }}
Incident Commander: {{ commander }}
{% if status_page %}
Status Page: {{ status_page }}
{% endif %}
"""

_RESOLUTION_TEXT = """\
✅ RESOLVED - {{ severity }} Incident
Service: {{ service }}
Issue: {{ issue }} - RESOLVED
Duration: {{ duration }}
Root Cause: {{ root_cause }}
Actions Taken: {{ actions_taken }}
"""

_UPDATE_TEXT = """\
🔄 UPDATE - {{ severity }} Incident {{ incident_id }}
Issue: {{ issue }}
Status: {{ status }}
Update: {{ update }}
ETA: {{ eta }}
"""

_NOTIFICATION_SLACK = """\
🚨 *INCIDENT ALERT - {{ severity }}*
*Service:* {{ service }}
*Issue:* {{ issue }}
*Impact:* {{ impact }}
*ETA:* {{ eta }}
*Incident Commander:* {{ commander }}
{% if status_page %}
*Status Page:* <{{ status_page }}>
{% endif %}
"""

_RESOLUTION_SLACK = """\
✅ *RESOLVED - {{ severity }} Incident*
*Service:* {{ service }}
*Issue:* {{ issue }} - RESOLVED
*Duration:* {{ duration }}
*Root Cause:* {{ root_cause }}
*Actions Taken:* {{ actions_taken }}
"""

_UPDATE_SLACK = """\
🔄 *UPDATE - {{ severity }} Incident {{ incident_id }}*
*Issue:* {{ issue }}
*Status:* {{ status }}
*Update:* {{ update }}
*ETA:* {{ eta }}
"""

_EMAIL_FOOTER = """
Incident: {{ incident_id }}
Detected: {{ detected }}
Sent: {{ sent }}
"""

_HTML_NOTIFICATION = """\
<article class="incident incident-{{ severity | lower }}">
<h2>{{ severity }}: {{ issue }}</h2>
<dl>
<dt>Service</dt><dd>{{ service }}</dd>
<dt>Impact</dt><dd>{{ impact }}</dd>
<dt>Status</dt><dd>{{ eta }}</dd>
<dt>Detected</dt><dd>{{ detected }}</dd>
</dl>
<p class="posted">Posted {{ sent }}</p>
</article>
"""

_HTML_RESOLUTION = """\
<article class="incident incident-resolved">
<h2>Resolved: {{ issue }}</h2>
<dl>
<dt>Service</dt><dd>{{ service }}</dd>
<dt>Duration</dt><dd>{{ duration }}</dd>
<dt>Root cause</dt><dd>{{ root_cause }}</dd>
{% if actions %}
<dt>Actions taken</dt><dd><ul>{% for a in actions %}<li>{{ a }}</li>{% endfor %}</ul></dd>
{% endif %}
</dl>
<p class="posted">Posted {{ sent }}</p>
</article>
"""

_HTML_UPDATE = """\
<article class="incident incident-{{ severity | lower }}">
<h2>Update: {{ issue }}</h2>
<p>{{ update }}</p>
<dl>
<dt>Status</dt><dd>{{ eta }}</dd>
</dl>
<p class="posted">Posted {{ sent }}</p>
</article>
"""

DEFAULT_TEMPLATES: dict[str, str] = {
    "notification.text": _NOTIFICATION_TEXT,
    "notification.slack": _NOTIFICATION_SLACK,
    "notification.email": _NOTIFICATION_TEXT + _EMAIL_FOOTER,
    "notification.email_subject": "[{{ severity }}] Incident {{ incident_id }}: {{ issue }}",
    "notification.html": _HTML_NOTIFICATION,
    "resolution.text": _RESOLUTION_TEXT,
    "resolution.slack": _RESOLUTION_SLACK,
    "resolution.email": _RESOLUTION_TEXT + _EMAIL_FOOTER,
    "resolution.email_subject": "[{{ severity }}] Resolved: {{ incident_id }}: {{ issue }}",
    "resolution.html": _HTML_RESOLUTION,
    "update.text": _UPDATE_TEXT,
    "update.slack": _UPDATE_SLACK,
    "update.email": _UPDATE_TEXT + _EMAIL_FOOTER,
    "update.email_subject": "[{{ severity }}] Update: {{ incident_id }}: {{ issue }}",
    "update.html": _HTML_UPDATE,
}


@dataclass(frozen=True)
class Message:
    """One rendered message. `body` is plain text (text, email), mrkdwn (slack) or an HTML
    fragment (html); `subject` is set for email; `slack` is the payload to post to Slack."""

    channel: Channel
    body: str
    subject: str | None = None
    slack: dict[str, Any] | None = field(default=None)


class Templates:
    """The built-in templates with the operator's overrides (name -> template text, names as
    in DEFAULT_TEMPLATES), compiled once. Raise ValueError naming the template for an
    unknown name, a syntax error or a variable its message does not offer."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(DEFAULT_TEMPLATES))
        if unknown:
            raise ValueError(
                f"unknown message template {unknown[0]!r}; "
                f"the templates are {', '.join(sorted(DEFAULT_TEMPLATES))}"
            )
        self._compiled = {
            name: _compile(name, overrides.get(name, source))
            for name, source in DEFAULT_TEMPLATES.items()
        }

    def render(self, name: str, context: Mapping[str, object]) -> str:
        """Return the named template rendered; raise ValueError naming it when it fails."""
        try:
            out = self._compiled[name].render(context)
        except jinja2.TemplateError as exc:
            raise ValueError(f"message template {name!r} failed: {exc}") from None
        return out.strip()


@cache
def _default_templates() -> Templates:
    return Templates()


def notification(
    incident: Incident,
    channel: Channel,
    *,
    status_page_url: str | None,
    now: datetime,
    eta: str | None = None,
    templates: Templates | None = None,
) -> Message:
    """Return seed 003's "Incident Notification" for the channel. Without an `eta`, the ETA
    line says where the response stands ("Investigating")."""
    context = _context(incident, now, status_page_url)
    context["eta"] = eta or wording.eta(incident)
    return _message("notification", channel, context, templates)


def resolution(
    incident: Incident,
    channel: Channel,
    *,
    root_cause: str | None,
    actions_taken: list[str],
    now: datetime,
    status_page_url: str | None = None,
    templates: Templates | None = None,
) -> Message:
    """Return seed 003's "Resolution Notification"; the duration runs from detection to
    resolution (to `now` if the incident is still active)."""
    context = _context(incident, now, status_page_url)
    context["duration"] = wording.human_duration(wording.duration(incident, now))
    context["root_cause"] = root_cause or "under investigation"
    context["actions"] = list(actions_taken)
    context["actions_taken"] = ", ".join(actions_taken) if actions_taken else "none recorded"
    return _message("resolution", channel, context, templates)


def status_update(
    incident: Incident,
    channel: Channel,
    text: str,
    now: datetime,
    *,
    eta: str | None = None,
    status_page_url: str | None = None,
    templates: Templates | None = None,
) -> Message:
    """Return an update on an incident under way: its state and the responder's text."""
    context = _context(incident, now, status_page_url)
    context["update"] = text
    context["eta"] = eta or wording.eta(incident)
    context["duration"] = wording.human_duration(wording.duration(incident, now))
    return _message("update", channel, context, templates)


def _context(incident: Incident, now: datetime, status_page_url: str | None) -> dict[str, Any]:
    return {
        "incident_id": incident.id,
        "severity": str(incident.severity),
        "status": str(incident.status),
        "service": wording.service(incident),
        "services": list(incident.services),
        "issue": incident.title,
        "summary": incident.summary,
        "impact": wording.impact(incident.tenants),
        "tenants": [f"{t.tenant_id} ({t.tier or wording.NO_TIER})" for t in incident.tenants],
        "commander": wording.commander(incident),
        "detected": wording.utc(incident.detected_at),
        "sent": wording.utc(now),
        "status_page": status_page_url or "",
    }


def _message(
    kind: str, channel: Channel, context: dict[str, Any], templates: Templates | None
) -> Message:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; the channels are {', '.join(CHANNELS)}")
    t = templates or _default_templates()
    name = f"{kind}.{channel}"
    if channel == "slack":
        body = t.render(name, _escape_values(context, _slack_escape))[:_SLACK_TEXT_LIMIT]
        section = {"type": "section", "text": {"type": "mrkdwn", "text": body}}
        return Message(channel, body, slack={"text": body, "blocks": [section]})
    body = t.render(name, context)
    if channel == "email":
        # one line, so a title cannot add mail headers
        subject = " ".join(t.render(f"{kind}.email_subject", context).split())
        return Message(channel, body, subject=subject)
    return Message(channel, body)


def _compile(name: str, source: str) -> jinja2.Template:
    env = _environment(autoescape=name.endswith(".html"))
    try:
        parsed = env.parse(source)
        template = env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"message template {name!r}, line {exc.lineno}: {exc.message}") from None
    offered = VARIABLES[name.split(".", 1)[0]]
    unknown = sorted(jinja2.meta.find_undeclared_variables(parsed) - set(offered))
    if unknown:
        raise ValueError(
            f"message template {name!r} uses {', '.join(map(repr, unknown))}, which it does "
            f"not offer; it offers {', '.join(offered)}"
        )
    return template


@cache
def _environment(*, autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _slack_escape(value: str) -> str:
    """Slack's three control characters (https://api.slack.com/reference/surfaces/formatting)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_values(context: dict[str, Any], escape: Callable[[str], str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, str):
            out[key] = escape(value)
        elif isinstance(value, list):
            out[key] = [escape(v) for v in value]
        else:
            out[key] = value
    return out

"""Runbooks: which one an alert points to (Prometheus' `runbook_url` convention, or a
`runbook` naming a stored one), the built-in ones, and Markdown rendered to safe HTML."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

_BUILTIN_DIR = "runbooks"


@dataclass(frozen=True)
class Runbook:
    name: str  # how alerts and incidents refer to it: "high-response-time"
    title: str
    body: str  # Markdown


def from_markdown(name: str, body: str) -> Runbook:
    """Return a runbook titled by its first `#` heading (else by its name)."""
    title = next(
        (line[2:].strip() for line in body.splitlines() if line.startswith("# ")),
        name.replace("-", " ").capitalize(),
    )
    return Runbook(name, title, body)


@cache
def builtin_runbooks() -> Mapping[str, Runbook]:
    """Return the runbooks shipped with tenantwatch, by name (the package's data, read once)."""
    folder = resources.files("tenantwatch.incidents").joinpath(_BUILTIN_DIR)
    found = {}
    for item in folder.iterdir():
        if item.name.endswith(".md"):
            name = item.name.removesuffix(".md")
            found[name] = from_markdown(name, item.read_text(encoding="utf-8"))
    return dict(sorted(found.items()))


def resolve_runbook(
    annotations: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    *,
    known: Collection[str] | None = None,
) -> str | None:
    """Return the runbook an alert points to: its `runbook_url` annotation when that is an
    http(s) URL, else its `runbook` annotation when that is such a URL or names a known
    runbook (built-in ones by default; a trailing ".md" is ignored); the same two in its
    labels after that. Return None when it points to none or to something we cannot link
    to (another scheme, a relative path, an unknown name)."""
    names = set(builtin_runbooks()) if known is None else set(known)
    for source in (annotations, labels or {}):
        url = source.get("runbook_url", "").strip()
        if _is_web_url(url):
            return url
        ref = source.get("runbook", "").strip()
        if _is_web_url(ref):
            return ref
        if ref.removesuffix(".md") in names:
            return ref.removesuffix(".md")
    return None


def render_markdown_safe(md: str) -> str:
    """Return Markdown as HTML (CommonMark with tables and strikethrough). Raw HTML in the
    text is escaped, not passed through, and links with unsafe schemes (javascript:,
    data:, file:) are not made links, so a runbook cannot script the page showing it."""
    html: str = _markdown().render(md)
    return html


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)

"""Which request follows a redirect, decided as Go's net/http client (Alertmanager's) decides.

301, 302 and 303 turn any method but GET and HEAD into a GET without a body; 307 and 308
repeat the method and send the first request's body (so a 307 after a 302 sends a GET with
the original body, as Go does). Other statuses, and a redirect without a Location, are
the answer. At most MAX_REDIRECTS are followed. Authorization and cookies are dropped once
the chain leaves the first URL's host (and its subdomains) and stay dropped, as Go 1.24
does. Unlike Go, no Referer is sent: the previous URL may hold a token (Slack's do).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from tenantwatch.alertmanager.notify_request import redact_url

MAX_REDIRECTS = 10
FOLLOWED = frozenset({301, 302, 303, 307, 308})
_SENSITIVE = frozenset({"authorization", "www-authenticate", "cookie", "cookie2"})


class RedirectError(Exception):
    """A redirect that cannot be followed (unreadable Location, not http or https)."""


@dataclass(frozen=True, slots=True)
class Hop:
    """One request of a redirect chain."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None


def next_hop(hop: Hop, status: int, location: str | None, first: Hop) -> Hop | None:
    """The request to send after `hop` (of a chain that began with `first`) was answered
    `status` with `location`.

    None when that response is the answer (not a redirect Go follows, or no Location).
    RedirectError when the Location cannot be followed.
    """
    if status not in FOLLOWED or not location:
        return None
    if status in (307, 308):
        method, body = hop.method, first.body
    else:
        method = hop.method if hop.method in ("GET", "HEAD") else "GET"
        body = None
    url = _resolve(hop.url, location)
    headers = hop.headers
    if not _same_site(urlsplit(url).hostname or "", urlsplit(first.url).hostname or ""):
        headers = tuple((k, v) for k, v in headers if k.lower() not in _SENSITIVE)
    return Hop(method, url, headers, body)


def _resolve(base: str, location: str) -> str:
    try:
        url = urljoin(base, location.strip())
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise RedirectError("redirect with a Location that is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RedirectError(
            f"redirect to {redact_url(url)}: only http:// and https:// URLs are followed"
        )
    return url


def _same_site(dest: str, first: str) -> bool:
    """Go's isDomainOrSubdomain(dest, first): equal, or a subdomain of a host name."""
    dest, first = dest.lower().rstrip("."), first.lower().rstrip(".")
    if dest == first:
        return True
    try:
        ipaddress.ip_address(first)
        return False
    except ValueError:
        return ":" not in dest and dest.endswith("." + first)

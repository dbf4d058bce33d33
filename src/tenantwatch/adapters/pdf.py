"""HTML to PDF with WeasyPrint, offline: the renderer may fetch no file and no URL.

A report's HTML holds tenant-supplied text. Autoescaping keeps it from adding markup, and
the fetcher here refuses every URL as a second wall: whatever reaches the renderer, it
cannot read a local file (file:///etc/passwd) or reach the network (http://169.254.169.254).
The CSS and the chart are inline and fonts come from the system, so nothing is lost.
"""

from __future__ import annotations

from typing import Any, NoReturn

from tenantwatch.adapters.extras import MissingExtra, require


class PdfUnavailable(MissingExtra):
    """WeasyPrint (the `pdf` extra) is not installed."""


def render_pdf(html: str) -> bytes:
    """Return the PDF of a standalone HTML document. Raise PdfUnavailable, naming the extra
    to install, when WeasyPrint is missing."""
    try:
        weasyprint = require("weasyprint", extra="pdf", feature="A PDF report")
    except MissingExtra as exc:
        raise PdfUnavailable(str(exc), name=exc.name) from None
    document = weasyprint.HTML(string=html, url_fetcher=_refusing_fetcher(weasyprint))
    pdf: bytes = document.write_pdf()
    return pdf


def _refusing_fetcher(weasyprint: Any) -> Any:
    """A WeasyPrint URLFetcher that refuses every URL; WeasyPrint logs the refusal and
    renders on without the resource."""

    class RefusingFetcher(weasyprint.urls.URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: object = None) -> NoReturn:
            raise ValueError(f"reports load nothing from outside the document: {url}")

    return RefusingFetcher()

"""PDF reports: a customer's SLA report renders, reads back, and fetches nothing."""

from __future__ import annotations

import io
import logging
import struct
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import weasyprint
from pypdf import PdfReader

from tenantwatch.adapters.pdf import PdfUnavailable, render_pdf
from tenantwatch.sla.report_html import platform_html, tenant_html
from tests.sla.report_factory import platform_report, tenant_report


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def _image_count(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def _png() -> bytes:
    """A 2x2 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}</body></html>"


@pytest.fixture
def http_hits() -> Iterator[tuple[str, list[str]]]:
    """A local web server that records every path asked of it."""
    hits: list[str] = []
    png = _png()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_a_tenant_report_renders_to_a_pdf_whose_text_reads_back() -> None:
    pdf = render_pdf(tenant_html(tenant_report()))
    assert pdf.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    text = _text(pdf)
    assert "SLA report: Acme Corp" in text
    assert "Service level not met: 2 objectives missed." in text
    assert "Availability 99.52% is below the target 99.9%." in text
    for row in (
        "Availability at least 99.9 % 99.52 % not met",
        "Average response time at most 500 ms 212.4 ms met",
        "p95 response time 480.2 ms",
        "Requests within 300 ms 97.25 % within 300 ms",
        "Error rate at most 1 % 0.41 % met",
        "Recovery time (mean) at most 15 min 21.5 min not met",
    ):
        assert row in text
    assert "2026-11-04 10:12 CET 2026-11-04 12:45 CET 153 api-https, checkout" in text
    assert "Credit owed: 10 % of the period's fee." in text


def test_a_platform_report_renders_to_a_pdf() -> None:
    text = _text(render_pdf(platform_html(platform_report(tenant_report()))))
    assert "Overall compliance: 0 % of tenants met every objective." in text
    assert "Acme Corp" in text


def test_local_files_are_not_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    image = tmp_path / "secret.png"
    image.write_bytes(_png())
    html = _page(
        f'<p>before</p><img src="{image.as_uri()}"><img src="file:///etc/passwd">'
        f'<link rel="stylesheet" href="file:///etc/passwd"><p>after</p>'
    )
    # The same page with WeasyPrint's own fetcher embeds the file: the check below can fail.
    assert _image_count(weasyprint.HTML(string=html).write_pdf()) == 1

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_pdf(html)
    assert _image_count(pdf) == 0
    assert "before" in _text(pdf)
    assert "after" in _text(pdf)
    assert image.as_uri() in caplog.text
    assert "reports load nothing from outside the document" in caplog.text


def test_the_network_is_not_reached(http_hits: tuple[str, list[str]]) -> None:
    base, hits = http_hits
    html = _page(
        f'<link rel="stylesheet" href="{base}/style.css">'
        f"<style>@import url('{base}/import.css'); body {{ background: url('{base}/bg.png') }}</style>"
        f'<img src="{base}/pixel.png"><p>still renders</p>'
    )
    weasyprint.HTML(string=html).write_pdf()
    assert hits  # WeasyPrint's own fetcher reaches the server: the check below can fail
    hits.clear()

    pdf = render_pdf(html)
    assert hits == []
    assert "still renders" in _text(pdf)


def test_without_weasyprint_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(PdfUnavailable, match=r"pip install 'tenantwatch\[pdf\]'"):
        render_pdf(_page("<p>x</p>"))

"""The URLs a page refers to (href and src attributes), read with the standard HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "spec-url") and value:
                self.refs.append((tag, value))


def references(html: str) -> list[tuple[str, str]]:
    """(tag, url) for every href, src and ReDoc spec-url in the page, in order."""
    parser = _Refs()
    parser.feed(html)
    return parser.refs

"""Read a rendered report back: the text and table rows of each <section id=...>."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Section:
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, Section] = {}
        self._current: Section | None = None
        self._depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self._current = self.sections.setdefault(dict(attrs).get("id") or "", Section())
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br":
            self.handle_data(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._current = None
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._current is not None:
                self._current.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.text += data
        if self._cell is not None:
            self._cell.append(data)


def sections(html: str) -> dict[str, Section]:
    """Each section by id, its text with whitespace collapsed and its table rows as cell texts."""
    reader = _Reader()
    reader.feed(html)
    for s in reader.sections.values():
        s.text = " ".join(s.text.split())
    return reader.sections

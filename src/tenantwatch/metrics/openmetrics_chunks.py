"""An OpenMetrics file read in pieces of whole metric families, so a file of weeks of
history is parsed in bounded memory (tenantwatch backfill).

A piece ends only where a new family's metadata (`# HELP`, `# TYPE`, `# UNIT`) follows a
sample line, so every piece is an exposition of its own; pieces but the last get the
`# EOF` the parser requires. Each piece knows its first line's number in the file, so a
parser error still names the file's line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_METADATA = (b"# HELP ", b"# TYPE ", b"# UNIT ")


@dataclass(frozen=True, slots=True)
class Piece:
    first_line: int  # 1-based, in the file
    data: bytes  # whole lines
    last: bool

    def text_for_parser(self, text: str) -> str:
        """The piece's decoded text as the parser must see it (with `# EOF` unless last)."""
        return text if self.last else text + "# EOF\n"

    def file_line(self, line: int) -> int:
        """The file's line number of the piece's line `line` (1-based)."""
        return self.first_line + line - 1


def pieces(lines: Iterable[bytes], max_lines: int = 200_000) -> Iterator[Piece]:
    """Split the file's lines (each with its newline, as a binary file yields them)."""
    held: list[bytes] = []
    first = 1
    after_sample = False
    for line in lines:
        if len(held) >= max_lines and after_sample and line.startswith(_METADATA):
            yield Piece(first, b"".join(held), False)
            first += len(held)
            held = []
        held.append(line)
        after_sample = not line.startswith(b"#")
    yield Piece(first, b"".join(held), True)

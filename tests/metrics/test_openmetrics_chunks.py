"""An OpenMetrics file in pieces of whole families, each parseable, lines kept."""

from __future__ import annotations

import io

from tenantwatch.metrics.exposition import parse_text
from tenantwatch.metrics.openmetrics_chunks import pieces

FILE = b"""# HELP a A.
# TYPE a gauge
a{x="1"} 1 10
a{x="2"} 2 10
# TYPE b counter
b_total 5 10
b_total 6 20
# HELP c C.
# TYPE c gauge
c 1 10
# EOF
"""


def test_pieces_end_only_before_a_familys_metadata() -> None:
    got = list(pieces(io.BytesIO(FILE), max_lines=2))
    assert [p.first_line for p in got] == [1, 5, 8]
    assert [p.last for p in got] == [False, False, True]
    assert b"".join(p.data for p in got) == FILE
    samples = []
    for piece in got:
        samples += parse_text(piece.text_for_parser(piece.data.decode()), openmetrics=True)
    assert len(samples) == 5
    assert got[1].file_line(2) == 6


def test_a_small_file_is_one_piece() -> None:
    (only,) = pieces(io.BytesIO(FILE))
    assert only.last and only.first_line == 1 and only.data == FILE

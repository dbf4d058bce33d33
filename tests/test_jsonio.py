"""JSON through one module: json.dumps' exact bytes where others read them, values kept."""

from __future__ import annotations

import json
import math

from tenantwatch import jsonio

VALUES = [
    {"alertname": "Hög latens", "tenant": "acme", "n": 3, "ok": True, "none": None},
    [1.5, 1e16, 1e-7, -0.0, 2**70, "<&>", "\u2028"],
    "plain",
]


def test_dumps_writes_the_bytes_json_dumps_writes() -> None:
    for value in VALUES:
        assert jsonio.dumps(value) == json.dumps(value)
        assert jsonio.dumps(value, compact=True) == json.dumps(value, separators=(",", ":"))
        assert jsonio.dumps(value, ascii_only=False) == json.dumps(value, ensure_ascii=False)
        assert jsonio.dumps(value, indent=2, ascii_only=False) == json.dumps(
            value, indent=2, ensure_ascii=False
        )


def test_stored_json_reads_back_as_the_same_value() -> None:
    row = {"labels": {"alertname": "Hög", "tenant": "acme"}, "transitions": [[1700000000.25, 1]]}
    assert json.loads(jsonio.dumps_stored(row)) == row
    assert jsonio.dumps_stored(row) == json.dumps(row, separators=(",", ":"), ensure_ascii=False)


def test_loads_takes_what_json_takes() -> None:
    assert math.isnan(jsonio.loads("NaN"))
    assert jsonio.loads(b'{"big": 123456789012345678901234567890}') == {
        "big": 123456789012345678901234567890
    }

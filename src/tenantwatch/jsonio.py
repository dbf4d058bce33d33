"""JSON in and out, for the whole house: the one module that imports a JSON library.

Text that anyone else reads, compares or hashes (API cursors, hashes of keys, payloads,
files, CLI output) is written by the standard library's json, whose formats are fixed here
byte for byte: `dumps` writes what json.dumps writes with the same options. orjson cannot
write those bytes (it has no ", " / ": " separators and no ASCII escaping, and writes some
floats differently), so it serves only `dumps_stored`: JSON that tenantwatch alone reads
back as values (the alert tables' JSON columns), where it is an order of magnitude faster
on alert batches. Reading is json's, which takes NaN and integers of any size as written.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: str | bytes | bytearray) -> Any:
    """The value in a JSON document. Raise ValueError when it is not JSON."""
    return json.loads(data)


def dumps(
    value: Any, *, compact: bool = False, ascii_only: bool = True, indent: int | None = None
) -> str:
    """value as JSON text: by default as json.dumps writes it (", " and ": " between items,
    non-ASCII escaped); compact leaves out the spaces, ascii_only=False keeps characters as
    they are, indent puts each item on its own line."""
    separators = (",", ":") if compact else None
    return json.dumps(value, separators=separators, ensure_ascii=ascii_only, indent=indent)


def dumps_stored(value: Any) -> str:
    """value as compact UTF-8 JSON, for a column only tenantwatch reads back as a value."""
    return orjson.dumps(value).decode()

"""Keyset pagination: opaque cursors and page shapes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from tenantwatch import jsonio
from tenantwatch.domain.text import storable

T = TypeVar("T")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 50


def encode_cursor(key: str | int) -> str:
    """Return an opaque cursor that resumes after the given sort key."""
    return base64.urlsafe_b64encode(jsonio.dumps([key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str | int:
    """Return the sort key inside a cursor. Raise ValueError when it was not made by encode_cursor."""
    if len(cursor) > 512:
        raise ValueError("invalid cursor; pass the next_cursor of a previous page")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = jsonio.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError("invalid cursor; pass the next_cursor of a previous page") from exc
    # only keys a page could have ended on: 64-bit integers, text a database can compare
    if (
        not isinstance(value, list)
        or len(value) != 1
        or not isinstance(value[0], str | int)
        or isinstance(value[0], bool)
        or (isinstance(value[0], int) and not -(2**63) <= value[0] < 2**63)
        or (isinstance(value[0], str) and not storable(value[0]))
    ):
        raise ValueError("invalid cursor; pass the next_cursor of a previous page")
    return value[0]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def page_from(rows: Sequence[T], limit: int, key_of: Callable[[T], str | int]) -> Page[T]:
    """Return a page from up to limit+1 rows fetched in order; the extra row means 'more'."""
    if len(rows) <= limit:
        return Page(items=rows, next_cursor=None)
    items = rows[:limit]
    return Page(items=items, next_cursor=encode_cursor(key_of(items[-1])))

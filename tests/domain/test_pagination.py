"""Keyset pagination: opaque cursors and pages."""

from __future__ import annotations

import base64
import json
import re

import pytest

from tenantwatch.domain.pagination import Page, decode_cursor, encode_cursor, page_from

INVALID = "invalid cursor; pass the next_cursor of a previous page"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "key", ["acme-corp", "", "a/b+c=d", "ünïcödé", "[1]", 0, 42, -7, 2**63 - 1, "42"]
)
def test_a_cursor_decodes_to_the_key_it_was_made_from(key: str | int) -> None:
    decoded = decode_cursor(encode_cursor(key))
    assert decoded == key
    assert type(decoded) is type(key)


@pytest.mark.parametrize("key", ["acme-corp", "ünïcödé?&=", 123456789])
def test_a_cursor_is_url_safe_and_unpadded(key: str | int) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]+", encode_cursor(key))


def test_a_cursor_does_not_show_its_key_in_plain_text() -> None:
    assert "acme-corp" not in encode_cursor("acme-corp")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "not-a-cursor",
        "é",
        _b64(b"\xff\xfe\xfd"),
        _b64(b"{}"),
        _b64(b"[]"),
        _b64(b"[1, 2]"),
        _b64(b"[true]"),
        _b64(b"[1.5]"),
        _b64(b"[null]"),
        _b64(b"[[1]]"),
        _b64(b'"acme"'),
        _b64(b"42"),
    ],
)
def test_a_garbage_cursor_raises_value_error_saying_what_to_pass(cursor: str) -> None:
    with pytest.raises(ValueError) as info:
        decode_cursor(cursor)
    assert str(info.value) == INVALID


def test_a_deeply_nested_cursor_raises_value_error() -> None:
    with pytest.raises(ValueError, match="invalid cursor"):
        decode_cursor(_b64(b"[" * 2000))


def test_a_page_with_no_more_rows_has_no_next_cursor() -> None:
    rows = ["a", "b", "c"]
    assert page_from(rows, 3, lambda r: r) == Page(items=rows, next_cursor=None)


def test_an_empty_page_has_no_next_cursor() -> None:
    assert page_from([], 50, lambda r: r) == Page(items=[], next_cursor=None)


def test_a_page_with_an_extra_row_drops_it_and_resumes_after_the_last_item() -> None:
    page = page_from(["a", "b", "c", "d"], 3, lambda r: r)
    assert list(page.items) == ["a", "b", "c"]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor) == "c"


def test_a_page_cursor_uses_the_sort_key_of_the_last_item() -> None:
    rows = [{"id": 30}, {"id": 20}, {"id": 10}]
    page = page_from(rows, 2, lambda r: r["id"])
    assert list(page.items) == [{"id": 30}, {"id": 20}]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor) == 20


@pytest.mark.parametrize("key", [2**63, -(2**63) - 1, "a\x00b"])
def test_a_cursor_no_database_could_compare_is_refused(key: object) -> None:
    forged = base64.urlsafe_b64encode(json.dumps([key]).encode()).decode().rstrip("=")
    with pytest.raises(ValueError, match="invalid cursor"):
        decode_cursor(forged)


def test_a_cursor_holding_an_unpaired_surrogate_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid cursor"):
        decode_cursor("WyJcdWQ4MDAiXQ")  # ["\ud800"]

from __future__ import annotations

import pytest

from tenantwatch.domain.text import storable, text_problem


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "must not be empty"),
        ("x" * 201, "201 characters long; at most 200"),
        ("a\x00b", "NUL"),
        ("a\udcffb", "not valid Unicode"),
    ],
)
def test_text_that_cannot_be_stored_is_explained(value: str, fragment: str) -> None:
    problem = text_problem(value, what="name", max_length=200)
    assert problem is not None and fragment in problem and problem.startswith("name")


@pytest.mark.parametrize("value", ["Acme", "x" * 200, "Ünïcödé 名前 🚀", "tab\tok"])
def test_ordinary_text_is_fine(value: str) -> None:
    assert text_problem(value, what="name", max_length=200) is None
    assert storable(value)


def test_storable_allows_empty_but_not_nul_or_surrogates() -> None:
    assert storable("")
    assert not storable("\x00")
    assert not storable("\ud800")

"""Go's fmt.Sprintf as templates' printf: verbs, flags, widths and Go's complaints."""

from __future__ import annotations

from typing import Any

import pytest

from tenantwatch.gotext.printf import printf


# rows as Go's fmt documentation and fmt_test.go give them
@pytest.mark.parametrize(
    ("fmt", "arg", "text"),
    [
        ("%d", 12345, "12345"),
        ("%+d", 12345, "+12345"),
        ("%05d", -12, "-0012"),
        ("%-5d|", 12, "12   |"),
        ("%x", 255, "ff"),
        ("%X", "hi", "6869"),
        ("%.2f", 1.0, "1.00"),
        ("%8.3f", 3.14159, "   3.142"),
        ("%f", 1.5, "1.500000"),
        ("%e", 1.0, "1.000000e+00"),
        ("%+.1e", 1234.5, "+1.2e+03"),
        ("%g", 1e6, "1e+06"),
        ("%g", 100000.0, "100000"),
        ("%.3g", 1234.5678, "1.23e+03"),
        ("%v", 1.5, "1.5"),
        ("%v", True, "true"),
        ("%t", True, "true"),
        ("%s", "abc", "abc"),
        ("%.2s", "abc", "ab"),
        ("%5s", "ab", "   ab"),
        ("%-5s|", "ab", "ab   |"),
        ("%q", 'a"b', '"a\\"b"'),
        ("%f", float("inf"), "+Inf"),
        ("%g", float("nan"), "NaN"),
    ],
)
def test_verbs_print_as_gos_fmt(fmt: str, arg: Any, text: str) -> None:
    assert printf(fmt, arg) == text


def test_percent_percent_is_a_percent_sign() -> None:
    assert printf("100%%") == "100%"


def test_printf_mismatches_as_go() -> None:
    assert printf("%d", 1.5) == "%!d(float64=1.5)"
    assert printf("%s %s", "a") == "a %!s(MISSING)"
    assert printf("%s", "a", 1) == "a%!(EXTRA int=1)"

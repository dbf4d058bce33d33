"""Bounds on a query's text, checked before promql-parser sees it.

promql-parser builds its tree recursively: 1,000 chained `+` take 0.6 s and 170 MB, 5,000
overflow its stack and kill the process, and an `@` timestamp outside what a timestamp can
hold panics when read. So a query is refused, with Prometheus' `bad_data` and the position,
when it is longer, nests deeper or chains more operators than any real query needs, or when
an `@` modifier names a time outside years 1970 to 9999.
"""

from __future__ import annotations

import re

from tenantwatch.promql.model import PromQLError

MAX_QUERY_LENGTH = 65_536  # characters
MAX_NESTING = 128  # open ( [ { at once
MAX_OPERATORS = 256  # binary and unary operators outside braces
AT_MIN_S = 0.0
AT_MAX_S = 253_402_300_799.0  # 9999-12-31T23:59:59Z

_WORD_OPERATORS = frozenset({"and", "or", "unless", "atan2"})
_SYMBOLS = "+-*/%^=!<>"
_COMPARISON = "=!<>"
_AT_VALUE = re.compile(
    r"\s*([-+]?(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
    r"|[iI][nN][fF]|[nN][aA][nN]))"
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_:]*")


def _position(query: str, offset: int) -> str:
    line = query.count("\n", 0, offset) + 1
    col = offset - (query.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


def _fail(query: str, offset: int, message: str) -> PromQLError:
    return PromQLError("bad_data", f"{_position(query, offset)}: parse error: {message}")


def _skip_string(query: str, i: int) -> int:
    """The index after the string literal opening at i (quotes: ' \" or `)."""
    quote = query[i]
    j = i + 1
    while j < len(query):
        c = query[j]
        if c == "\\" and quote != "`":
            j += 2
            continue
        if c == quote:
            return j + 1
        j += 1
    return j


def check_query_text(query: str) -> None:
    """Raise PromQLError(bad_data) when the query's text is beyond the bounds above."""
    if len(query) > MAX_QUERY_LENGTH:
        raise _fail(
            query,
            MAX_QUERY_LENGTH,
            f"query is {len(query)} characters long; at most {MAX_QUERY_LENGTH} are accepted",
        )
    depth = operators = braces = 0
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c in "'\"`":
            i = _skip_string(query, i)
            continue
        if c == "#":  # a comment runs to the end of the line
            end = query.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "([{":
            depth += 1
            braces += c == "{"
            if depth > MAX_NESTING:
                raise _fail(query, i, f"expression nests deeper than {MAX_NESTING} levels")
        elif c in ")]}":
            depth = max(0, depth - 1)
            braces = max(0, braces - (c == "}"))
        elif braces == 0 and c in _SYMBOLS:
            run = i + 1
            if c in _COMPARISON:  # == != <= >= are one operator; each + - * / % ^ is one
                while run < n and query[run] in _COMPARISON:
                    run += 1
            operators += 1
            if operators > MAX_OPERATORS:
                raise _fail(query, i, f"more than {MAX_OPERATORS} operators in one expression")
            i = run
            continue
        elif c == "@" and braces == 0:
            _check_at(query, i)
        elif braces == 0 and c.isascii() and (c.isalpha() or c == "_"):
            word = _WORD.match(query, i)
            assert word is not None
            if word.group(0).lower() in _WORD_OPERATORS:
                operators += 1
                if operators > MAX_OPERATORS:
                    raise _fail(query, i, f"more than {MAX_OPERATORS} operators in one expression")
            i = word.end()
            continue
        i += 1


def _check_at(query: str, at: int) -> None:
    found = _AT_VALUE.match(query, at + 1)
    if found is None:
        return  # start(), end(), or a syntax error the parser words
    try:
        value = (
            float(int(found.group(1), 16))
            if "x" in found.group(1).lower()
            else float(found.group(1))
        )
    except ValueError:
        return
    if not AT_MIN_S <= value <= AT_MAX_S:
        raise _fail(
            query,
            found.start(1),
            f"timestamp out of bounds for @ modifier: {found.group(1)} "
            "(use seconds between 0 and 253402300799, years 1970 to 9999)",
        )

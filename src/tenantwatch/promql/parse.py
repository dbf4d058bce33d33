"""Parsing PromQL with promql-parser, with errors that name a position."""

from __future__ import annotations

import re
from typing import Any

import promql_parser as pp

from tenantwatch.promql.limits import check_query_text
from tenantwatch.promql.model import PromQLError

_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"|: (\S+)$")


def parse_query(query: str) -> Any:
    """Parse a query; a syntax error becomes PromQLError(bad_data) naming line:column."""
    if not query.strip():
        raise PromQLError("bad_data", "1:1: parse error: no expression found in input")
    check_query_text(query)
    try:
        return pp.parse(query)
    except ValueError as exc:
        message = str(exc)
    except BaseException as exc:  # pyo3 panics derive from BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        message = f"unparsable query ({exc})"
    offset = error_offset(query, message)
    raise PromQLError("bad_data", f"{line_col(query, offset)}: parse error: {message}")


def line_col(query: str, offset: int) -> str:
    line = query.count("\n", 0, offset) + 1
    col = offset - (query.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


def error_offset(query: str, message: str) -> int:
    """Where the error is: promql-parser's messages carry no position, so infer one."""
    if "unclosed left parenthesis" in message:
        stack = []
        for i, c in enumerate(query):
            if c == "(":
                stack.append(i)
            elif c == ")" and stack:
                stack.pop()
        if stack:
            return stack[-1]
    if "unclosed left bracket" in message or "unclosed left brace" in message:
        opener = "[" if "bracket" in message else "{"
        at = query.rfind(opener)
        if at >= 0:
            return at
    m = _QUOTED.search(message)
    if m:
        token = next(g for g in m.groups() if g)
        at = query.find(token)
        if at >= 0:
            return at
    return _longest_valid_prefix(query)


def _longest_valid_prefix(query: str) -> int:
    for i in range(len(query), 0, -1):
        try:
            pp.parse(query[:i])
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                raise
            continue
        return i
    return 0

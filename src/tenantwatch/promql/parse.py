"""Parsing PromQL with promql-parser, with errors that name a position."""

from __future__ import annotations

from typing import Any

import promql_parser as pp

from tenantwatch.promql.model import PromQLError


def parse_query(query: str) -> Any:
    """Parse a query; a syntax error becomes PromQLError(bad_data) naming where it is."""
    if not query.strip():
        raise PromQLError("bad_data", "1:1: parse error: no expression found in input")
    try:
        return pp.parse(query)
    except ValueError as exc:
        raise PromQLError("bad_data", f"{_position(query)}: parse error: {exc}") from exc
    except BaseException as exc:  # the Rust parser panics on some inputs
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise PromQLError("bad_data", f"1:1: parse error: {exc}") from exc


def _position(query: str) -> str:
    """line:column of the first character after the longest prefix that still parses.

    promql-parser's messages carry no position, so find where the input stops being a
    valid beginning of an expression: the longest prefix whose error is "unexpected end
    of input"-like rather than a real error is a good approximation.
    """
    best = 0
    for i in range(len(query), 0, -1):
        try:
            pp.parse(query[:i])
        except (ValueError, BaseException):  # noqa: S112
            continue
        best = i
        break
    line = query.count("\n", 0, best) + 1
    col = best - (query.rfind("\n", 0, best) + 1) + 1
    return f"{line}:{col}"

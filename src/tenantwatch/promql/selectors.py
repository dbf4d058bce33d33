"""Series selectors (`match[]` in the HTTP API) and promql-parser matchers as Matchers."""

from __future__ import annotations

from typing import Any

import promql_parser as pp

from tenantwatch.promql.model import METRIC_NAME, Matcher, MatchOp, PromQLError

_OPS: dict[str, MatchOp] = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def match_op(op: Any) -> MatchOp:
    """The operator of a promql-parser matcher as text: `=`, `!=`, `=~` or `!~`."""
    return _OPS[str(op).rsplit(".", 1)[-1]]


def selector_matchers(node: Any) -> list[Matcher]:
    """The matchers of a VectorSelector node, its metric name included."""
    out: list[Matcher] = []
    if node.name:
        out.append(Matcher.of(METRIC_NAME, "=", node.name))
    for m in node.matchers.matchers:
        out.append(Matcher.of(m.name, match_op(m.op), m.value))
    return out


def parse_matchers(text: str) -> list[Matcher]:
    """Parse a series selector such as `up{job="api"}` into matchers.

    Raises PromQLError(bad_data) when the text is not a plain selector or matches
    everything (Prometheus refuses selectors whose every matcher matches the empty string).
    """
    try:
        node = pp.parse(text)
    except ValueError as exc:
        raise PromQLError("bad_data", f"invalid series selector {text!r}: {exc}") from exc
    if not isinstance(node, pp.VectorSelector):
        raise PromQLError(
            "bad_data", f'invalid series selector {text!r}: expected a selector like up{{job="x"}}'
        )
    if node.matchers.or_matchers:
        raise PromQLError("bad_data", f"invalid series selector {text!r}: 'or' is not supported")
    matchers = selector_matchers(node)
    if all(m.matches_empty() for m in matchers):
        raise PromQLError(
            "bad_data",
            f"invalid series selector {text!r}: match[] must contain at least one "
            "non-empty matcher",
        )
    return matchers

"""Alert label and annotation templates, expanded as Prometheus does.

Each template sees `$labels` (the alert's sample labels), `$value`, `$externalLabels` and
`$externalURL`, and `.Labels`, `.Value`, `.ExternalLabels`, `.ExternalURL`. An expansion
that fails gives `<error expanding template: ...>` in place of the text, as Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tenantwatch.gotext.template import TemplateError, check_functions, execute, parse
from tenantwatch.rules.template_funcs import FUNCTIONS

# functions that need the query engine; the evaluator passes them in `extra`
QUERY_FUNCTIONS = frozenset({"query", "first", "label", "value", "strvalue", "sortByLabel"})
KNOWN = (
    frozenset(FUNCTIONS)
    | QUERY_FUNCTIONS
    | frozenset({"graphLink", "tableLink", "pathPrefix", "externalURL", "now", "toDuration"})
)


@dataclass(frozen=True, slots=True)
class TemplateData:
    labels: Mapping[str, str]
    value: float
    external_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""


@lru_cache(maxsize=4096)
def _parsed(text: str) -> Any:
    return parse(text)


def template_problem(text: str) -> str | None:
    """Why a label or annotation template cannot be used, or None (checked at load)."""
    if "{{" not in text:
        return None
    try:
        nodes = _parsed(text)
    except TemplateError as exc:
        return str(exc)
    unknown = check_functions(nodes, KNOWN)
    if unknown:
        return f'function "{unknown[0]}" not defined'
    return None


def expand(
    text: str, data: TemplateData, extra: Mapping[str, Callable[..., Any]] | None = None
) -> str:
    """Expand one template; failures become Prometheus' `<error expanding template: ...>`."""
    if "{{" not in text:
        return text
    dot = {
        "Labels": dict(data.labels),
        "Value": data.value,
        "ExternalLabels": dict(data.external_labels),
        "ExternalURL": data.external_url,
    }
    variables = {
        "$labels": dot["Labels"],
        "$value": data.value,
        "$externalLabels": dot["ExternalLabels"],
        "$externalURL": data.external_url,
    }
    funcs = {**FUNCTIONS, "externalURL": lambda: data.external_url, **(extra or {})}
    try:
        return execute(_parsed(text), dot, funcs, variables)
    except TemplateError as exc:
        return f"<error expanding template: {exc}>"
    except RecursionError:
        return "<error expanding template: too deeply nested>"

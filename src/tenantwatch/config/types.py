"""Field types shared by the config sections."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from tenantwatch.config.errors import refusing
from tenantwatch.domain.durations import parse_duration
from tenantwatch.domain.ssrf import SsrfPolicy
from tenantwatch.domain.tenants import label_name_problem
from tenantwatch.domain.text import text_problem
from tenantwatch.types import is_label_name


def _check_duration(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("expected a duration such as '30s', '5m' or '1h30m'")


Duration = Annotated[float, BeforeValidator(_check_duration)]


def _check_allow_list(value: list[str]) -> list[str]:
    SsrfPolicy.from_allow_list(value, setting="allow_private_targets")
    return value


def _labels_problem(value: dict[str, str]) -> str | None:
    for name, text in value.items():
        problem = label_name_problem(name) or text_problem(
            text, what=f"label {name!r}", max_length=500, min_length=0
        )
        if problem:
            return problem
    return None


LabelsField = Annotated[dict[str, str], refusing(_labels_problem)]
"""Label names and values as a tenant or a scrape target declares them."""


def _target_labels_problem(value: dict[str, str]) -> str | None:
    for name, text in value.items():
        if not is_label_name(name):
            return (
                f"invalid label name {name!r}: use letters, digits and '_', not starting "
                "with a digit"
            )
        problem = text_problem(text, what=f"label {name!r}", max_length=500, min_length=0)
        if problem:
            return problem
    return None


TargetLabelsField = Annotated[dict[str, str], refusing(_target_labels_problem)]
"""A static_configs group's labels: as in Prometheus, names starting with '__' are allowed
(`__metrics_path__`, `__param_x`, `__meta_x` for relabelling); they never reach a series."""

AllowList = Annotated[list[str], AfterValidator(_check_allow_list)]
"""CIDRs, addresses and host names ('.example.com' for every name under it) that an SSRF
guard lets through although they are internal; parsed by SsrfPolicy.from_allow_list."""

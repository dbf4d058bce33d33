"""Field types shared by the config sections."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

from tenantwatch.domain.durations import parse_duration


def _check_duration(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("expected a duration such as '30s', '5m' or '1h30m'")


Duration = Annotated[float, BeforeValidator(_check_duration)]

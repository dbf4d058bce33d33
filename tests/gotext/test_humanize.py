"""prometheus/common's HumanizeDuration and ConvertToFloat, shared by both template kinds."""

from __future__ import annotations

import math

import pytest

from tenantwatch.gotext.humanize import humanize_duration, to_float


# Prometheus' template_test.go rows for humanizeDuration
@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (1, "1s"),
        (60, "1m 0s"),
        (3600, "1h 0m 0s"),
        (86400, "1d 0h 0m 0s"),
        (86400 + 3600, "1d 1h 0m 0s"),
        (-(86400 * 2 + 3600 * 3 + 60 * 4 + 5), "-2d 3h 4m 5s"),
        (899.99, "14m 59s"),
        (0.1, "100ms"),
        (0.0001, "100us"),
        (0.12345, "123.5ms"),
        (60.1, "1m 0s"),
        (60.5, "1m 0s"),
        (1.2345, "1.234s"),
        (12.345, "12.35s"),
        (math.inf, "+Inf"),
    ],
)
def test_durations_read_as_prometheus_writes_them(seconds: float, text: str) -> None:
    assert humanize_duration(seconds) == text


def test_strings_convert_with_gos_float_syntax() -> None:
    assert to_float("1.5") == 1.5
    assert to_float("-Inf") == -math.inf
    with pytest.raises(ValueError, match="invalid syntax"):
        to_float("fast")

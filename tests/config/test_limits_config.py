"""The `metrics.limits:`, `http:` and tier `max_series` settings, and the README's account
of their defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.config.metrics_model import IngestLimitsConfig
from tenantwatch.config.model import HttpConfig
from tenantwatch.configuration import parse_config
from tenantwatch.domain.tiers import BUILTIN_TIERS

README = Path(__file__).resolve().parents[2] / "README.md"


def documented_defaults() -> str:
    text = README.read_text()
    return text.split("The defaults:\n\n```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_states_the_defaults_as_they_are() -> None:
    config = parse_config(documented_defaults(), "README.md", {})
    assert config.metrics.limits == IngestLimitsConfig()
    assert config.http == HttpConfig()
    assert config.tiers["basic"].max_series == BUILTIN_TIERS["basic"].max_series


def test_sizes_take_units_and_durations_take_units() -> None:
    config = parse_config(
        "metrics:\n  limits: {max_body_size: 2MiB, max_unpacked_size: 3000000, max_future: 1m}\n"
        "http: {max_body_size: 512KiB}\n",
        "tw.yml",
        {},
    )
    assert config.metrics.limits.max_body_size == 2 << 20
    assert config.metrics.limits.max_unpacked_size == 3_000_000
    assert config.metrics.limits.max_future == 60.0
    assert config.http.max_body_size == 512 << 10


@pytest.mark.parametrize(
    "text",
    [
        "metrics:\n  limits: {max_body_size: 10}\n",
        "metrics:\n  limits: {max_series: 0}\n",
        "metrics:\n  limits: {max_lines: 10 lines}\n",
        "tiers:\n  tiny: {max_series: 0}\n",
        "tenants:\n  - {id: a, name: A, tier: basic, limits: {max_series: -1}}\n",
        "http: {max_body_size: lots}\n",
    ],
)
def test_nonsense_limits_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_config(text, "tw.yml", {})

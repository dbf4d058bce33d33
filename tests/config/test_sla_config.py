"""The `sla:` section: docs/sla.md's example is valid, and mistakes are file:line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.configuration import parse_config
from tenantwatch.runtime.sla import sla_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "sla.md"


def documented_example() -> str:
    return DOC.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_documented_example_is_a_valid_config() -> None:
    config = parse_config(documented_example(), "docs/sla.md", {})
    settings = sla_settings(config)
    assert settings.rules.min_downtime_s == 60 and settings.rules.max_gap_s == 300
    assert settings.canaries == ("canary-example-com",)
    assert [m.name for m in settings.maintenance] == ["db upgrade", "sunday window"]
    assert settings.maintenance[1].duration_s == 7200
    assert settings.slis.histogram == "ai_shifu_request_duration_seconds"
    assert [str(b) for b, _ in settings.credit_schedule("basic")] == ["99"]
    assert [str(b) for b, _ in settings.credit_schedule("enterprise")] == ["99.9", "99", "95"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("sla:\n  maintenance_windows:\n    - {name: x, cron: '61 * * * *', duration: 1h}\n",
         "not a cron schedule"),
        ("sla:\n  maintenance_windows:\n    - {name: x, start: 2026-11-10T02:00:00, end: 2026-11-10T04:00:00}\n",
         "timezone"),
        ("sla:\n  maintenance_windows:\n    - {name: x, start: 2026-11-10T02:00:00Z}\n",
         "start and end"),
        ("sla:\n  slis:\n    error_rate: {errors: 'sum(', total: 'sum(x)'}\n",
         "not a PromQL expression"),
        ("sla:\n  credits:\n    default: [{below: 95, credit: 50}, {below: 99, credit: 10}]\n",
         "highest to lowest"),
    ],
)  # fmt: skip
def test_mistakes_are_errors_at_their_line(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "tw.yml", {})
    message = str(caught.value)
    assert says in message
    assert re.search(r"tw\.yml:[23]: sla\.", message), message

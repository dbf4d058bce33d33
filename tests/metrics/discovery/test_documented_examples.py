"""The config snippets of docs/service-discovery.md load as written; its target file
example reads as the groups it describes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tenantwatch.configuration import parse_config
from tenantwatch.metrics.discovery.file_format import parse_target_file

DOC = Path(__file__).parents[3] / "docs" / "service-discovery.md"
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.startswith("scrape_configs:")], ids=lambda b: b[:40]
)
def test_a_documented_scrape_config_loads(block: str) -> None:
    config = parse_config(block, "docs/service-discovery.md", {})
    assert config.scrape_configs


def test_the_documented_kubernetes_alternative_loads_inside_a_job() -> None:
    [block] = [b for b in BLOCKS if b.startswith("kubernetes_sd_configs:")]
    indented = "".join(f"    {line}\n" for line in block.splitlines())
    config = parse_config("scrape_configs:\n  - job_name: k\n" + indented, "doc", {})
    assert config.scrape_configs[0].kubernetes_sd_configs[0].role == "endpoints"


def test_the_documented_target_file_reads() -> None:
    [block] = [b for b in BLOCKS if b.startswith("- targets:")]
    [group] = parse_target_file(block, "targets/web.yml")
    assert len(group.targets) == 2 and ("env", "prod") in group.labels

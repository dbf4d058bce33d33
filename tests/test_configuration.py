"""tenantwatch.yml is read whole: its own shape, then the files it names, by their wings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantwatch.config import loader
from tenantwatch.config.errors import ConfigError
from tenantwatch.configuration import load_config

CONFIG = """\
tenants:
  - {id: acme, name: Acme, tier: basic}
rule_files:
  - missing.rules.yml
alertmanager:
  config_file: missing-am.yml
"""


def test_the_shape_alone_reads_no_file_it_names(tmp_path: Path) -> None:
    path = tmp_path / "tenantwatch.yml"
    path.write_text(CONFIG)
    config = loader.load_config(path, {}, checks=())
    assert config.rule_files == ["missing.rules.yml"]


def test_the_whole_config_reports_the_named_files_at_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "tenantwatch.yml"
    path.write_text(CONFIG)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert [(i.line, i.message.split(" (")[0]) for i in caught.value.issues] == [
        (4, "rule file 'missing.rules.yml' not found"),
        (
            6,
            f"cannot read file: [Errno 2] No such file or directory: '{tmp_path / 'missing-am.yml'}'",
        ),
    ]

"""rule_files in tenantwatch.yml: found relative to the config, problems at file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.configuration import load_config
from tenantwatch.rules.load import load_rule_groups

SEEDS = Path(__file__).parent.parent / "fixtures" / "seed-rules"


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tenantwatch.yml"
    path.write_text(body)
    return path


def test_seed_rule_files_load_unchanged_through_the_config(tmp_path: Path) -> None:
    for name in ("seed-000.rules.yml", "seed-003.rules.yml", "seed-004.rules.yml"):
        shutil.copy(SEEDS / name, tmp_path / name)
    path = _config(tmp_path, "rule_files:\n  - 'seed-*.rules.yml'\n")
    config = load_config(path, {})
    groups = load_rule_groups(config.rule_files, tmp_path)
    assert sum(len(g.rules) for g in groups) == 10 + 6 + 11


def test_the_invalid_seed_file_is_rejected_at_its_own_line(tmp_path: Path) -> None:
    shutil.copy(SEEDS / "seed-000.as-published.invalid.yml", tmp_path / "bad.yml")
    path = _config(tmp_path, "rule_files: [bad.yml]\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    assert any(i.file.endswith("bad.yml") and i.line == 22 for i in err.value.issues)


def test_a_missing_rule_file_is_reported_at_its_line_in_the_config(tmp_path: Path) -> None:
    path = _config(tmp_path, "tenants: []\nrule_files:\n  - there.yml\n  - nope.yml\n")
    (tmp_path / "there.yml").write_text("groups: []\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    (issue,) = err.value.issues
    assert issue.line == 4 and "'nope.yml' not found" in issue.message

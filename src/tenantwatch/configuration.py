"""Read tenantwatch.yml whole: its own shape (config/) and the files it names, each checked by
the wing that reads them (rule files by rules/, the Alertmanager config by alertmanager/,
relabel rules by metrics/)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tenantwatch.alertmanager.section_checks import alerting_issues
from tenantwatch.config import loader
from tenantwatch.config.loader import SectionCheck
from tenantwatch.config.model import Config
from tenantwatch.metrics.scrape_checks import relabel_issues
from tenantwatch.rules.load import rule_files_issues

WING_CHECKS: tuple[SectionCheck, ...] = (rule_files_issues, alerting_issues, relabel_issues)


def load_config(path: Path, env: Mapping[str, str]) -> Config:
    """Return the validated config in path. Raise ConfigError listing every problem, in
    tenantwatch.yml and in the files it names."""
    return loader.load_config(path, env, WING_CHECKS)


def parse_config(text: str, file: str, env: Mapping[str, str]) -> Config:
    """Return the validated config in text (read from file, whose directory relative paths
    start from). Raise ConfigError listing every problem."""
    return loader.parse_config(text, file, env, WING_CHECKS)

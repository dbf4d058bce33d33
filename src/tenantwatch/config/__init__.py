"""The tenantwatch.yml config file: YAML with line tracking, ${VAR} expansion and validation."""

from tenantwatch.config.errors import ConfigError, ConfigIssue
from tenantwatch.config.loader import load_config, parse_config
from tenantwatch.config.model import Config

__all__ = ["Config", "ConfigError", "ConfigIssue", "load_config", "parse_config"]

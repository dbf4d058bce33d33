"""The alert manager's configuration and senders, as tenantwatch.yml declares them."""

from __future__ import annotations

from tenantwatch.adapters.notifiers.base import Notifiers
from tenantwatch.alertmanager.config import (
    config_from_mapping,
    load_alertmanager_config,
    with_tenant_routes,
)
from tenantwatch.alertmanager.config_model import AlertmanagerConfig, default_config
from tenantwatch.config.alerting_model import EscalationConfig
from tenantwatch.config.errors import ConfigError, ConfigIssue
from tenantwatch.config.model import Config
from tenantwatch.runtime.builders import config_dir
from tenantwatch.services.escalation import Escalator
from tenantwatch.settings import Settings


def alertmanager_config(settings: Settings, config: Config) -> AlertmanagerConfig:
    """The Alertmanager configuration: its own file, inline, or none (nothing is sent)."""
    section = config.alertmanager
    if section.config_file:
        am = load_alertmanager_config(config_dir(settings) / section.config_file)
    elif section.config is not None:
        am = config_from_mapping(section.config, f"{settings.config or 'tenantwatch.yml'}")
    else:
        am = default_config()
    return with_tenant_routes(am, section.tenant_routes)


def escalator(config: EscalationConfig, am: AlertmanagerConfig) -> Escalator | None:
    """The escalation engine, when enabled; a bad policy or name is a config error."""
    if not config.enabled:
        return None
    try:
        return Escalator(config, am.receivers)
    except ValueError as exc:
        raise ConfigError([ConfigIssue("tenantwatch.yml", 0, str(exc))]) from None


def build_notifiers(config: Config) -> Notifiers:
    """The senders, with the SSRF allow-list of the config's alertmanager section."""
    return Notifiers(allow_private=config.alertmanager.allow_private_targets)

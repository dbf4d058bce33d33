"""The loaded Alertmanager configuration: receivers, their integrations and the whole config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tenantwatch.alertmanager.config_show import show_config
from tenantwatch.alertmanager.config_show_values import dump_yaml
from tenantwatch.alertmanager.config_tenant_view import tenant_view
from tenantwatch.alertmanager.inhibition import InhibitRule
from tenantwatch.alertmanager.routing import Route, build_route
from tenantwatch.alertmanager.templates import TemplateSet
from tenantwatch.alertmanager.time_intervals import TimeInterval


@dataclass(frozen=True, slots=True)
class Integration:
    """One entry of a receiver's `<kind>_configs`, with global defaults applied."""

    kind: str
    index: int
    send_resolved: bool
    settings: Mapping[str, Any]

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.index}"


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    integrations: tuple[Integration, ...]


@dataclass(frozen=True)
class AlertmanagerConfig:
    route: Route
    receivers: dict[str, Receiver]
    inhibit_rules: tuple[InhibitRule, ...] = ()
    time_intervals: dict[str, tuple[TimeInterval, ...]] = field(default_factory=dict)
    templates: TemplateSet = field(default_factory=TemplateSet)
    resolve_timeout_s: float = 300.0
    global_settings: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)
    tenant_routes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    base_dir: str | None = None  # the file's directory; relative paths are from there

    def public(self, tenant: str | None = None) -> dict[str, Any]:
        """The configuration as Alertmanager 0.25 shows it (defaults filled in, secrets as
        <secret>); for a tenant, only the part that handles its alerts."""
        shown = show_config(self.raw, self.tenant_routes, self.base_dir)
        return shown if tenant is None else tenant_view(shown, tenant)

    def receiver_names(self, tenant: str | None = None) -> list[str]:
        """The receivers' names; for a tenant, those its part of the configuration names."""
        if tenant is None:
            return list(self.receivers)
        return [str(r["name"]) for r in self.public(tenant).get("receivers", [])]

    def public_yaml(self, tenant: str | None = None) -> str:
        """public() as the YAML text of /api/v2/status' config.original."""
        return dump_yaml(self.public(tenant))


def default_config() -> AlertmanagerConfig:
    """No configuration: every alert goes to a receiver that sends nothing."""
    return AlertmanagerConfig(
        route=build_route({"receiver": "default", "group_by": ["alertname", "tenant"]}),
        receivers={"default": Receiver("default", ())},
        raw={
            "route": {"receiver": "default", "group_by": ["alertname", "tenant"]},
            "receivers": [{"name": "default"}],
        },
    )

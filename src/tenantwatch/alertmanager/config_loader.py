"""The Alertmanager config checker whole: every section checked, then the config built."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.alertmanager.config_receivers import ReceiverChecks
from tenantwatch.alertmanager.config_routes import RouteChecks
from tenantwatch.alertmanager.config_spec import TOP_KEYS
from tenantwatch.alertmanager.config_values import seconds


class ConfigLoader(ReceiverChecks, RouteChecks):
    """Checks a configuration mapping section by section and builds it when all is well."""

    def load(self, data: Mapping[str, Any]) -> AlertmanagerConfig | None:
        for key in data:
            if key not in TOP_KEYS:
                self._unknown((key,), str(key), TOP_KEYS)
        glob_ = self._global(data.get("global"))
        templates = self._templates(data.get("templates"))
        intervals = self._intervals(data)
        receivers = self._receivers(data.get("receivers"), glob_, templates)
        route = self._route(data.get("route"), receivers, intervals)
        inhibit = self._inhibit(data.get("inhibit_rules"))
        if self.issues or route is None:
            return None
        return AlertmanagerConfig(
            route=route,
            receivers=receivers,
            inhibit_rules=tuple(inhibit),
            time_intervals=intervals,
            templates=templates,
            resolve_timeout_s=seconds(str(glob_["resolve_timeout"])),
            global_settings=glob_,
            raw=dict(data),
            base_dir=None if self.base is None else str(self.base),
        )

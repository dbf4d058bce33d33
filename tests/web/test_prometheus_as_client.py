"""A real Prometheus uses tenantwatch as its Alertmanager: its alerts arrive through
`POST /api/v2/alerts` (basic auth with a tenant's key) and reach the tenant's webhook."""

from __future__ import annotations

from pathlib import Path

import yaml

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import Role, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.live_server import live_app
from tests.prometheus_server import prometheus, require_prometheus
from tests.receivers import running_receiver

RULES = """
groups:
  - name: always
    interval: 1s
    rules:
      - alert: AlwaysOn
        expr: vector(42)
        labels: {severity: critical}
        annotations:
          summary: "value {{ $value }} on {{ $labels.job }}"
"""


async def test_prometheus_alerts_arrive_labelled_with_the_keys_tenant(tmp_path: Path) -> None:
    require_prometheus()
    async with running_receiver() as hook:
        config = Config.model_validate(
            {
                "alertmanager": {
                    "config": {
                        "route": {
                            "receiver": "hook",
                            "group_by": ["alertname", "tenant"],
                            "group_wait": "0s",
                        },
                        "receivers": [
                            {"name": "hook", "webhook_configs": [{"url": hook.url + "/hook"}]}
                        ],
                    },
                    "allow_private_targets": ["127.0.0.1/32"],
                },
                "rules": {"builtin": False},
            }
        )
        settings = Settings(data_dir=tmp_path / "var", log_level="warning")
        boot = build_runtime(settings, config)
        await prepare(boot)
        await boot.tenants.create(SYSTEM, TenantInput(id="alpha", name="Alpha", tier="basic"))
        key = await boot.api_keys.issue(
            SYSTEM, name="prometheus", scopes=[Scope.WRITE], tenant_id="alpha"
        )
        await boot.stop()
        (tmp_path / "rules.yml").write_text(RULES)
        with live_app(
            create_app(settings, build_runtime(settings, config), roles={Role.API})
        ) as url:
            prom_config = {
                "global": {"evaluation_interval": "1s"},
                "rule_files": [str(tmp_path / "rules.yml")],
                "alerting": {
                    "alertmanagers": [
                        {
                            "api_version": "v2",
                            "static_configs": [{"targets": [url.removeprefix("http://")]}],
                            "basic_auth": {"username": "prometheus", "password": key.secret},
                        }
                    ]
                },
            }
            # Prometheus drops what it evaluates before it has found its Alertmanagers and
            # resends only after --rules.alert.resend-delay (1m by default)
            with prometheus(
                tmp_path / "prom",
                config=yaml.safe_dump(prom_config),
                flags=["--rules.alert.resend-delay=1s"],
            ) as prom:
                await hook.wait_for(1, timeout=30)
                prom_port = prom.port
        (body,) = hook.json_bodies()[:1]
        assert body["status"] == "firing"
        assert body["groupLabels"] == {"alertname": "AlwaysOn", "tenant": "alpha"}
        (alert,) = body["alerts"]
        # the key's tenant is added to what Prometheus sent
        assert alert["labels"] == {
            "alertname": "AlwaysOn",
            "severity": "critical",
            "tenant": "alpha",
        }
        assert alert["annotations"] == {"summary": "value 42 on "}
        # Prometheus' external URL names the host it runs on
        assert alert["generatorURL"].endswith(f":{prom_port}/graph?g0.expr=vector%2842%29&g0.tab=1")
        assert alert["startsAt"].endswith("Z") and alert["endsAt"] == "0001-01-01T00:00:00Z"

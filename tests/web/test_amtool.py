"""Debian's amtool 0.25 against a live tenantwatch on loopback, as against Alertmanager:
`config show`, `config routes` (and `routes test`), `alert add|query` (with -s and -i),
`silence add|query|expire|import`; with a system key and with a tenant's key (basic auth
in --alertmanager.url, the key as the password)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import Role, Runtime, build_runtime, prepare
from tenantwatch.services.tenants import TenantInput
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.am_binary import require_amtool
from tests.live_server import live_app

AM_CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1h   # nothing is sent while the tests run
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['team=~"db|infra"']
      receiver: team
    - matchers: ['tenant="bravo"']
      receiver: bravo-hook
receivers:
  - name: default
    webhook_configs: [{url: 'http://127.0.0.1:9/default'}]
  - name: pager
    pagerduty_configs: [{routing_key: pd-routing-key-0001, url: 'http://127.0.0.1:9/pd'}]
  - name: team
    slack_configs: [{api_url: 'http://127.0.0.1:9/slack/T0/B0/XYZ', channel: '#team'}]
  - name: alpha-hook
    webhook_configs: [{url: 'http://127.0.0.1:9/alpha/token-alpha-0001'}]
  - name: bravo-hook
    webhook_configs: [{url: 'http://127.0.0.1:9/bravo/token-bravo-0001'}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
"""
TENANT_ROUTES = {"alpha": {"receiver": "alpha-hook", "group_by": ["alertname", "tenant"]}}


@dataclass
class Live:
    url: str
    admin: str
    alpha: str
    home: Path

    def amtool(self, key: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        host = self.url.removeprefix("http://")
        done = subprocess.run(
            [require_amtool(), f"--alertmanager.url=http://amtool:{key}@{host}", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={"HOME": str(self.home), "PATH": os.environ.get("PATH", "")},
            check=False,
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done

    def status_yaml(self, key: str) -> str:
        request = urllib.request.Request(  # noqa: S310
            self.url + "/api/v2/status", headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
            return str(json.load(resp)["config"]["original"])


async def _bootstrap(rt: Runtime) -> tuple[str, str]:
    await prepare(rt)
    for tenant in ("alpha", "bravo"):
        await rt.tenants.create(SYSTEM, TenantInput(id=tenant, name=tenant, tier="basic"))
    scopes = [Scope.READ, Scope.WRITE]
    admin = await rt.api_keys.issue(SYSTEM, name="ops", scopes=scopes)
    alpha = await rt.api_keys.issue(SYSTEM, name="alpha", scopes=scopes, tenant_id="alpha")
    return admin.secret, alpha.secret


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    require_amtool()
    root = tmp_path_factory.mktemp("amtool")
    settings = Settings(data_dir=root / "var", log_level="warning")
    config = Config.model_validate(
        {
            "alertmanager": {
                "config": yaml.safe_load(AM_CONFIG),
                "tenant_routes": TENANT_ROUTES,
                "allow_private_targets": ["127.0.0.1/32"],
            }
        }
    )
    boot = build_runtime(settings, config)
    admin, alpha = asyncio.run(_bootstrap(boot))
    asyncio.run(boot.stop())
    (root / "home").mkdir()
    with live_app(create_app(settings, build_runtime(settings, config), roles={Role.API})) as url:
        yield Live(url, admin, alpha, root / "home")


def _rows(text: str) -> list[list[str]]:
    """amtool's table rows (after the header), cells split on its column gaps."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()[1:] if line.strip()]


# -- config ------------------------------------------------------------------------------------


def test_config_show_prints_the_status_configuration(live: Live) -> None:
    shown = live.amtool(live.admin, "config", "show").stdout
    assert shown.strip() == live.status_yaml(live.admin).strip()
    assert "resolve_timeout: 5m" in shown and "follow_redirects: true" in shown
    assert "routing_key: <secret>" in shown and "pd-routing-key" not in shown
    assert "api_url: <secret>" in shown


def test_config_routes_draws_the_tree_with_the_tenant_routes_first(live: Live) -> None:
    assert live.amtool(live.admin, "config", "routes").stdout == (
        "Routing tree:\n"
        ".\n"
        "└── default-route  receiver: default\n"
        '    ├── {tenant="alpha"}  receiver: alpha-hook\n'
        '    ├── {severity="critical"}  continue: true  receiver: pager\n'
        '    ├── {team=~"db|infra"}  receiver: team\n'
        '    └── {tenant="bravo"}  receiver: bravo-hook\n'
        "\n"
    )


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["alertname=X"], "default"),
        (["severity=critical", "team=db"], "pager,team"),
        (["tenant=bravo", "severity=critical"], "pager,bravo-hook"),
        (["tenant=alpha", "severity=critical"], "alpha-hook"),
    ],
)
def test_config_routes_test_names_the_receivers_tenantwatch_uses(
    live: Live, labels: list[str], receivers: str
) -> None:
    assert live.amtool(live.admin, "config", "routes", "test", *labels).stdout == receivers + "\n"
    verified = live.amtool(
        live.admin, "config", "routes", "test", f"--verify.receivers={receivers}", *labels
    )
    assert verified.returncode == 0
    wrong = live.amtool(
        live.admin, "config", "routes", "test", "--verify.receivers=nobody", *labels, check=False
    )
    assert wrong.returncode == 1 and "did not match" in wrong.stdout


def test_a_tenant_key_sees_only_its_routes_and_receivers(live: Live) -> None:
    assert live.amtool(live.alpha, "config", "routes").stdout == (
        "Routing tree:\n"
        ".\n"
        "└── default-route  receiver: alpha-hook\n"
        '    └── {tenant="alpha"}  receiver: alpha-hook\n'
        "\n"
    )
    shown = live.amtool(live.alpha, "config", "show").stdout
    assert "name: alpha-hook" in shown
    for other in ("bravo", "name: pager", "name: team", "name: default", "token-alpha"):
        assert other not in shown
    assert "url: http://127.0.0.1:9/alpha/***" in shown
    assert live.amtool(live.alpha, "config", "routes", "test", "tenant=alpha").stdout == (
        "alpha-hook\n"
    )


# -- alerts ------------------------------------------------------------------------------------


def test_alert_add_then_query_shows_active_inhibited_and_silenced_alerts(live: Live) -> None:
    live.amtool(live.admin, "alert", "add", "alertname=Latency", "severity=critical", "i=a")
    live.amtool(
        live.admin,
        "alert",
        "add",
        "alertname=Latency",
        "severity=warning",
        "i=b",
        "--annotation=summary=slow answers",
    )
    live.amtool(live.admin, "alert", "add", "alertname=Disk", "severity=warning", "i=c")

    def names(*flags: str) -> list[list[str]]:
        out = live.amtool(live.admin, "alert", "query", *flags, "alertname=~Latency|Disk").stdout
        return sorted([row[0], row[-1]] for row in _rows(out))

    # the warning Latency is inhibited by the critical one
    assert names() == [["Disk", "active"], ["Latency", "active"]]
    assert names("-i") == [["Latency", "suppressed"]]
    assert names("-s") == []
    live.amtool(live.admin, "silence", "add", "alertname=Disk", "-c", "maintenance", "-d", "1h")
    assert names("-s") == [["Disk", "suppressed"]]
    assert names() == [["Latency", "active"]]
    assert names("-a", "-s", "-i") == [
        ["Disk", "suppressed"],
        ["Latency", "active"],
        ["Latency", "suppressed"],
    ]
    extended = live.amtool(live.admin, "alert", "query", "-i", "-o", "extended", "i=b").stdout
    assert 'summary="slow answers"' in extended


def test_a_tenant_keys_alerts_carry_its_tenant_and_only_its_alerts_show(live: Live) -> None:
    live.amtool(live.alpha, "alert", "add", "alertname=TenantOnly", "severity=info")
    live.amtool(live.admin, "alert", "add", "alertname=TenantOnly", "tenant=bravo")
    out = live.amtool(live.alpha, "alert", "query", "-o", "json", "alertname=TenantOnly").stdout
    [alert] = json.loads(out)
    assert alert["labels"] == {"alertname": "TenantOnly", "severity": "info", "tenant": "alpha"}
    assert [r["name"] for r in alert["receivers"]] == ["alpha-hook"]
    everyone = live.amtool(live.admin, "alert", "query", "-o", "json", "alertname=TenantOnly")
    assert sorted(a["labels"]["tenant"] for a in json.loads(everyone.stdout)) == ["alpha", "bravo"]


# -- silences ----------------------------------------------------------------------------------


def test_silence_add_query_expire_and_import(live: Live, tmp_path: Path) -> None:
    added = live.amtool(
        live.admin,
        "silence",
        "add",
        "alertname=Backup",
        "job=~nightly.*",
        "-a",
        "ops",
        "-c",
        "window",
        "-d",
        "2h",
    ).stdout.strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", added)
    ids = live.amtool(live.admin, "silence", "query", "-q", "alertname=Backup").stdout.split()
    assert ids == [added]
    [row] = _rows(live.amtool(live.admin, "silence", "query", "alertname=Backup").stdout)
    assert row[0] == added and row[1] == 'alertname="Backup" job=~"nightly.*"'
    assert row[3:] == ["ops", "window"]

    exported = live.amtool(live.admin, "silence", "query", "-o", "json", "alertname=Backup")
    dump = tmp_path / "silences.json"
    dump.write_text(exported.stdout)
    [silence] = json.loads(exported.stdout)
    assert silence["status"]["state"] == "active"

    live.amtool(live.admin, "silence", "expire", added)
    assert live.amtool(live.admin, "silence", "query", "-q", "alertname=Backup").stdout == ""
    expired = live.amtool(live.admin, "silence", "query", "--expired", "-q", "alertname=Backup")
    assert expired.stdout.split() == [added]

    # re-importing the export: the expired silence cannot come back, so a new one starts
    imported = live.amtool(live.admin, "silence", "import", str(dump)).stdout.split()
    assert len(imported) == 1 and imported != [added]
    # a silence from another Alertmanager (an id tenantwatch never saw) is created anew
    silence["id"] = "00000000-1111-2222-3333-444444444444"
    dump.write_text(json.dumps([silence]))
    foreign = live.amtool(live.admin, "silence", "import", str(dump))
    assert "Error" not in foreign.stderr and len(foreign.stdout.split()) == 1
    active = live.amtool(live.admin, "silence", "query", "-q", "alertname=Backup").stdout
    assert sorted(active.split()) == sorted([*imported, *foreign.stdout.split()])


def test_a_tenants_silences_are_its_own(live: Live) -> None:
    mine = live.amtool(live.alpha, "silence", "add", "alertname=Quiet", "-c", "c").stdout.strip()
    theirs = live.amtool(
        live.admin, "silence", "add", "alertname=Quiet", "tenant=bravo", "-c", "c"
    ).stdout.strip()
    out = live.amtool(live.alpha, "silence", "query", "-o", "json", "alertname=Quiet").stdout
    [silence] = json.loads(out)
    assert silence["id"] == mine
    assert {"name": "tenant", "value": "alpha", "isRegex": False, "isEqual": True} in silence[
        "matchers"
    ]
    refused = live.amtool(live.alpha, "silence", "expire", theirs, check=False)
    assert refused.returncode != 0
    everyone = live.amtool(live.admin, "silence", "query", "-q", "alertname=Quiet").stdout
    assert sorted(everyone.split()) == sorted([mine, theirs])

"""tenantwatch.yml's alerting sections are checked when it loads, each problem at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.configuration import load_config

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "tenantwatch.yml"


def test_the_demo_config_loads_with_its_alertmanager_file() -> None:
    config = load_config(DEMO, {})
    assert config.alertmanager.config_file == "alertmanager.yml"
    assert config.alertmanager.escalation.enabled


def test_a_broken_alertmanager_file_is_reported_at_its_own_line(tmp_path: Path) -> None:
    (tmp_path / "am.yml").write_text("route:\n  receiver: nobody\nreceivers:\n  - name: ops\n")
    (tmp_path / "tw.yml").write_text("alertmanager:\n  config_file: am.yml\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "tw.yml", {})
    (issue,) = err.value.issues
    assert issue.file.endswith("am.yml") and issue.line == 2 and "nobody" in issue.message


def test_a_missing_alertmanager_file_points_at_config_file(tmp_path: Path) -> None:
    (tmp_path / "tw.yml").write_text("tenants: []\nalertmanager:\n  config_file: gone.yml\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "tw.yml", {})
    assert [i.line for i in err.value.issues] == [3]


def test_escalation_to_an_unknown_receiver_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tw.yml").write_text(
        "alertmanager:\n"
        "  config:\n"
        "    route: {receiver: ops}\n"
        "    receivers: [{name: ops}]\n"
        "  escalation:\n"
        "    enabled: true\n"
        "    channels: {slack: chatroom}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "tw.yml", {})
    (issue,) = err.value.issues
    assert issue.line == 5 and "no receiver named 'chatroom'" in issue.message

"""docs/incident-actions.md's example uses ActionSpec's and Matchers' own field names."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import yaml

from tenantwatch.incidents.actions import ActionKind, ActionSpec, Matchers
from tenantwatch.incidents.model import Severity, Status

DOC = Path(__file__).resolve().parents[2] / "docs" / "incident-actions.md"


def test_the_documented_example_names_only_fields_the_dataclasses_have() -> None:
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None
    actions = yaml.safe_load(block.group(1))["incidents"]["actions"]
    spec_fields = {f.name for f in dataclasses.fields(ActionSpec)} - {"from_config"}
    matcher_fields = {f.name for f in dataclasses.fields(Matchers)}
    assert len({a["name"] for a in actions}) == len(actions)
    assert {a["kind"] for a in actions} == {str(k) for k in ActionKind}
    for action in actions:
        assert set(action) <= spec_fields, action["name"]
        matchers = action.get("matchers") or {}
        assert set(matchers) <= matcher_fields, action["name"]
        assert all(Severity(s) for s in matchers.get("severities", []))
        assert all(Status(s) for s in matchers.get("statuses", []))

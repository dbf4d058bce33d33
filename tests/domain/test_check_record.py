"""One mapping of a check: stored values both ways, the API's names and the audit's view."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tenantwatch.domain.check_record import (
    audit_snapshot,
    check_from_values,
    check_values,
    definition,
    public_values,
)
from tenantwatch.domain.checks import Check, CheckKind

AT = datetime(2026, 3, 1, tzinfo=UTC)
CHECK = Check(
    id="acme.api",
    tenant_id="acme",
    name="API",
    kind=CheckKind.HTTP,
    settings={"url": "https://u:secret@a.example/", "bearer_token": "tok"},
    conditions=("[STATUS] == 200",),
    interval_s=30.0,
    labels={"team": "core"},
    token=None,
    created_at=AT,
    updated_at=AT,
)


def test_stored_values_come_back_as_the_same_check() -> None:
    values = check_values(CHECK)
    assert values["kind"] == "http"
    assert values["conditions"] == ["[STATUS] == 200"]
    assert check_from_values(values) == CHECK


def test_the_api_hides_secrets_renames_durations_and_leaves_out_the_token() -> None:
    public = public_values(CHECK)
    assert public["settings"] == {"url": "https://u:***@a.example/", "bearer_token": "***"}
    assert public["interval_seconds"] == 30.0
    assert "interval_s" not in public
    assert "token" not in public


def test_bookkeeping_is_not_part_of_a_checks_definition() -> None:
    later = replace(CHECK, updated_at=datetime(2027, 1, 1, tzinfo=UTC), managed_by="config")
    assert definition(later) == definition(CHECK)
    assert definition(replace(CHECK, name="other")) != definition(CHECK)


def test_the_audit_snapshot_hides_secrets() -> None:
    snap = audit_snapshot(CHECK)
    assert list(snap) == [
        "id",
        "tenant_id",
        "name",
        "kind",
        "settings",
        "conditions",
        "interval_s",
        "timeout_s",
        "enabled",
        "archived_at",
    ]
    assert snap["settings"]["bearer_token"] == "***"

"""Audit entries: secrets never reach the log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tenantwatch.domain.audit import SECRET_FIELDS, AuditEntry, scrub


@pytest.mark.parametrize("field", ["key", "key_hash", "password", "secret", "token"])
def test_scrub_removes_a_secret_field(field: str) -> None:
    assert scrub({"id": "k1", field: "s3cr3t"}) == {"id": "k1"}


def test_scrub_removes_every_secret_field_at_once_and_keeps_the_rest() -> None:
    snapshot = {name: "s3cr3t" for name in SECRET_FIELDS} | {"id": "k1", "prefix": "tw_abcdef"}
    assert scrub(snapshot) == {"id": "k1", "prefix": "tw_abcdef"}


def test_scrub_keeps_a_snapshot_without_secrets_as_it_is() -> None:
    snapshot = {"id": "acme", "labels": {"region": "eu"}, "tier": "basic"}
    assert scrub(snapshot) == snapshot


def test_scrub_does_not_change_the_snapshot_it_is_given() -> None:
    snapshot = {"id": "k1", "key_hash": "abc"}
    scrub(snapshot)
    assert snapshot == {"id": "k1", "key_hash": "abc"}


def test_scrub_of_no_snapshot_is_none() -> None:
    assert scrub(None) is None


def test_an_audit_entry_scrubs_both_before_and_after() -> None:
    entry = AuditEntry.of(
        at=datetime(2025, 1, 1, tzinfo=UTC),
        actor="cli:ops",
        action="apikey.create",
        object_type="api_key",
        object_id="k1",
        tenant_id=None,
        before={"id": "k1", "token": "old"},
        after={"id": "k1", "key": "tw_secret", "key_hash": "abc", "name": "ci"},
    )
    assert entry.before == {"id": "k1"}
    assert entry.after == {"id": "k1", "name": "ci"}

"""API keys: scope implication, key text, hashing, and what a principal may see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tenantwatch.domain.apikeys import (
    SYSTEM,
    ApiKey,
    Principal,
    Scope,
    allows,
    display_prefix,
    effective_scopes,
    format_key,
    hash_key,
)


@pytest.mark.parametrize(
    ("granted", "effective"),
    [
        ([], set()),
        ([Scope.READ], {Scope.READ}),
        ([Scope.WRITE], {Scope.READ, Scope.WRITE}),
        ([Scope.ADMIN], {Scope.READ, Scope.WRITE, Scope.ADMIN}),
        ([Scope.READ, Scope.WRITE], {Scope.READ, Scope.WRITE}),
    ],
)
def test_admin_implies_write_and_write_implies_read(
    granted: list[Scope], effective: set[Scope]
) -> None:
    assert effective_scopes(granted) == frozenset(effective)


@pytest.mark.parametrize(
    ("granted", "required", "allowed"),
    [
        (Scope.READ, Scope.READ, True),
        (Scope.READ, Scope.WRITE, False),
        (Scope.READ, Scope.ADMIN, False),
        (Scope.WRITE, Scope.READ, True),
        (Scope.WRITE, Scope.WRITE, True),
        (Scope.WRITE, Scope.ADMIN, False),
        (Scope.ADMIN, Scope.READ, True),
        (Scope.ADMIN, Scope.WRITE, True),
        (Scope.ADMIN, Scope.ADMIN, True),
    ],
)
def test_a_scope_allows_only_what_it_implies(
    granted: Scope, required: Scope, allowed: bool
) -> None:
    assert allows([granted], required) is allowed
    assert Principal(actor="t", scopes=frozenset({granted})).can(required) is allowed


def test_no_scopes_allow_nothing() -> None:
    assert not any(allows([], scope) for scope in Scope)


def test_the_scopes_have_their_wire_names() -> None:
    assert [str(s) for s in Scope] == ["monitoring:read", "monitoring:write", "admin"]


def test_the_system_principal_can_do_everything_in_every_tenant() -> None:
    assert all(SYSTEM.can(scope) for scope in Scope)
    assert SYSTEM.sees_tenant("acme-corp")
    assert SYSTEM.sees_tenant(None)


def test_a_key_is_tw_and_url_safe_base64_without_padding() -> None:
    assert format_key(b"\xff" * 32) == "tw_" + "_" * 42 + "8"
    assert format_key(b"\xfb" * 32) == "tw_" + "-_v7" * 10 + "-_s"


def test_a_key_of_32_random_bytes_has_46_characters() -> None:
    assert len(format_key(bytes(range(32)))) == 46


def test_a_key_is_hashed_with_sha256_hex() -> None:
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_different_keys_have_different_hashes() -> None:
    assert hash_key(format_key(b"\x00" * 32)) != hash_key(format_key(b"\x01" + b"\x00" * 31))


def test_the_display_prefix_is_tw_and_six_characters() -> None:
    key = format_key(bytes(range(32)))
    assert display_prefix(key) == key[:9]
    assert display_prefix("tw_abcdefghijklmnop") == "tw_abcdef"


def test_a_principal_bound_to_no_tenant_sees_every_tenant() -> None:
    admin = Principal(actor="ops", scopes=frozenset({Scope.ADMIN}))
    assert admin.sees_tenant("acme-corp")
    assert admin.sees_tenant("globex")
    assert admin.sees_tenant(None)


def test_a_tenant_bound_principal_sees_only_its_own_tenant() -> None:
    reader = Principal(actor="k", scopes=frozenset({Scope.READ}), tenant_id="acme-corp")
    assert reader.sees_tenant("acme-corp")
    assert not reader.sees_tenant("globex")
    assert not reader.sees_tenant("acme")


def test_a_tenant_bound_principal_does_not_see_objects_of_no_tenant() -> None:
    reader = Principal(actor="k", scopes=frozenset({Scope.ADMIN}), tenant_id="acme-corp")
    assert not reader.sees_tenant(None)


def _key(revoked_at: datetime | None = None) -> ApiKey:
    return ApiKey(
        id="k1",
        name="ci",
        prefix="tw_abcdef",
        scopes=(Scope.READ, Scope.WRITE),
        tenant_id="acme-corp",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        created_by="cli:ops",
        revoked_at=revoked_at,
    )


def test_a_key_is_active_until_revoked() -> None:
    assert _key().active
    assert not _key(revoked_at=datetime(2025, 2, 1, tzinfo=UTC)).active


def test_a_key_snapshot_shows_the_prefix_and_scopes_but_no_secret() -> None:
    assert _key().snapshot() == {
        "id": "k1",
        "name": "ci",
        "prefix": "tw_abcdef",
        "scopes": ["monitoring:read", "monitoring:write"],
        "tenant_id": "acme-corp",
        "revoked": False,
    }

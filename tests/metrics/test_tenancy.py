"""A tenant-bound writer stores only its own tenant's series."""

from __future__ import annotations

import pytest

from tenantwatch.metrics.tenancy import ForeignTenant, bind_tenant
from tenantwatch.promql.model import labels_of


def test_an_unbound_writer_stores_labels_as_sent() -> None:
    labels = labels_of({"__name__": "x", "tenant": "globex"})
    assert bind_tenant(labels, None) is labels


def test_a_missing_tenant_label_gets_the_writers_tenant_in_sorted_place() -> None:
    labels = labels_of({"__name__": "x", "a": "1", "zone": "eu"})
    bound = bind_tenant(labels, "acme")
    assert bound == labels_of({"__name__": "x", "a": "1", "zone": "eu", "tenant": "acme"})
    assert list(bound) == sorted(bound)


def test_a_tenant_label_sorting_last_is_appended() -> None:
    assert bind_tenant(labels_of({"__name__": "x"}), "acme") == (
        ("__name__", "x"),
        ("tenant", "acme"),
    )


def test_the_writers_own_tenant_label_is_kept() -> None:
    labels = labels_of({"__name__": "x", "tenant": "acme"})
    assert bind_tenant(labels, "acme") == labels


def test_another_tenants_label_is_refused_with_the_fix() -> None:
    with pytest.raises(ForeignTenant, match="may only write series of tenant 'acme'"):
        bind_tenant(labels_of({"__name__": "x", "tenant": "globex"}), "acme")

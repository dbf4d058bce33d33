"""Which series a tenant-bound writer may store: only its own, with the tenant label set."""

from __future__ import annotations

from tenantwatch.promql.model import format_labels
from tenantwatch.types import Labels

TENANT = "tenant"


class ForeignTenant(Exception):
    """A tenant-bound writer sent a series labelled with another tenant."""


def bind_tenant(labels: Labels, tenant: str | None) -> Labels:
    """The labels to store for a writer bound to tenant (None: unbound, labels as sent).

    A series without a tenant label gets the writer's; one naming another tenant raises
    ForeignTenant (the caller answers 403: the key may not write there)."""
    if tenant is None:
        return labels
    for i, (name, value) in enumerate(labels):
        if name == TENANT:
            if value != tenant:
                raise ForeignTenant(
                    f"series {format_labels(labels)} is labelled tenant={value!r}, but this "
                    f"key may only write series of tenant {tenant!r}; drop the label or use "
                    "a key of that tenant"
                )
            return labels
        if name > TENANT:
            return (*labels[:i], (TENANT, tenant), *labels[i:])
    return (*labels, (TENANT, tenant))

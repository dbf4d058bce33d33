"""MTTA and MTTR per tenant and severity, and open incidents, as series (pure).

Over the incidents detected in a window (30 days by default): the mean time to
acknowledge of those acknowledged, and the mean time to resolve of those resolved, for
each affected tenant and severity. Series:
tenantwatch_incident_mtta_seconds{tenant,severity},
tenantwatch_incident_mttr_seconds{tenant,severity},
tenantwatch_incidents_open{tenant,severity} (active incidents now).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tenantwatch.incidents.model import Incident
from tenantwatch.promql.model import labels_of
from tenantwatch.types import Sample

MTTA = "tenantwatch_incident_mtta_seconds"
MTTR = "tenantwatch_incident_mttr_seconds"
OPEN = "tenantwatch_incidents_open"


def samples(incidents: Sequence[Incident], t_ms: int) -> list[Sample]:
    tta: dict[tuple[str, str], list[float]] = defaultdict(list)
    ttr: dict[tuple[str, str], list[float]] = defaultdict(list)
    active: dict[tuple[str, str], int] = defaultdict(int)
    for inc in incidents:
        for tenant in inc.tenant_ids or ("",):
            key = (tenant, str(inc.severity))
            if (a := inc.time_to_acknowledge) is not None:
                tta[key].append(a.total_seconds())
            if (r := inc.time_to_resolve) is not None:
                ttr[key].append(r.total_seconds())
            if inc.active:
                active[key] += 1
    out: list[Sample] = []
    for name, values in ((MTTA, tta), (MTTR, ttr)):
        for (tenant, severity), xs in sorted(values.items()):
            labels = labels_of({"__name__": name, "tenant": tenant, "severity": severity})
            out.append((labels, t_ms, sum(xs) / len(xs)))
    for (tenant, severity), n in sorted(active.items()):
        labels = labels_of({"__name__": OPEN, "tenant": tenant, "severity": severity})
        out.append((labels, t_ms, float(n)))
    return out

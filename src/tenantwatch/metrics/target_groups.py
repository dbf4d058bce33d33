"""Target groups: what service discovery hands to scraping, as Prometheus' targetgroup.Group.

Every discovery mechanism (static_configs, file_sd, http_sd, kubernetes_sd) produces
groups; scraping relabels each target (its own labels merged over the group's) into a
scrape target or drops it. A provider replaces all groups of a source at once: a group
with no targets means the source's targets are gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenantwatch.types import Labels


@dataclass(frozen=True, slots=True)
class TargetGroup:
    """One group: `source` identifies it within its provider (a file and index, a pod);
    `targets` are each target's own labels (`__address__` and any `__meta_*`), `labels`
    the labels common to them all. Both are sorted label tuples."""

    source: str
    targets: tuple[Labels, ...]
    labels: Labels = ()

    def merged(self) -> list[Labels]:
        """Each target's labels with the group's underneath (a target's own label wins)."""
        out = []
        for target in self.targets:
            both = dict(self.labels)
            both.update(target)
            out.append(tuple(sorted(both.items())))
        return out

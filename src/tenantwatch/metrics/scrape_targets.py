"""The scrape targets a config describes, one frozen value per (job, address)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from tenantwatch.config.metrics_model import MetricsConfig, ScrapeConfig
from tenantwatch.metrics.http_auth import HttpAuth, TlsSettings, auth_from_config
from tenantwatch.metrics.scrape_labels import target_labels
from tenantwatch.promql.model import format_labels
from tenantwatch.types import Labels


@dataclass(frozen=True, slots=True)
class ScrapeTarget:
    job: str
    address: str
    url: str
    labels: Labels
    interval_s: float
    timeout_s: float
    honor_labels: bool = False
    honor_timestamps: bool = True
    auth: HttpAuth | None = None
    tls: TlsSettings = field(default_factory=TlsSettings)

    @property
    def key(self) -> str:
        """What identifies the target, for its scrape offset and in logs."""
        return f"{self.url} {format_labels(self.labels)}"


def target_url(scheme: str, address: str, path: str, params: dict[str, list[str]]) -> str:
    query = urlencode([(k, v) for k, values in params.items() for v in values])
    return f"{scheme}://{address}{path}" + (f"?{query}" if query else "")


def targets_of_job(job: ScrapeConfig, defaults: MetricsConfig) -> list[ScrapeTarget]:
    auth = auth_from_config(job)
    tls = TlsSettings.of(job.tls_config)
    out = []
    for static in job.static_configs:
        for address in static.targets:
            out.append(
                ScrapeTarget(
                    job=job.job_name,
                    address=address,
                    url=target_url(job.scheme, address, job.metrics_path, job.params),
                    labels=target_labels(job.job_name, address, static.labels),
                    interval_s=job.interval(defaults),
                    timeout_s=job.timeout(defaults),
                    honor_labels=job.honor_labels,
                    honor_timestamps=job.honor_timestamps,
                    auth=auth,
                    tls=tls,
                )
            )
    return out


def targets_from_config(jobs: list[ScrapeConfig], defaults: MetricsConfig) -> list[ScrapeTarget]:
    """Every target of every job; a target listed twice in one job is scraped once."""
    seen: dict[tuple[str, str, Labels], ScrapeTarget] = {}
    for job in jobs:
        for target in targets_of_job(job, defaults):
            seen.setdefault((target.job, target.url, target.labels), target)
    return list(seen.values())

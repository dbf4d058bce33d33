"""Scrape targets from target groups, as Prometheus' PopulateLabels builds them (pure).

A job's groups (its static_configs, and whatever service discovery finds) give each
target its discovered labels: the target's own over the group's. Then, as Prometheus 2.4x
and 3.x do: `job`, `__address__`'s companions `__scheme__`, `__metrics_path__`,
`__scrape_interval__`, `__scrape_timeout__` and `__param_<name>` (the first value of each
`params` entry) are set where the target has none; `relabel_configs` run; a target they
drop, or leave without `__address__`, is dropped (kept with its discovered labels, for
the targets API). `instance` defaults to `__address__`; labels starting with `__` stay
internal: they make the URL, interval and timeout, and never reach a series.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from tenantwatch.config.metrics_model import MetricsConfig, ScrapeConfig
from tenantwatch.domain.durations import format_duration, parse_duration
from tenantwatch.metrics.http_auth import HttpAuth, TlsSettings, auth_from_config
from tenantwatch.metrics.relabel import RelabelRule, parse_rule, relabel
from tenantwatch.metrics.target_groups import TargetGroup
from tenantwatch.promql.model import format_labels, labels_of
from tenantwatch.types import Labels

ADDRESS = "__address__"
SCHEME = "__scheme__"
METRICS_PATH = "__metrics_path__"
SCRAPE_INTERVAL = "__scrape_interval__"
SCRAPE_TIMEOUT = "__scrape_timeout__"
PARAM_PREFIX = "__param_"
RESERVED_PREFIX = "__"
STATIC_SOURCE = "static_configs"


@dataclass(frozen=True, slots=True)
class ScrapeLimits:
    """What one scrape may bring (0: no limit); over any of them the scrape fails whole."""

    sample_limit: int = 0
    label_limit: int = 0
    label_name_length_limit: int = 0
    label_value_length_limit: int = 0
    body_size_limit: int = 0

    @property
    def labels_limited(self) -> bool:
        return bool(
            self.label_limit or self.label_name_length_limit or self.label_value_length_limit
        )

    def same_labels_limits(self, other: ScrapeLimits) -> bool:
        """Whether both limit labels alike (a series passes both or neither)."""
        return (self.label_limit, self.label_name_length_limit, self.label_value_length_limit) == (
            other.label_limit,
            other.label_name_length_limit,
            other.label_value_length_limit,
        )


@dataclass(frozen=True, slots=True)
class ScrapeTarget:
    """One target to scrape. `labels` are those its series get; `discovered` the labels
    it had before relabelling (not part of its identity: a target whose discovered labels
    change but whose labels and URL do not keeps its scrape loop)."""

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
    metric_relabel: tuple[RelabelRule, ...] = ()
    limits: ScrapeLimits = ScrapeLimits()
    discovered: Labels = field(default=(), compare=False)

    @property
    def key(self) -> str:
        """What identifies the target, for its scrape offset and in logs."""
        return f"{self.url} {format_labels(self.labels)}"

    @property
    def identity(self) -> tuple[str, str, Labels]:
        """Job, URL and labels: the series it writes (its settings aside)."""
        return (self.job, self.url, self.labels)


@dataclass(frozen=True, slots=True)
class DroppedTarget:
    """A discovered target that is not scraped: its labels before relabelling, and why
    (None: relabelling dropped it, as Prometheus' droppedTargets lists)."""

    job: str
    discovered: Labels
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ScrapeJob:
    """A scrape job with its defaults resolved and its rules compiled, ready to turn
    target groups into targets."""

    name: str
    scheme: str = "http"
    metrics_path: str = "/metrics"
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()
    interval_s: float = 15.0
    timeout_s: float = 10.0
    honor_labels: bool = False
    honor_timestamps: bool = True
    auth: HttpAuth | None = None
    tls: TlsSettings = field(default_factory=TlsSettings)
    relabel: tuple[RelabelRule, ...] = ()
    metric_relabel: tuple[RelabelRule, ...] = ()
    limits: ScrapeLimits = ScrapeLimits()
    target_limit: int = 0
    keep_dropped_targets: int = 0
    static_groups: tuple[TargetGroup, ...] = ()

    @classmethod
    def of(cls, config: ScrapeConfig, defaults: MetricsConfig) -> ScrapeJob:
        """The job a validated scrape config describes."""

        def limit(name: str) -> int:
            return config.limit(name, defaults)

        return cls(
            name=config.job_name,
            scheme=config.scheme,
            metrics_path=config.metrics_path,
            params=tuple((k, tuple(v)) for k, v in config.params.items()),
            interval_s=config.interval(defaults),
            timeout_s=config.timeout(defaults),
            honor_labels=config.honor_labels,
            honor_timestamps=config.honor_timestamps,
            auth=auth_from_config(config),
            tls=TlsSettings.of(config.tls_config),
            relabel=tuple(parse_rule(r.model_dump()) for r in config.relabel_configs),
            metric_relabel=tuple(parse_rule(r.model_dump()) for r in config.metric_relabel_configs),
            limits=ScrapeLimits(
                sample_limit=limit("sample_limit"),
                label_limit=limit("label_limit"),
                label_name_length_limit=limit("label_name_length_limit"),
                label_value_length_limit=limit("label_value_length_limit"),
                body_size_limit=limit("body_size_limit"),
            ),
            target_limit=limit("target_limit"),
            keep_dropped_targets=limit("keep_dropped_targets"),
            static_groups=tuple(
                TargetGroup(
                    f"{STATIC_SOURCE}/{i}",
                    tuple(((ADDRESS, address),) for address in static.targets),
                    labels_of(static.labels),
                )
                for i, static in enumerate(config.static_configs)
            ),
        )

    def target_limit_error(self, active: int) -> str | None:
        """Prometheus' error when the job has more targets than target_limit, else None."""
        if self.target_limit and active > self.target_limit:
            return (
                f"target_limit exceeded (number of targets: {active}, limit: {self.target_limit})"
            )
        return None


def target_url(
    scheme: str, address: str, path: str, params: Iterable[tuple[str, Sequence[str]]]
) -> str:
    """Go's url.URL{...}.String() with url.Values.Encode(): parameters sorted by name."""
    query = urlencode([(k, v) for k, values in sorted(params) for v in values])
    return f"{scheme}://{address}{path}" + (f"?{query}" if query else "")


def _defaults(job: ScrapeJob, labels: dict[str, str]) -> None:
    """Prometheus' scrape labels, each where the target has none (or an empty one)."""
    defaults = (
        ("job", job.name),
        (SCRAPE_INTERVAL, format_duration(job.interval_s)),
        (SCRAPE_TIMEOUT, format_duration(job.timeout_s)),
        (METRICS_PATH, job.metrics_path),
        (SCHEME, job.scheme),
    )
    for name, value in defaults:
        if not labels.get(name):
            labels[name] = value
    for name, values in job.params:
        key = PARAM_PREFIX + name
        if values and not labels.get(key):
            labels[key] = values[0]


def _seconds(labels: dict[str, str], name: str, what: str) -> float:
    """The duration in a label. Raise ValueError in Prometheus' words."""
    text = labels.get(name, "")
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise ValueError(
            f"error parsing scrape {what}: not a valid duration string: {text!r}"
        ) from None
    if seconds == 0:
        raise ValueError(f"scrape {what} cannot be 0")
    return seconds


def populate(job: ScrapeJob, discovered: Labels) -> ScrapeTarget | DroppedTarget:
    """The target one discovered label set becomes, or why it is dropped."""
    labels = {k: v for k, v in discovered if v}
    _defaults(job, labels)
    before = labels_of(labels)
    out = relabel(labels, job.relabel) if job.relabel else labels
    if out is None:
        return DroppedTarget(job.name, before)
    address = out.get(ADDRESS, "")
    if not address:
        return DroppedTarget(job.name, before, "no address")
    if "/" in address:
        return DroppedTarget(job.name, before, f"{address!r} is not a valid hostname")
    try:
        interval = _seconds(out, SCRAPE_INTERVAL, "interval")
        timeout = _seconds(out, SCRAPE_TIMEOUT, "timeout")
    except ValueError as exc:
        return DroppedTarget(job.name, before, str(exc))
    if timeout > interval:
        return DroppedTarget(
            job.name,
            before,
            f"scrape timeout cannot be greater than scrape interval "
            f"({out[SCRAPE_TIMEOUT]!r} > {out[SCRAPE_INTERVAL]!r})",
        )
    if not out.get("instance"):
        out["instance"] = address
    params = {k: list(v) for k, v in job.params}
    for name, value in out.items():
        if name.startswith(PARAM_PREFIX):
            values = params.setdefault(name[len(PARAM_PREFIX) :], [])
            values[:1] = [value]
    url = target_url(out.get(SCHEME, ""), address, out.get(METRICS_PATH, ""), params.items())
    return ScrapeTarget(
        job=job.name,
        address=address,
        url=url,
        labels=labels_of({k: v for k, v in out.items() if not k.startswith(RESERVED_PREFIX)}),
        interval_s=interval,
        timeout_s=timeout,
        honor_labels=job.honor_labels,
        honor_timestamps=job.honor_timestamps,
        auth=job.auth,
        tls=job.tls,
        metric_relabel=job.metric_relabel,
        limits=job.limits,
        discovered=before,
    )


def job_targets(
    job: ScrapeJob, groups: Iterable[TargetGroup]
) -> tuple[list[ScrapeTarget], list[DroppedTarget]]:
    """The job's targets from its groups: (active, dropped). A target found twice (the same
    labels and URL) is scraped once; at most keep_dropped_targets dropped ones are kept
    (0: all of them), as Prometheus keeps them."""
    active: dict[ScrapeTarget, None] = {}
    seen: set[tuple[str, str, Labels]] = set()
    dropped: list[DroppedTarget] = []
    for group in groups:
        for discovered in group.merged():
            target = populate(job, discovered)
            if isinstance(target, DroppedTarget):
                if not job.keep_dropped_targets or len(dropped) < job.keep_dropped_targets:
                    dropped.append(target)
            elif target.identity not in seen:
                seen.add(target.identity)
                active[target] = None
    return list(active), dropped


def targets_from_groups(
    job: ScrapeConfig, defaults: MetricsConfig, groups: Iterable[TargetGroup]
) -> tuple[list[ScrapeTarget], list[DroppedTarget]]:
    """The job's targets from target groups (its static_configs are not added: pass
    ScrapeJob.of(job, defaults).static_groups among the groups to have them)."""
    return job_targets(ScrapeJob.of(job, defaults), groups)


def targets_from_config(jobs: list[ScrapeConfig], defaults: MetricsConfig) -> list[ScrapeTarget]:
    """Every static target of every job, after relabelling."""
    out: list[ScrapeTarget] = []
    for config in jobs:
        job = ScrapeJob.of(config, defaults)
        out += job_targets(job, job.static_groups)[0]
    return out

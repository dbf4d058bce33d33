"""Pure scrape rules copied from Prometheus: target labels, honor_labels, report series, offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from tenantwatch.promql.model import METRIC_NAME, labels_of
from tenantwatch.types import Labels

EXPORTED_PREFIX = "exported_"

# Prometheus 3's default scrape_protocols, with the weights its acceptHeader() gives them.
# Names are asked for in the classic escaping: label names in tenantwatch follow the classic
# rules, so a target should escape UTF-8 names rather than send them quoted.
ACCEPT_HEADER = (
    "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,"
    "application/openmetrics-text;version=0.0.1;q=0.5,"
    "text/plain;version=1.0.0;escaping=underscores;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,"
    "*/*;q=0.2"
)

REPORT_METRICS = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
)


def target_labels(job: str, address: str, static: Mapping[str, str]) -> Labels:
    """The labels a target adds to its series: job and instance, then its static labels
    (which may override both, as in Prometheus)."""
    merged = {"job": job, "instance": address}
    merged.update(static)
    return labels_of(merged)


def sample_labels(exposed: Labels, target: Labels, *, honor_labels: bool) -> Labels:
    """The stored labels of a scraped series (Prometheus' mutateSampleLabels).

    With honor_labels the exposed labels win and target labels only fill gaps. Without it
    the target labels win, and a clashing exposed label is kept as exported_<name> (with
    more prefixes while that name is taken too).
    """
    if not target:
        return exposed
    merged = dict(exposed)
    if honor_labels:
        for name, value in target:
            if not merged.get(name):
                merged[name] = value
        return labels_of(merged)
    conflicts = []
    for name, value in target:
        existing = merged.get(name, "")
        if existing:
            conflicts.append((name, existing))
        merged[name] = value
    # shorter names first, as Prometheus does, so exported_ prefixes stack predictably
    for name, value in sorted(conflicts, key=lambda c: len(c[0])):
        new = name
        while True:
            new = EXPORTED_PREFIX + new
            if not merged.get(new):
                merged[new] = value
                break
    return labels_of(merged)


def report_labels(name: str, target: Labels) -> Labels:
    """The labels of a synthetic series such as `up`: its name and the target labels."""
    return labels_of({**dict(target), METRIC_NAME: name})


def report_values(
    *, up: bool, duration_s: float, scraped: int, added: int, kept: int | None = None
) -> tuple[tuple[str, float], ...]:
    """The values of the synthetic series for one scrape, by name; kept: the samples left
    after metric_relabel_configs (all scraped ones by default)."""
    return (
        ("up", 1.0 if up else 0.0),
        ("scrape_duration_seconds", duration_s),
        ("scrape_samples_scraped", float(scraped)),
        ("scrape_samples_post_metric_relabeling", float(scraped if kept is None else kept)),
        ("scrape_series_added", float(added)),
    )


def scrape_offset(key: str, interval_s: float) -> float:
    """A stable offset within the interval for a target, so targets spread over time."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    interval_ms = max(1, round(interval_s * 1000))
    return (int.from_bytes(digest, "big") % interval_ms) / 1000


def first_delay(now_s: float, interval_s: float, offset_s: float) -> float:
    """Seconds from now until the next moment whose phase in the interval is offset_s
    (Prometheus: every scrape of a target lands at the same phase, on every restart)."""
    phase = now_s % interval_s
    delay = offset_s - phase
    if delay < 0:
        delay += interval_s
    return delay


def next_tick(start_s: float, now_s: float, interval_s: float) -> float:
    """The first time start + k*interval strictly after now (missed ticks are skipped)."""
    if now_s < start_s:
        return start_s
    k = int((now_s - start_s) // interval_s) + 1
    return start_s + k * interval_s

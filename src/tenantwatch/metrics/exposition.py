"""Parse Prometheus text format 0.0.4 and OpenMetrics 1.0 expositions into samples.

Behaviour follows Prometheus 3's scraper (`model/textparse`, `scrape/scrape.go`):

- Values are Go `strconv.ParseFloat` without hex floats or `_` (Prometheus rejects both), so
  `NaN`, `+Inf`, `-Inf`, `1e-3` work and `1e400` is out of range. Text-format timestamps
  are integer milliseconds; OpenMetrics timestamps are float seconds, truncated to ms.
- `le` on histograms and `quantile` on summaries are normalised as Prometheus 3 does
  (`le="1"` -> `le="1.0"`). As in Prometheus, the type in effect is that of the last
  `# TYPE` line, whichever family it named.
- OpenMetrics `_created` series are kept as ordinary series and counters keep their
  `_total` sample names: Prometheus 3 does this unless `created-timestamp-zero-ingestion`
  is enabled. Exemplars are checked for syntax and dropped.
- Label values with an empty string are dropped; a repeated label name is an error.
- A series repeated at the same timestamp is a duplicate: `parse_text` rejects it (as the
  Pushgateway does); `parse_lines_cached` drops it and counts it, as Prometheus' scraper
  does (`prometheus_target_scrapes_sample_duplicate_timestamp_total`).
- Stricter than Prometheus: a quoted label value cannot run across lines (write a newline
  as `\\n`); Prometheus' text lexer lets it.
"""

from __future__ import annotations

from tenantwatch.metrics.exposition_core import (
    ExpositionError,
    ParsedExposition,
    ParsedSample,
    SeriesCache,
    parse_lines_cached,
    parse_text,
)
from tenantwatch.metrics.exposition_meta import MetricMetadata, metric_metadata, metric_types

__all__ = [
    "ExpositionError",
    "MetricMetadata",
    "ParsedExposition",
    "ParsedSample",
    "SeriesCache",
    "decode_exposition",
    "is_openmetrics",
    "metric_metadata",
    "metric_types",
    "parse_lines_cached",
    "parse_text",
]


def is_openmetrics(content_type: str | None) -> bool:
    """True when a Content-Type names OpenMetrics (`application/openmetrics-text`)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/openmetrics-text"


def decode_exposition(body: bytes) -> str:
    """The body as text. Invalid UTF-8 raises ExpositionError naming its line."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise ExpositionError(
            line,
            f"invalid UTF-8 byte {body[exc.start : exc.start + 1]!r}: expositions must be UTF-8",
        ) from None

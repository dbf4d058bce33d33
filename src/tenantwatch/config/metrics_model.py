"""The `metrics:` and `scrape_configs:` sections of tenantwatch.yml (a Prometheus subset).

Secrets (passwords, bearer tokens) are SecretStr, so they never show in a repr or a log;
the HTTP client options live in http_client_model, discovery in discovery_model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ByteSize,
    ConfigDict,
    Field,
)

from tenantwatch.config.discovery_model import FileSDConfig, HttpSDConfig, KubernetesSDConfig
from tenantwatch.config.errors import refusing
from tenantwatch.config.http_client_model import (
    AuthorizationConfig as AuthorizationConfig,
)
from tenantwatch.config.http_client_model import (
    BasicAuthConfig as BasicAuthConfig,
)
from tenantwatch.config.http_client_model import (
    HttpClientConfig as HttpClientConfig,
)
from tenantwatch.config.http_client_model import (
    TlsConfig as TlsConfig,
)
from tenantwatch.config.types import Duration, TargetLabelsField
from tenantwatch.domain.text import text_problem

DEFAULT_SCRAPE_INTERVAL = 15.0
DEFAULT_SCRAPE_TIMEOUT = 10.0
DEFAULT_FLUSH_INTERVAL = 5.0

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def target_problem(value: str) -> str | None:
    """Return why value is not a scrape target address (host:port), or None when it is."""
    if "://" in value or "/" in value:
        return (
            f"target {value!r} must be host:port; put the scheme in 'scheme:' "
            "and the path in 'metrics_path:'"
        )
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return f"target {value!r} must be host:port with a port from 1 to 65535, e.g. 'app:9100'"
    if not _HOST.match(host) or (host.startswith("[") is False and ":" in host):
        return (
            f"target {value!r}: {host!r} is not a host name or IP address "
            "(write IPv6 addresses in brackets, e.g. '[::1]:9100')"
        )
    return None


def _job_name_problem(value: str) -> str | None:
    return text_problem(value, what="job_name", max_length=200)


def _check_metrics_path(value: str) -> str:
    if not value.startswith("/") or "?" in value or "#" in value or " " in value:
        raise ValueError(
            f"metrics_path {value!r} must be a path starting with '/', e.g. '/metrics'; "
            "put query parameters under 'params:'"
        )
    return value


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url {value!r} must be an http:// or https:// URL")
    return value


Target = Annotated[str, refusing(target_problem)]
JobName = Annotated[str, refusing(_job_name_problem)]
MetricsPath = Annotated[str, AfterValidator(_check_metrics_path)]
HttpUrl = Annotated[str, AfterValidator(_check_http_url)]


class StaticConfig(_Strict):
    targets: list[Target]
    labels: TargetLabelsField = {}


_BASE2_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1 << 10,
    "kib": 1 << 10,
    "mb": 1 << 20,
    "mib": 1 << 20,
    "gb": 1 << 30,
    "gib": 1 << 30,
    "tb": 1 << 40,
    "tib": 1 << 40,
}
_SIZE = re.compile(r"^\s*(\d+)\s*([A-Za-z]*)\s*$")


def _check_base2_bytes(value: object) -> int:
    """Prometheus' units.Base2Bytes: a number of bytes, or one with KB, MB, GB or TB (all
    powers of 1024, as Prometheus reads them; KiB, MiB... too)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a size cannot be negative; 0 means no limit")
        return value
    if isinstance(value, str):
        found = _SIZE.match(value)
        if found and found.group(2).lower() in _BASE2_UNITS:
            return int(found.group(1)) * _BASE2_UNITS[found.group(2).lower()]
    raise ValueError(
        f"invalid size {value!r}; write a number of bytes or one with a unit, e.g. '10MB' "
        "(KB, MB, GB and TB are powers of 1024, as in Prometheus); 0 means no limit"
    )


Base2Bytes = Annotated[int, BeforeValidator(_check_base2_bytes)]
Limit = Annotated[int, Field(ge=0)]


class RelabelConfig(_Strict):
    """One relabel rule, as in Prometheus' relabel_config; its defaults. What Prometheus
    refuses beyond the types (a replace without target_label...) is checked by the metrics
    wing (metrics/scrape_checks.py), which owns relabelling."""

    source_labels: list[str] = []
    separator: str = ";"
    regex: str = "(.*)"
    modulus: int = Field(default=0, ge=0)
    target_label: str = ""
    replacement: str = "$1"
    action: str = "replace"


# Prometheus' per-scrape limits, in scrape_config and (defaults for every job) in `global:`,
# here `metrics:`; 0 means no limit
LIMIT_NAMES = (
    "sample_limit",
    "target_limit",
    "label_limit",
    "label_name_length_limit",
    "label_value_length_limit",
    "body_size_limit",
    "keep_dropped_targets",
)


class ScrapeConfig(HttpClientConfig):
    """One scrape job, as in Prometheus' scrape_config (targets from static_configs, and
    from service discovery), with its relabelling and per-scrape limits."""

    job_name: JobName
    static_configs: list[StaticConfig] = []
    file_sd_configs: list[FileSDConfig] = []
    http_sd_configs: list[HttpSDConfig] = []
    kubernetes_sd_configs: list[KubernetesSDConfig] = []
    metrics_path: MetricsPath = "/metrics"
    scheme: Literal["http", "https"] = "http"
    scrape_interval: Duration | None = Field(default=None, gt=0)
    scrape_timeout: Duration | None = Field(default=None, gt=0)
    honor_labels: bool = False
    honor_timestamps: bool = True
    params: dict[str, list[str]] = {}
    relabel_configs: list[RelabelConfig] = []
    metric_relabel_configs: list[RelabelConfig] = []
    sample_limit: Limit | None = None
    target_limit: Limit | None = None
    label_limit: Limit | None = None
    label_name_length_limit: Limit | None = None
    label_value_length_limit: Limit | None = None
    body_size_limit: Base2Bytes | None = None
    keep_dropped_targets: Limit | None = None

    def limit(self, name: str, defaults: MetricsConfig) -> int:
        """The job's limit `name` (one of LIMIT_NAMES), else the metrics default; 0: none."""
        own: int | None = getattr(self, name)
        if own is not None:
            return own
        default: int | None = getattr(defaults, name)
        return default or 0

    def interval(self, defaults: MetricsConfig) -> float:
        return self.scrape_interval or defaults.scrape_interval

    def timeout(self, defaults: MetricsConfig) -> float:
        """The scrape timeout; as in Prometheus, a default never exceeds the interval."""
        if self.scrape_timeout is not None:
            return self.scrape_timeout
        return min(defaults.scrape_timeout, self.interval(defaults))


class RemoteAuthConfig(HttpClientConfig):
    """Credentials for the remote Prometheus-compatible server."""


class QueryLimitsConfig(_Strict):
    """Bounds on one PromQL evaluation by the embedded engine (Prometheus' --query.* flags)."""

    max_samples: int = Field(default=20_000_000, ge=1000, le=1_000_000_000)
    max_concurrency: int = Field(default=4, ge=1, le=64)


MiB = 1 << 20


class IngestLimitsConfig(_Strict):
    """Bounds on what one push or remote-write request may bring, and on the series stored
    for series without a known tenant (tenants take theirs from the tier)."""

    max_body_size: Annotated[ByteSize, Field(ge=1024)] = ByteSize(16 * MiB)
    max_unpacked_size: Annotated[ByteSize, Field(ge=1024)] = ByteSize(32 * MiB)
    max_lines: int = Field(default=200_000, ge=1)
    max_series_per_request: int = Field(default=100_000, ge=1)
    max_samples_per_request: int = Field(default=1_000_000, ge=1)
    label_limit: int = Field(default=64, ge=2)
    label_name_length_limit: int = Field(default=1024, ge=16)
    label_value_length_limit: int = Field(default=2048, ge=16)
    max_series: int = Field(
        default=1_000_000, ge=1, description="series without a tenant label (or of no tenant)"
    )
    max_future: Duration = Field(default=600.0, gt=0)


class MetricsConfig(_Strict):
    """Where metrics live: the embedded store, or a remote Prometheus-compatible server."""

    backend: Literal["embedded", "remote"] = "embedded"
    url: HttpUrl | None = None
    remote_write_url: HttpUrl | None = None
    auth: RemoteAuthConfig = RemoteAuthConfig()
    remote_write_forward: bool | None = None
    flush_interval: Duration = Field(default=DEFAULT_FLUSH_INTERVAL, gt=0, le=300)
    data_dir: Path | None = None
    scrape_interval: Duration = Field(default=DEFAULT_SCRAPE_INTERVAL, gt=0)
    scrape_timeout: Duration = Field(default=DEFAULT_SCRAPE_TIMEOUT, gt=0)
    query: QueryLimitsConfig = QueryLimitsConfig()
    limits: IngestLimitsConfig = IngestLimitsConfig()
    # Prometheus' global scrape limits, the defaults of every scrape job (0: no limit)
    sample_limit: Limit = 0
    target_limit: Limit = 0
    label_limit: Limit = 0
    label_name_length_limit: Limit = 0
    label_value_length_limit: Limit = 0
    body_size_limit: Base2Bytes = 0
    keep_dropped_targets: Limit = 0

    @property
    def forwards_writes(self) -> bool:
        """True when ingested samples are also sent to the remote server by remote-write."""
        if self.backend != "remote":
            return False
        return True if self.remote_write_forward is None else self.remote_write_forward

"""The `metrics:` and `scrape_configs:` sections of tenantwatch.yml (a Prometheus subset).

Secrets (passwords, bearer tokens) are SecretStr, so they never show in a repr or a log;
the HTTP client options live in http_client_model, discovery in discovery_model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ByteSize, ConfigDict, Field

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
from tenantwatch.config.types import Duration, LabelsField
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
    labels: LabelsField = {}


class ScrapeConfig(HttpClientConfig):
    """One scrape job, as in Prometheus' scrape_config."""

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

    @property
    def forwards_writes(self) -> bool:
        """True when ingested samples are also sent to the remote server by remote-write."""
        if self.backend != "remote":
            return False
        return True if self.remote_write_forward is None else self.remote_write_forward

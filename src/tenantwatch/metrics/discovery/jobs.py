"""Which discovery providers a scrape job needs, each under a key that changes exactly when
its section does, and how each is built."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tenantwatch.config.discovery_model import FileSDConfig, HttpSDConfig, KubernetesSDConfig
from tenantwatch.config.metrics_model import ScrapeConfig, StaticConfig
from tenantwatch.metrics.discovery.file import FileProvider
from tenantwatch.metrics.discovery.http import HttpProvider
from tenantwatch.metrics.discovery.kubernetes.connection import SERVICE_ACCOUNT_DIR
from tenantwatch.metrics.discovery.kubernetes.provider import KubernetesProvider
from tenantwatch.metrics.discovery.provider import Provider, StaticProvider
from tenantwatch.metrics.target_groups import TargetGroup

SdConfig = FileSDConfig | HttpSDConfig | KubernetesSDConfig | tuple[StaticConfig, ...]


@dataclass(frozen=True, slots=True)
class ProviderKey:
    """One provider of one job: its section's kind and a digest of the section (secrets
    included, so a changed token restarts the provider; the digest keeps them out of a
    repr)."""

    job: str
    kind: str
    digest: str


def static_groups(configs: Sequence[StaticConfig]) -> list[TargetGroup]:
    """static_configs as groups sourced by index, as Prometheus' StaticConfig provider."""
    return [
        TargetGroup(
            str(i),
            tuple((("__address__", target),) for target in c.targets),
            tuple(sorted(c.labels.items())),
        )
        for i, c in enumerate(configs)
    ]


def provider_configs(job: ScrapeConfig) -> dict[ProviderKey, SdConfig]:
    """The providers a job needs, by key. A job always has its static provider (perhaps of
    no groups), so scraping hears of every job."""
    out: dict[ProviderKey, SdConfig] = {}
    static = tuple(job.static_configs)
    key = "[" + ",".join(c.model_dump_json() for c in static) + "]"
    out[ProviderKey(job.job_name, "static", _digest(key))] = static
    sections: list[tuple[str, Sequence[FileSDConfig | HttpSDConfig | KubernetesSDConfig]]] = [
        ("file", job.file_sd_configs),
        ("http", job.http_sd_configs),
        ("kubernetes", job.kubernetes_sd_configs),
    ]
    for kind, configs in sections:
        for config in configs:
            # the dump masks secrets: add their values, or two tokens would look the same
            dumped = config.model_dump_json() + repr(_secrets(config))
            out[ProviderKey(job.job_name, kind, _digest(dumped))] = config
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _secrets(config: FileSDConfig | HttpSDConfig | KubernetesSDConfig) -> tuple[str, ...]:
    if isinstance(config, FileSDConfig):
        return ()
    values = [config.bearer_token.get_secret_value() if config.bearer_token else ""]
    if config.basic_auth is not None and config.basic_auth.password is not None:
        values.append(config.basic_auth.password.get_secret_value())
    if config.authorization is not None and config.authorization.credentials is not None:
        values.append(config.authorization.credentials.get_secret_value())
    return tuple(values)


@dataclass(frozen=True, slots=True)
class ProviderFactory:
    """Builds the provider of a section. `base_dir` is where relative file_sd paths start
    (the config file's directory, as in Prometheus); `env` holds KUBERNETES_SERVICE_HOST
    and _PORT for in-cluster discovery (the entry point passes its environment)."""

    base_dir: Path = Path(".")
    env: Mapping[str, str] = field(default_factory=dict)
    file_poll_interval: float = 1.0
    service_account_dir: Path = SERVICE_ACCOUNT_DIR

    def __call__(self, config: SdConfig) -> Provider:
        if isinstance(config, tuple):
            return StaticProvider(static_groups(config))
        if isinstance(config, FileSDConfig):
            return FileProvider(
                config, base_dir=self.base_dir, poll_interval=self.file_poll_interval
            )
        if isinstance(config, HttpSDConfig):
            return HttpProvider(config)
        return KubernetesProvider(config, env=self.env, account_dir=self.service_account_dir)

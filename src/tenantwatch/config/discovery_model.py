"""Service discovery sections of a scrape job: file_sd_configs, http_sd_configs and
kubernetes_sd_configs, checked as Prometheus checks them (its messages where they help).

A kubernetes_sd_config without `api_server` and `kubeconfig_file` connects in-cluster,
as Prometheus does: KUBERNETES_SERVICE_HOST / _PORT and the service account's token and
CA files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tenantwatch.config.http_client_model import HttpClientConfig, TlsConfig
from tenantwatch.config.types import Duration

DEFAULT_FILE_SD_REFRESH = 300.0
DEFAULT_HTTP_SD_REFRESH = 60.0

ROLES = ("pod", "service", "endpoints", "endpointslice", "node")
Role = Literal["pod", "service", "endpoints", "endpointslice", "node"]

# Prometheus' patFileSDName: a glob only in the last path element, a JSON or YAML suffix
_FILE_SD_NAME = re.compile(r"^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$")

# the selectors each role may carry (Prometheus' allowedSelectors)
ALLOWED_SELECTORS: dict[str, tuple[str, ...]] = {
    "pod": ("pod", "node"),
    "service": ("service",),
    "endpoints": ("pod", "service", "endpoints"),
    "endpointslice": ("pod", "service", "endpointslice"),
    "node": ("node",),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_file_pattern(value: str) -> str:
    if not _FILE_SD_NAME.match(value):
        raise ValueError(
            f"path name {value!r} is not valid for file discovery: name '.json', '.yml' or "
            "'.yaml' files, with a '*' only in the last path element (e.g. 'targets/*.yml')"
        )
    return value


def _check_sd_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("URL scheme must be 'http' or 'https'")
    if not parts.hostname:
        raise ValueError("host is missing in URL")
    return value


FilePattern = Annotated[str, AfterValidator(_check_file_pattern)]
SdUrl = Annotated[str, AfterValidator(_check_sd_url)]


class FileSDConfig(_Strict):
    """Target files (YAML or JSON), re-read when they change and every refresh_interval."""

    files: list[FilePattern]
    refresh_interval: Duration = Field(default=DEFAULT_FILE_SD_REFRESH, gt=0)

    @model_validator(mode="after")
    def _some_file(self) -> FileSDConfig:
        if not self.files:
            raise ValueError("file service discovery config must contain at least one path name")
        return self


class HttpSDConfig(HttpClientConfig):
    """An HTTP endpoint answering Prometheus' http_sd JSON, fetched every refresh_interval."""

    url: SdUrl
    refresh_interval: Duration = Field(default=DEFAULT_HTTP_SD_REFRESH, gt=0)


class NamespaceDiscovery(_Strict):
    own_namespace: bool = False
    names: list[str] = []


# a label key: an optional DNS prefix and '/', then a name of letters, digits, '-', '_', '.'
_KEY = r"(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_LABEL_TERM = re.compile(
    rf"^\s*(?:!?\s*{_KEY}|{_KEY}\s*(?:==?|!=)\s*{_VALUE}"
    rf"|{_KEY}\s+(?:in|notin)\s*\(\s*{_VALUE}(?:\s*,\s*{_VALUE})*\s*\))\s*$"
)
_FIELD_TERM = re.compile(r"^\s*[A-Za-z0-9_.]+\s*(?:==?|!=)\s*[^,=!]*\s*$")


def _terms(selector: str) -> list[str]:
    """A selector's comma-separated terms; commas inside 'in (...)' do not separate."""
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    return [*terms, current]


def _check_label_selector(value: str) -> str:
    for term in _terms(value) if value else []:
        if not _LABEL_TERM.match(term):
            raise ValueError(
                f"unable to parse label selector term {term.strip()!r}; write terms such as "
                "'app=api', 'tier!=cache', 'env in (prod,staging)' or '!canary', "
                "separated by commas"
            )
    return value


def _check_field_selector(value: str) -> str:
    for term in _terms(value) if value else []:
        if not _FIELD_TERM.match(term):
            raise ValueError(
                f"invalid field selector term {term.strip()!r}; write terms such as "
                "'status.phase=Running' or 'metadata.name!=api', separated by commas"
            )
    return value


class SelectorConfig(_Strict):
    """A label and/or field selector the API server applies to one role's objects."""

    role: Role
    label: Annotated[str, AfterValidator(_check_label_selector)] = ""
    field: Annotated[str, AfterValidator(_check_field_selector)] = ""


class AttachMetadataConfig(_Strict):
    node: bool = False


class KubernetesSDConfig(HttpClientConfig):
    """Targets from the Kubernetes API (list, then watch) for one role."""

    role: str = ""
    api_server: SdUrl | None = None
    kubeconfig_file: Path | None = None
    namespaces: NamespaceDiscovery = NamespaceDiscovery()
    selectors: list[SelectorConfig] = []
    attach_metadata: AttachMetadataConfig = AttachMetadataConfig()

    @model_validator(mode="after")
    def _as_prometheus_checks_it(self) -> KubernetesSDConfig:
        problem = kubernetes_sd_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def has_custom_http_client(self) -> bool:
        """Whether any authentication or TLS option is given."""
        return (
            self.basic_auth is not None
            or self.authorization is not None
            or self.bearer_token is not None
            or self.bearer_token_file is not None
            or self.tls_config != TlsConfig()
        )


def kubernetes_sd_problem(c: KubernetesSDConfig) -> str | None:
    """Why Prometheus would refuse this kubernetes_sd_config, or None (its checks, in its
    order, with the fix added where the message alone does not say it)."""
    if not c.role:
        return "role missing (one of: pod, service, endpoints, endpointslice, node)"
    if c.role not in ROLES:
        return f"unknown Kubernetes SD role {c.role!r}; use one of: {', '.join(ROLES)}"
    if c.api_server is not None and c.kubeconfig_file is not None:
        return "cannot use 'kubeconfig_file' and 'api_server' simultaneously"
    if c.kubeconfig_file is not None and c.has_custom_http_client:
        return (
            "cannot use a custom HTTP client configuration together with 'kubeconfig_file'; "
            "put the credentials in the kubeconfig file"
        )
    if c.api_server is None and c.kubeconfig_file is None and c.has_custom_http_client:
        return (
            "to use custom HTTP client configuration please provide the 'api_server' URL "
            "explicitly (in-cluster discovery uses the service account's token and CA)"
        )
    if c.api_server is not None and c.namespaces.own_namespace:
        return "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously"
    if c.kubeconfig_file is not None and c.namespaces.own_namespace:
        return "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously"
    seen: set[str] = set()
    allowed = ALLOWED_SELECTORS[c.role]
    for selector in c.selectors:
        if selector.role in seen:
            return f"duplicated selector role: {selector.role}"
        seen.add(selector.role)
        if selector.role not in allowed:
            return f"{c.role} role supports only {', '.join(allowed)} selectors"
    return None

"""Where and how to reach the Kubernetes API for one kubernetes_sd_config: `api_server` with
the section's own credentials, a kubeconfig file, or in-cluster (KUBERNETES_SERVICE_HOST /
_PORT with the service account's token and CA), as Prometheus chooses."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tenantwatch.config.discovery_model import KubernetesSDConfig
from tenantwatch.metrics.http_auth import (
    HttpAuth,
    TlsSettings,
    auth_from_config,
    authorization_header,
    ssl_context,
)

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeConnectionError(Exception):
    """The API cannot be reached as configured; the message says what to set."""


@dataclass(frozen=True, slots=True)
class Connection:
    """The API's base URL and how to authenticate; files are read per request, so a
    rotated service account token is picked up."""

    base_url: str
    auth: HttpAuth | None = None
    tls: TlsSettings = field(default_factory=TlsSettings)
    ca_data: str | None = None
    own_namespace: str | None = None

    def authorization(self) -> str | None:
        """The Authorization header. Raise CredentialsError when a file cannot be read."""
        return authorization_header(self.auth)

    def ssl(self) -> ssl.SSLContext | bool:
        """The TLS context for https, or True for the default verification."""
        if self.ca_data is not None:
            context = ssl.create_default_context(cadata=self.ca_data)
            if self.tls.cert_file is not None and self.tls.key_file is not None:
                context.load_cert_chain(str(self.tls.cert_file), str(self.tls.key_file))
            if self.tls.insecure_skip_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            return context
        return True if self.tls.is_default else ssl_context(self.tls)


def connection_for(
    config: KubernetesSDConfig,
    env: Mapping[str, str],
    account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> Connection:
    """The connection a section asks for. Raise KubeConnectionError when in-cluster settings
    or the kubeconfig file are missing or unusable."""
    if config.api_server is not None:
        return Connection(
            config.api_server.rstrip("/"),
            auth_from_config(config),
            TlsSettings.of(config.tls_config),
        )
    if config.kubeconfig_file is not None:
        return kubeconfig_connection(config.kubeconfig_file)
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise KubeConnectionError(
            "not running in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
            "are not set); give 'api_server' or 'kubeconfig_file' in kubernetes_sd_configs"
        )
    own = None
    if config.namespaces.own_namespace:
        try:
            own = (account_dir / "namespace").read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise KubeConnectionError(
                f"cannot read the pod's namespace from {account_dir / 'namespace'}: {exc}"
            ) from None
    host = f"[{host}]" if ":" in host else host
    return Connection(
        f"https://{host}:{port}",
        HttpAuth("Bearer", secret_file=account_dir / "token"),
        TlsSettings(ca_file=account_dir / "ca.crt"),
        own_namespace=own,
    )


def kubeconfig_connection(path: Path) -> Connection:
    """The current context's cluster and user in a kubeconfig file (server, CA, token,
    basic auth or client certificate files). Raise KubeConnectionError for what it lacks."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KubeConnectionError(f"cannot read kubeconfig_file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise KubeConnectionError(f"kubeconfig_file {path} is not a kubeconfig (no mapping)")
    context_name = data.get("current-context")
    context = _named(data, "contexts", context_name, "context", path)
    cluster = _named(data, "clusters", context.get("cluster"), "cluster", path)
    user = _named(data, "users", context.get("user"), "user", path, required=False)
    server = cluster.get("server")
    if not isinstance(server, str) or not server:
        raise KubeConnectionError(f"kubeconfig_file {path}: the cluster has no 'server'")
    base = path.parent
    ca_data = None
    if cluster.get("certificate-authority-data"):
        ca_data = base64.b64decode(cluster["certificate-authority-data"]).decode()
    tls = TlsSettings(
        ca_file=_file(base, cluster.get("certificate-authority")),
        cert_file=_file(base, user.get("client-certificate")),
        key_file=_file(base, user.get("client-key")),
        insecure_skip_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
    )
    for unsupported in ("exec", "auth-provider", "client-certificate-data", "client-key-data"):
        if user.get(unsupported):
            raise KubeConnectionError(
                f"kubeconfig_file {path}: the user's {unsupported!r} is not supported; use a "
                "token, tokenFile, username/password or client-certificate/client-key files"
            )
    auth = None
    if user.get("token"):
        auth = HttpAuth("Bearer", secret=str(user["token"]))
    elif user.get("tokenFile"):
        auth = HttpAuth("Bearer", secret_file=_file(base, user["tokenFile"]))
    elif user.get("username"):
        auth = HttpAuth(
            "Basic", username=str(user["username"]), secret=str(user.get("password", ""))
        )
    return Connection(server.rstrip("/"), auth, tls, ca_data=ca_data)


def _named(
    data: Mapping[str, Any], section: str, name: object, key: str, path: Path, required: bool = True
) -> Mapping[str, Any]:
    for entry in data.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            found = entry.get(key) or {}
            if isinstance(found, dict):
                return found
    if required:
        raise KubeConnectionError(f"kubeconfig_file {path}: no {key} named {name!r} in {section!r}")
    return {}


def _file(base: Path, value: object) -> Path | None:
    if not value:
        return None
    path = Path(str(value))
    return path if path.is_absolute() else base / path

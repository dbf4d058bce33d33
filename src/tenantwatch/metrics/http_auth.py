"""Credentials and TLS for outgoing metric requests (scrapes, the remote backend).

Files named in the config (password_file, credentials_file, ca_file) are read when a
request is made, as Prometheus does, so rotated secrets are picked up without a restart.
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from pathlib import Path

from tenantwatch.config.http_client_model import HttpClientConfig, TlsConfig


class CredentialsError(Exception):
    """A credentials file cannot be read; the message names the file, never its content."""


@dataclass(frozen=True, slots=True)
class HttpAuth:
    """How to fill the Authorization header. Secrets stay out of repr."""

    scheme: str
    username: str | None = None
    secret: str | None = None
    secret_file: Path | None = None

    def __repr__(self) -> str:
        return f"HttpAuth(scheme={self.scheme!r}, username={self.username!r})"


def auth_from_config(config: HttpClientConfig) -> HttpAuth | None:
    """The Authorization a config section asks for, or None."""
    if config.basic_auth is not None:
        basic = config.basic_auth
        return HttpAuth(
            "Basic",
            username=basic.username,
            secret=basic.password.get_secret_value() if basic.password else None,
            secret_file=basic.password_file,
        )
    authz = config.effective_authorization()
    if authz is not None:
        return HttpAuth(
            authz.type,
            secret=authz.credentials.get_secret_value() if authz.credentials else None,
            secret_file=authz.credentials_file,
        )
    return None


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CredentialsError(f"cannot read credentials file {path}: {reason}") from None


def resolve_secret(auth: HttpAuth) -> str:
    """The password or token, read from its file when it has one. Raise CredentialsError."""
    if auth.secret_file is not None:
        return _read_secret(auth.secret_file)
    return auth.secret or ""


def authorization_header(auth: HttpAuth | None) -> str | None:
    """The Authorization header value. Raise CredentialsError when a file cannot be read."""
    if auth is None:
        return None
    secret = resolve_secret(auth)
    if auth.scheme == "Basic":
        pair = f"{auth.username or ''}:{secret or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    return f"{auth.scheme} {secret or ''}"


@dataclass(frozen=True, slots=True)
class TlsSettings:
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False

    @staticmethod
    def of(config: TlsConfig) -> TlsSettings:
        return TlsSettings(
            config.ca_file,
            config.cert_file,
            config.key_file,
            config.server_name,
            config.insecure_skip_verify,
        )

    @property
    def is_default(self) -> bool:
        return self == TlsSettings()


def ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    """An SSL context for the settings. Raise CredentialsError when a file cannot be used."""
    try:
        context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
        if tls.cert_file is not None and tls.key_file is not None:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    except (OSError, ssl.SSLError) as exc:
        raise CredentialsError(f"cannot load TLS files: {exc}") from None
    if tls.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context

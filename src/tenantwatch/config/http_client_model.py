"""How tenantwatch authenticates to an HTTP endpoint it calls (scrape targets, the remote
backend, service discovery): Prometheus' http_client_config subset.

Secrets (passwords, bearer tokens) are SecretStr, so they never show in a repr or a log.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BasicAuthConfig(_Strict):
    username: str
    password: SecretStr | None = None
    password_file: Path | None = None

    @model_validator(mode="after")
    def _one_password(self) -> BasicAuthConfig:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give either password or password_file, not both")
        return self


class AuthorizationConfig(_Strict):
    type: str = "Bearer"
    credentials: SecretStr | None = None
    credentials_file: Path | None = None

    @model_validator(mode="after")
    def _one_credential(self) -> AuthorizationConfig:
        if self.credentials is not None and self.credentials_file is not None:
            raise ValueError("give either credentials or credentials_file, not both")
        if self.type.lower() == "basic":
            raise ValueError("authorization type 'Basic' is not allowed; use basic_auth instead")
        if not self.type or " " in self.type:
            raise ValueError(f"authorization type {self.type!r} must be one word, e.g. 'Bearer'")
        return self


class TlsConfig(_Strict):
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False

    @model_validator(mode="after")
    def _cert_and_key(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a client certificate needs both cert_file and key_file")
        return self


class HttpClientConfig(_Strict):
    """How to authenticate to an HTTP endpoint: at most one of the three ways."""

    basic_auth: BasicAuthConfig | None = None
    authorization: AuthorizationConfig | None = None
    bearer_token: SecretStr | None = None
    bearer_token_file: Path | None = None
    tls_config: TlsConfig = TlsConfig()

    @model_validator(mode="after")
    def _one_auth(self) -> HttpClientConfig:
        given = [
            name
            for name in ("basic_auth", "authorization", "bearer_token", "bearer_token_file")
            if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise ValueError(
                f"give at most one of basic_auth, authorization, bearer_token and "
                f"bearer_token_file (found {', '.join(given)})"
            )
        return self

    def effective_authorization(self) -> AuthorizationConfig | None:
        """The authorization, with the bearer_token shorthands spelled out."""
        if self.bearer_token is not None:
            return AuthorizationConfig(credentials=self.bearer_token)
        if self.bearer_token_file is not None:
            return AuthorizationConfig(credentials_file=self.bearer_token_file)
        return self.authorization

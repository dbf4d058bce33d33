"""The one typed Settings object, read from TENANTWATCH_* environment variables at the entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class Settings(BaseSettings):
    """Process settings. Built once by the CLI and passed down; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="TENANTWATCH_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite+aiosqlite under data_dir. "
        "PostgreSQL: postgresql+asyncpg://user@host/db",
    )
    listen: str = Field(default="127.0.0.1:8080", description="host:port for the HTTP server")
    config: Path | None = Field(default=None, description="path of tenantwatch.yml")
    data_dir: Path = Field(default=Path("var"), description="where local state is kept")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: readable lines in a terminal, JSON otherwise"
    )
    secret_key: SecretStr | None = Field(default=None, description="signs tokens and sessions")
    metrics_public: bool = Field(default=True, description="serve /metrics without a key")
    public_url: str | None = Field(default=None, description="external URL, for links")

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        """Accept sqlite and PostgreSQL URLs, in the async drivers' spelling or the plain one."""
        if value is None or not value.strip():
            return None
        example = "postgresql://user:password@host:5432/db or sqlite:///path/tenantwatch.db"
        try:
            url = make_url(value.strip())
            url.port  # noqa: B018 - parsing the port raises for 'host:notaport'
        except Exception:
            raise ValueError(f"not a database URL; write e.g. {example}") from None
        driver = _DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(
                f"unsupported database {url.drivername!r}; tenantwatch runs on SQLite and "
                f"PostgreSQL, e.g. {example}"
            )
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"listen must be host:port, e.g. 127.0.0.1:8080 (got {value!r})")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tenantwatch.db').resolve()}"

    @property
    def admin_key_file(self) -> Path:
        return self.data_dir / "admin-key"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.listen}"

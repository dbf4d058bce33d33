"""The `checks:` section of tenantwatch.yml; `/api/v1/checks` validates with the same models.

Each check names its tenant and kind, then the kind's own fields at the same level, as
in Gatus:

    checks:
      - id: acme-api
        tenant: acme
        kind: http
        url: https://api.acme.example/health
        conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from tenantwatch.config.errors import refusing
from tenantwatch.config.types import Duration
from tenantwatch.domain.check_specs import status_ranges
from tenantwatch.domain.checks import (
    DEFAULT_FAILURE_THRESHOLD,
    DEFAULT_SUCCESS_THRESHOLD,
    DEFAULT_TIMEOUT_S,
    MIN_INTERVAL_S,
    check_id_problem,
)
from tenantwatch.domain.conditions import ConditionError, parse_condition
from tenantwatch.domain.heartbeat import Schedule
from tenantwatch.domain.tenants import label_name_problem, tenant_id_problem


def _condition(text: str) -> str:
    try:
        parse_condition(text)
    except ConditionError as exc:
        raise ValueError(f"condition {text!r}, column {exc.column}: {exc}") from None
    return text


def _label_names_problem(value: dict[str, str]) -> str | None:
    return next(filter(None, map(label_name_problem, value)), None)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


CheckId = Annotated[str, refusing(check_id_problem)]
TenantRef = Annotated[str, refusing(tenant_id_problem)]
Conditions = list[Annotated[str, AfterValidator(_condition)]]


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: CheckId | None = Field(None, description="unique id; generated when left out (API)")
    tenant: TenantRef
    name: str = Field("", max_length=200, description="shown in tables; defaults to the id")
    interval: Duration | None = Field(None, description="default: the tenant tier's interval")
    timeout: Duration = DEFAULT_TIMEOUT_S
    jitter: Duration | None = Field(
        None, description="the longest random delay of a run; default: the whole interval"
    )
    failure_threshold: int = Field(DEFAULT_FAILURE_THRESHOLD, ge=1, le=100)
    success_threshold: int = Field(DEFAULT_SUCCESS_THRESHOLD, ge=1, le=100)
    conditions: Conditions = []
    critical: bool = Field(False, description="down makes the tenant unhealthy")
    enabled: bool = True
    labels: Annotated[dict[str, str], refusing(_label_names_problem)] = {}

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters (\\u0000)")
        return data

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: float | None) -> float | None:
        if value is not None and value < MIN_INTERVAL_S:
            raise ValueError("the shortest interval is 1s")
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: float) -> float:
        if not 0 < value <= 300:
            raise ValueError("timeout must be between 1ms and 5m")
        return value

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> _Common:
        if self.interval is not None and self.timeout > self.interval:
            raise ValueError(
                f"timeout ({self.timeout:g}s) is longer than interval ({self.interval:g}s); "
                "a run must end before the next one starts"
            )
        return self

    @property
    def check_kind(self) -> str:
        """The `kind` every concrete check model declares."""
        return str(getattr(self, "kind"))  # noqa: B009 - declared by each subclass

    @property
    def declared_token(self) -> str | None:
        """A heartbeat's ping token as given; None for other kinds."""
        return None

    def settings(self) -> dict[str, Any]:
        """The kind's own fields, as stored with the check."""
        return self.model_dump(mode="json", exclude=set(_Common.model_fields) | {"kind", "token"})


class BasicAuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    username: str
    password: str = Field(repr=False)


class HttpCheckConfig(_Common):
    kind: Literal["http"]
    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2000)]
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = {}
    body: str | None = None
    basic_auth: BasicAuthConfig | None = None
    bearer_token: str | None = Field(None, repr=False)
    expected_status: list[int | str] = ["200-399"]
    follow_redirects: bool = True
    verify_tls: bool = True
    ca_file: str | None = None

    @field_validator("expected_status")
    @classmethod
    def _statuses(cls, value: list[int | str]) -> list[int | str]:
        if not value:
            raise ValueError("list at least one expected status, e.g. [200]")
        status_ranges(value)
        return value


class TcpCheckConfig(_Common):
    kind: Literal["tcp"]
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(ge=1, le=65535)
    send: str | None = None
    expect: str | None = None


class DnsCheckConfig(_Common):
    kind: Literal["dns"]
    query_name: str = Field(min_length=1, max_length=253, description="the name to resolve")
    record_type: str = "A"
    nameserver: str | None = None
    expected_answers: list[str] | None = None
    expected_rcode: str = "NOERROR"


class TlsCheckConfig(_Common):
    kind: Literal["tls"]
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(443, ge=1, le=65535)
    server_name: str | None = None
    verify_chain: bool = True
    ca_file: str | None = None


class PostgresCheckConfig(_Common):
    kind: Literal["postgres"]
    dsn: str = Field(repr=False, pattern=r"^postgres(ql)?://")
    query: str = "SELECT 1"
    expected: str | None = None


class RedisCheckConfig(_Common):
    kind: Literal["redis"]
    url: str = Field(repr=False, pattern=r"^rediss?://")


class HeartbeatCheckConfig(_Common):
    kind: Literal["heartbeat"]
    period: Duration | None = Field(None, description="how often pings are expected")
    cron: str | None = Field(None, description="or a cron expression, e.g. '0 3 * * *'")
    tz: str = "UTC"
    grace: Duration = 3600.0
    token: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{16,64}$",
        repr=False,
        description="the ping URL's secret (16-64 letters, digits, - or _); generated if absent",
    )
    failure_threshold: int = Field(1, ge=1, le=100)
    success_threshold: int = Field(1, ge=1, le=100)

    @model_validator(mode="after")
    def _schedule(self) -> HeartbeatCheckConfig:
        if self.period is None and self.cron is None:
            raise ValueError("a heartbeat needs 'period' (e.g. 1h) or 'cron' (e.g. '0 3 * * *')")
        self.schedule()
        return self

    @property
    def declared_token(self) -> str | None:
        return self.token

    def schedule(self) -> Schedule:
        return Schedule(grace_s=self.grace, period_s=self.period, cron=self.cron, tz=self.tz)


class PythonCheckConfig(_Common):
    kind: Literal["python"]
    target: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module:function")
    args: dict[str, Any] = {}


CheckConfig = Annotated[
    HttpCheckConfig
    | TcpCheckConfig
    | DnsCheckConfig
    | TlsCheckConfig
    | PostgresCheckConfig
    | RedisCheckConfig
    | HeartbeatCheckConfig
    | PythonCheckConfig,
    Field(discriminator="kind"),
]

KIND_MODELS: dict[str, type[_Common]] = {
    "http": HttpCheckConfig,
    "tcp": TcpCheckConfig,
    "dns": DnsCheckConfig,
    "tls": TlsCheckConfig,
    "postgres": PostgresCheckConfig,
    "redis": RedisCheckConfig,
    "heartbeat": HeartbeatCheckConfig,
    "python": PythonCheckConfig,
}
SECRET_FIELDS = ("password", "bearer_token", "dsn", "url")

"""The alerting sections of tenantwatch.yml: rule_files, rules and alertmanager."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tenantwatch.config.types import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RulesConfig(_Strict):
    """How rules are evaluated (Prometheus' `global:` evaluation settings)."""

    evaluation_interval: Duration = Field(60.0, gt=0, description="default group interval")
    builtin: bool = Field(
        True,
        description="evaluate the built-in rule pack (check down, certificates expiring, "
        "heartbeat late, scrape target down); a rule of yours with the same alert name "
        "replaces the built-in one",
    )
    external_labels: dict[str, str] = Field(
        default_factory=dict, description="labels added to every alert sent"
    )
    external_url: str | None = Field(
        None, description="URL in alerts' generatorURL; default: the server's base URL"
    )
    resend_delay: Duration = Field(60.0, gt=0, description="re-send firing alerts this often")


class AlertmanagerSection(_Strict):
    """Alertmanager's configuration, inline (`config:`) or in its own file (`config_file:`)."""

    config_file: str | None = Field(None, description="an alertmanager.yml, relative to this file")
    config: dict[str, Any] | None = Field(
        None, description="Alertmanager's configuration written inline"
    )
    tenant_routes: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-tenant route subtrees, matched on tenant=<id> before the others",
    )
    allow_private_targets: list[str] = Field(
        default_factory=list,
        description="hosts or CIDRs notifications may reach although they are private "
        "(e.g. 127.0.0.1/32 for local receivers)",
    )
    external_url: str | None = Field(
        None, description="URL shown in notifications; default: the server's base URL"
    )
    escalation: EscalationConfig = Field(default_factory=lambda: EscalationConfig())
    flapping: FlappingConfig = Field(default_factory=lambda: FlappingConfig())
    delivery: DeliveryConfig = Field(default_factory=lambda: DeliveryConfig())


class InspectorConfig(_Strict):
    """Local receivers that record what they get (for demos; no authentication)."""

    enabled: bool = False
    smtp_port: int | None = Field(
        None, ge=1, le=65535, description="also run an SMTP sink on 127.0.0.1:<port>"
    )
    limit: int = Field(500, ge=1, le=100_000, description="requests kept")


class EscalationConfig(_Strict):
    """Seed 002's escalation: unacknowledged alerts reach more people as time passes.

    Policies per severity default to seed 002's ESCALATION_RULES scaled by the tenant's
    tier (see domain/escalation.py); `channels` maps its channel names (slack, email, sms,
    pagerduty) to Alertmanager receivers; `oncall` holds schedules that steps name as
    `oncall:<name>`, and `users` how to reach each person (a receiver).
    """

    enabled: bool = False
    channels: dict[str, str] = Field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    oncall: dict[str, dict[str, Any]] = Field(default_factory=dict)
    users: dict[str, str] = Field(default_factory=dict)


class FlappingConfig(_Strict):
    """An alert that changes state too often is `flapping`: it pages once, then digests."""

    enabled: bool = True
    window: Duration = Field(3600.0, gt=0)
    high_threshold: float = Field(50.0, gt=0, le=100)
    low_threshold: float = Field(25.0, ge=0, lt=100)
    digest_interval: Duration = Field(3600.0, gt=0)


class DeliveryConfig(_Strict):
    """How the notification outbox retries a failed send."""

    retry_for: Duration = Field(
        24 * 60.0,
        ge=0,
        description="retry a notification that fails until this long after its first "
        "attempt (the last try comes then), after which it is dead-lettered",
    )

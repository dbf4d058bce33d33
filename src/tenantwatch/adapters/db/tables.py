"""Table definitions (SQLAlchemy Core). Alembic migrations create and evolve them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from tenantwatch.adapters.db.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(63), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("tier", String(63), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("sla_overrides", JSON, nullable=False),
    Column("managed_by", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("tenant_id", String(63), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Index("ix_api_keys_tenant_id", "tenant_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(200), nullable=False),
    Column("tenant_id", String(63), nullable=True),
    Column("request_id", String(128), nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("note", Text, nullable=True),
    Index("ix_audit_log_tenant_id_id", "tenant_id", "id"),
    Index("ix_audit_log_at", "at"),
)

_BIGID = BigInteger().with_variant(Integer, "sqlite")

checks = Table(
    "checks",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("tenant_id", String(63), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("conditions", JSON, nullable=False),
    Column("interval_s", Float, nullable=True),
    Column("timeout_s", Float, nullable=False),
    Column("jitter_s", Float, nullable=True),
    Column("failure_threshold", Integer, nullable=False),
    Column("success_threshold", Integer, nullable=False),
    Column("critical", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("token", String(64), nullable=True, unique=True),
    Column("managed_by", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    Index("ix_checks_tenant_id_id", "tenant_id", "id"),
)

check_state = Table(
    "check_state",
    metadata,
    Column("check_id", String(100), ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True),
    Column("tenant_id", String(63), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("successes", Integer, nullable=False),
    Column("since", UtcDateTime, nullable=True),
    Column("last_run_at", UtcDateTime, nullable=True),
    Column("last_ok", Boolean, nullable=True),
    Column("last_duration_s", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("details", JSON, nullable=True),
    Column("last_slot", BigInteger, nullable=False),
    Column("worker", String(64), nullable=True),
    Column("hb_last_ping", UtcDateTime, nullable=True),
    Column("hb_last_start", UtcDateTime, nullable=True),
    Column("hb_last_fail", UtcDateTime, nullable=True),
    Column("hb_last_kind", String(16), nullable=True),
    Column("hb_last_duration_s", Float, nullable=True),
    Index("ix_check_state_tenant_id", "tenant_id"),
)

check_results = Table(
    "check_results",
    metadata,
    Column("id", _BIGID, primary_key=True, autoincrement=True),
    Column("check_id", String(100), nullable=False),
    Column("tenant_id", String(63), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("state", String(16), nullable=True),
    Column("duration_s", Float, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("conditions", JSON, nullable=False),
    Column("phases", JSON, nullable=False),
    Column("details", JSON, nullable=False),
    Index("ix_check_results_check_id_at", "check_id", "at"),
    Index("ix_check_results_tenant_id_at", "tenant_id", "at"),
)

check_events = Table(
    "check_events",
    metadata,
    Column("id", _BIGID, primary_key=True, autoincrement=True),
    Column("check_id", String(100), nullable=False),
    Column("tenant_id", String(63), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("old", String(16), nullable=False),
    Column("new", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_check_events_check_id_at", "check_id", "at"),
    Index("ix_check_events_tenant_id_at", "tenant_id", "at"),
)

check_rollups = Table(
    "check_rollups",
    metadata,
    Column("check_id", String(100), nullable=False),
    Column("tenant_id", String(63), nullable=False),
    Column("resolution", String(4), nullable=False),
    Column("bucket", UtcDateTime, nullable=False),
    Column("runs", Integer, nullable=False),
    Column("ok_runs", Integer, nullable=False),
    Column("duration_sum", Float, nullable=False),
    Column("duration_max", Float, nullable=False),
    PrimaryKeyConstraint("check_id", "resolution", "bucket", name="pk_check_rollups"),
)

heartbeat_pings = Table(
    "heartbeat_pings",
    metadata,
    Column("id", _BIGID, primary_key=True, autoincrement=True),
    Column("check_id", String(100), nullable=False),
    Column("tenant_id", String(63), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("exit_status", Integer, nullable=True),
    Column("remote_addr", String(64), nullable=True),
    Index("ix_heartbeat_pings_check_id_at", "check_id", "at"),
)

# --- alerting (issue 5) ---------------------------------------------------------------
# Times of the alert manager's own state are unix seconds (Float): they are compared and
# shipped as numbers on every hot path and never shown without formatting.

am_alerts = Table(
    "am_alerts",
    metadata,
    Column("fingerprint", String(16), primary_key=True),
    Column("tenant_id", String(63), nullable=True),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("generator_url", Text, nullable=False),
    Column("timeout", Boolean, nullable=False),
    Column("source", String(16), nullable=False),  # api | rules | custom
    Column("severity", String(16), nullable=True),
    Column("first_occurred", Float, nullable=False),
    Column("last_occurred", Float, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("transitions", JSON, nullable=False),  # flap detection state
    Column("flapping", Boolean, nullable=False),
    Column("escalated", JSON, nullable=False),  # escalation steps sent
    Column("ack_at", Float, nullable=True),
    Column("ack_by", String(200), nullable=True),
    Column("ack_until", Float, nullable=True),
    Column("ack_notes", Text, nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Column("resolution_notes", Text, nullable=True),
    Index("ix_am_alerts_tenant_id", "tenant_id"),
    Index("ix_am_alerts_ends_at", "ends_at"),
)

silences = Table(
    "silences",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(63), nullable=True),
    Column("matchers", JSON, nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("comment", Text, nullable=False),
    Column("recurrence", JSON, nullable=True),  # {"rrule": ..., "duration_s": ..., "timezone": ...}
    Column("end_on_resolve", Boolean, nullable=False),
    Column("matched_once", Boolean, nullable=False, default=False),
    Index("ix_silences_tenant_id", "tenant_id"),
    Index("ix_silences_ends_at", "ends_at"),
)

notification_log = Table(
    "notification_log",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256(receiver, integration, group_key)
    Column("receiver", String(200), nullable=False),
    Column("integration", String(64), nullable=False),
    Column("group_key", Text, nullable=False),
    Column("firing", JSON, nullable=False),
    Column("resolved", JSON, nullable=False),
    Column("at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

rule_alerts = Table(
    "rule_alerts",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256(group, rule index, labels)
    Column("group_key", String(500), nullable=False),  # file;group
    Column("rule", String(200), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("active_at", Float, nullable=False),
    Column("fired_at", Float, nullable=True),
    Column("resolved_at", Float, nullable=True),
    Column("keep_firing_since", Float, nullable=True),
    Column("last_sent_at", Float, nullable=True),
    Column("value", Float, nullable=False),
    Index("ix_rule_alerts_group_key", "group_key"),
)

rule_groups = Table(
    "rule_groups",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("tenant_id", String(63), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    Column("name", String(200), nullable=False),
    Column("source", Text, nullable=False),  # the group in Prometheus rule-file YAML
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_rule_groups_tenant_id", "tenant_id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", _BIGID, primary_key=True, autoincrement=True),
    Column("tenant_id", String(63), nullable=True),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("receiver", String(200), nullable=False),
    Column("integration", String(64), nullable=False),  # kind/index, e.g. webhook/0
    Column(
        "kind", String(16), nullable=False
    ),  # webhook slack email pagerduty twilio teams apprise
    Column("target", String(500), nullable=False),  # redacted destination, safe to show
    Column("group_key", Text, nullable=True),
    Column("fingerprints", JSON, nullable=True),  # the alerts carried; NULL before 0004
    Column("alert_status", String(16), nullable=False),  # firing | resolved | test
    Column("request", JSON, nullable=False),  # what to send; may hold secrets, never shown
    Column("status", String(16), nullable=False),  # pending sending sent dead superseded
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_until", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("last_attempt_at", Float, nullable=True),
    Column("sent_at", Float, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("latency_ms", Float, nullable=True),
    # sha256(receiver, integration, group_key): at most the oldest unsent one is sent
    Column("order_key", String(64), nullable=True),
    Column("role", String(16), nullable=False, server_default="notice"),  # domain/outbox_order
    Column("superseded_by", _BIGID, nullable=True),  # the newer one that replaced it
    Column("first_attempt_at", Float, nullable=True),  # retries go on for a time after it
    Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_notifications_tenant_id_id", "tenant_id", "id"),
    Index("ix_notifications_order_key_id", "order_key", "id"),
)

# Facts about this installation, one row each: which config file the server syncs from
instance_state = Table(
    "instance_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# the SLA credit ledger: one row per tenant and month (the month in the tenant's timezone);
# final once the month has ended, provisional while it runs
sla_credits = Table(
    "sla_credits",
    metadata,
    Column("tenant_id", String(63), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM
    Column("tier", String(63), nullable=False),
    Column("availability_percentage", String(16), nullable=True),  # Decimal as text, exact
    Column("credit_percentage", String(16), nullable=False),
    Column("final", Boolean, nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
)

# incidents (incidents/model.py): one row each, its affected tenants, linked alerts and
# timeline in their own tables
incidents = Table(
    "incidents",
    metadata,
    Column("id", String(24), primary_key=True),  # INC-20261207-0042
    Column("day", String(8), nullable=False),  # the id's date, for numbering
    Column("title", String(500), nullable=False),
    Column("severity", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("group_key", String(500), nullable=True),
    Column("services", JSON, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
    Column("mitigated_at", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("escalated_at", UtcDateTime, nullable=True),
    Column("reopened", Integer, nullable=False),
    Column("runbook", String(2000), nullable=True),
    Column("auto_resolve", Boolean, nullable=False),
    Column("created_by", String(200), nullable=False),
    Index("ix_incidents_status", "status"),
    Index("ix_incidents_group_key", "group_key"),
)
incident_tenants = Table(
    "incident_tenants",
    metadata,
    Column(
        "incident_id", String(24), ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("tenant_id", String(63), primary_key=True),
    Column("tier", String(63), nullable=True),
    Column("since", UtcDateTime, nullable=False),
    Index("ix_incident_tenants_tenant_id", "tenant_id"),
)
incident_alerts = Table(
    "incident_alerts",
    metadata,
    Column(
        "incident_id", String(24), ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("fingerprint", String(64), primary_key=True),
    Column("alertname", String(500), nullable=False),
    Column("tenant_id", String(63), nullable=True),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("firing", Boolean, nullable=False),
    Column("source", String(16), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=True),
    Index("ix_incident_alerts_fingerprint", "fingerprint"),
)
incident_timeline = Table(
    "incident_timeline",
    metadata,
    Column(
        "incident_id", String(24), ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("seq", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Column("pinned", Boolean, nullable=False),
)
incident_postmortems = Table(
    "incident_postmortems",
    metadata,
    Column(
        "incident_id", String(24), ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("markdown", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
)

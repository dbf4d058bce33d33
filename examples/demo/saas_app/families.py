"""The metric families the app exposes: seed 000's MetricsService plus what its alert rules read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True)
class Family:
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


REQUESTS = Family(
    "ai_shifu_requests_total",
    "counter",
    "Total number of HTTP requests",
    ("method", "endpoint", "status", "tenant"),
)
REQUEST_DURATION = Family(
    "ai_shifu_request_duration_seconds",
    "histogram",
    "HTTP request duration in seconds",
    ("method", "endpoint", "tenant"),
    (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ACTIVE_SESSIONS = Family(
    "ai_shifu_active_sessions", "gauge", "Number of active user sessions", ("tenant",)
)
INTERACTIONS = Family(
    "ai_shifu_interactions_total",
    "counter",
    "Total number of Shifu interactions",
    ("tenant", "shifu_type", "interaction_type"),
)
LLM_REQUESTS = Family(
    "ai_shifu_llm_requests_total",
    "counter",
    "Total LLM API requests",
    ("provider", "model", "tenant", "status"),
)
LLM_TOKENS = Family(
    "ai_shifu_llm_tokens_total",
    "counter",
    "Total LLM token usage",
    ("provider", "model", "tenant", "token_type"),
)
TOKEN_LIMIT = Family(
    "ai_shifu_tenant_token_limit",
    "gauge",
    "LLM tokens per second the tenant's plan allows (rules compare rate() of tokens with it)",
    ("tenant",),
)
DB_CONNECTIONS = Family(
    "ai_shifu_db_connections", "gauge", "Number of database connections", ("tenant", "pool")
)
DB_QUERY_DURATION = Family(
    "ai_shifu_db_query_duration_seconds",
    "histogram",
    "Database query duration in seconds",
    ("tenant", "operation"),
    (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
ERRORS = Family(
    "ai_shifu_errors_total",
    "counter",
    "Total number of errors",
    ("tenant", "service", "error_type"),
)
CACHE_HITS = Family(
    "ai_shifu_cache_hits_total", "counter", "Total cache hits", ("tenant", "cache_type")
)
CACHE_MISSES = Family(
    "ai_shifu_cache_misses_total", "counter", "Total cache misses", ("tenant", "cache_type")
)

# What cAdvisor reports for the tenants' pods; seed 000's HighCPUUsage and
# HighMemoryUsage rules select them with pod=~"ai-shifu-.*".
_POD_LABELS = ("namespace", "pod", "container", "tenant")
CONTAINER_CPU = Family(
    "container_cpu_usage_seconds_total",
    "counter",
    "Cumulative cpu time consumed in seconds.",
    _POD_LABELS,
)
CONTAINER_MEMORY = Family(
    "container_memory_working_set_bytes",
    "gauge",
    "Current working set in bytes.",
    _POD_LABELS,
)
CONTAINER_MEMORY_LIMIT = Family(
    "container_spec_memory_limit_bytes",
    "gauge",
    "Memory limit for the container.",
    _POD_LABELS,
)

FAMILIES: tuple[Family, ...] = (
    REQUESTS,
    REQUEST_DURATION,
    ACTIVE_SESSIONS,
    INTERACTIONS,
    LLM_REQUESTS,
    LLM_TOKENS,
    TOKEN_LIMIT,
    DB_CONNECTIONS,
    DB_QUERY_DURATION,
    ERRORS,
    CACHE_HITS,
    CACHE_MISSES,
    CONTAINER_CPU,
    CONTAINER_MEMORY,
    CONTAINER_MEMORY_LIMIT,
)

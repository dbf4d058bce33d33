"""Ingest limits: what one push or remote-write request may bring, and series per tenant.

Requests over a size cap are refused with 413; a series or sample over a limit refuses the
whole request with 400 (as Prometheus' remote-write 1.0 receiver rolls a request back on
its first bad sample), so nothing of a refused request is stored. The messages are
Prometheus' where it has one: its scrape label limits (`scrape/scrape.go`) and its
remote-write and TSDB append errors (`storage/remote/write_handler.go`, `storage/errors.go`).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

from tenantwatch import jsonio
from tenantwatch.config.metrics_model import IngestLimitsConfig
from tenantwatch.domain.tiers import TierCatalog
from tenantwatch.gotext.floats import format_g
from tenantwatch.metrics.tenancy import TENANT
from tenantwatch.promql.model import METRIC_NAME, format_labels
from tenantwatch.types import Labels

# reasons, the `reason` label of tenantwatch_samples_rejected_total
BODY_TOO_LARGE = "body_too_large"
UNPACKED_TOO_LARGE = "unpacked_too_large"
TOO_MANY_LINES = "too_many_lines"
TOO_MANY_SERIES = "too_many_series_in_request"
TOO_MANY_SAMPLES = "too_many_samples_in_request"
LABEL_LIMIT = "label_limit"
LABEL_NAME_LENGTH = "label_name_length_limit"
LABEL_VALUE_LENGTH = "label_value_length_limit"
SERIES_LIMIT = "series_limit"
OUT_OF_BOUNDS = "out_of_bounds"
TOO_OLD = "too_old_sample"
DUPLICATE = "duplicate_sample_for_timestamp"
REASONS = (
    BODY_TOO_LARGE,
    UNPACKED_TOO_LARGE,
    TOO_MANY_LINES,
    TOO_MANY_SERIES,
    TOO_MANY_SAMPLES,
    LABEL_LIMIT,
    LABEL_NAME_LENGTH,
    LABEL_VALUE_LENGTH,
    SERIES_LIMIT,
    OUT_OF_BOUNDS,
    TOO_OLD,
    DUPLICATE,
)


_DOUBLE = struct.Struct("<d")


class Rejected(ValueError):
    """A request refused by a limit; nothing of it is stored. `samples` is how many samples
    it carried, when they were counted (0 when it was refused before parsing)."""

    def __init__(self, reason: str, message: str, *, status: int = 400, samples: int = 0):
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.samples = samples


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """Per request: bytes on the wire and unpacked, text lines, series and samples; per
    series: labels and their lengths (bytes, as Prometheus counts them); per sample: how
    far ahead of the server's clock its timestamp may be."""

    max_body_bytes: int = 16 << 20
    max_unpacked_bytes: int = 32 << 20
    max_lines: int = 200_000
    max_series_per_request: int = 100_000
    max_samples_per_request: int = 1_000_000
    label_limit: int = 64
    label_name_length_limit: int = 1024
    label_value_length_limit: int = 2048
    max_future_ms: int = 600_000

    @classmethod
    def of(cls, config: IngestLimitsConfig) -> IngestLimits:
        return cls(
            max_body_bytes=int(config.max_body_size),
            max_unpacked_bytes=int(config.max_unpacked_size),
            max_lines=config.max_lines,
            max_series_per_request=config.max_series_per_request,
            max_samples_per_request=config.max_samples_per_request,
            label_limit=config.label_limit,
            label_name_length_limit=config.label_name_length_limit,
            label_value_length_limit=config.label_value_length_limit,
            max_future_ms=round(config.max_future * 1000),
        )


def _utf8_len(text: str, limit: int) -> int:
    """len(text.encode()), computed only when it can pass limit."""
    n = len(text)
    return n if n * 4 <= limit or n > limit else len(text.encode())


def _go_quote(text: str) -> str:
    return jsonio.dumps(text, ascii_only=False)


def check_label_limits(labels: Labels, limits: IngestLimits) -> None:
    """Raise Rejected when a label set breaks a label limit, in Prometheus' words."""
    if len(labels) > limits.label_limit:
        raise Rejected(
            LABEL_LIMIT,
            f"label_limit exceeded (metric: {_metric(labels):.50}, number of labels: "
            f"{len(labels)}, limit: {limits.label_limit})",
        )
    name_limit, value_limit = limits.label_name_length_limit, limits.label_value_length_limit
    for name, value in labels:
        if len(name) > name_limit // 4 and (length := _utf8_len(name, name_limit)) > name_limit:
            raise Rejected(
                LABEL_NAME_LENGTH,
                f"label_name_length_limit exceeded (metric: {_metric(labels):.50}, label name: "
                f"{name:.50}, length: {length}, limit: {name_limit})",
            )
        if (
            len(value) > value_limit // 4
            and (length := _utf8_len(value, value_limit)) > value_limit
        ):
            raise Rejected(
                LABEL_VALUE_LENGTH,
                f"label_value_length_limit exceeded (metric: {_metric(labels):.50}, label "
                f"name: {name:.50}, value: {_go_quote(value[:50])}, length: {length}, limit: "
                f"{value_limit})",
            )


def _metric(labels: Labels) -> str:
    for name, value in labels:
        if name == METRIC_NAME:
            return value
    return ""


def show_series(labels: Labels) -> str:
    """The series as Prometheus prints it, cut short when long."""
    text = format_labels(labels)
    return text if len(text) <= 240 else text[:240] + "...}"


def duplicate_message(labels: Labels, t: int, existing: float, new: float) -> str:
    return (
        f"duplicate sample for timestamp {t}; overrides not allowed: existing {format_g(existing)}, "
        f"new value {format_g(new)} for series {show_series(labels)}"
    )


def same_value(a: float, b: float) -> bool:
    """Bit for bit, as Prometheus compares a repeated sample (a stale marker is not the
    NaN a client sent)."""
    return _DOUBLE.pack(a) == _DOUBLE.pack(b)


class SeriesLimits:
    """How many series each tenant may keep in the store: its tier's max_series, or its own
    override; series without a tenant label, or of a tenant not (yet) known, share one
    budget. Call update() when tenants or their tiers change."""

    def __init__(
        self,
        tiers: TierCatalog,
        *,
        default: int,
        overrides: Mapping[str, int] | None = None,
    ) -> None:
        self.tiers = tiers
        self.default = default
        self.overrides = dict(overrides or {})
        self.by_tenant: Mapping[str, int] = {}

    def update(self, tenant_tiers: Mapping[str, str]) -> None:
        """Take the tier of every tenant (tenant id -> tier name)."""
        out = {}
        for tenant, tier_name in tenant_tiers.items():
            tier = self.tiers.get(tier_name)
            limit = self.overrides.get(tenant) or (tier.max_series if tier else None)
            if limit is not None:
                out[tenant] = limit
        self.by_tenant = out

    def tenant_of(self, labels: Labels, budgets: Mapping[str, int] | None = None) -> str | None:
        """The tenant whose budget a series counts against (None: the shared one), among
        `budgets` (by default the current by_tenant)."""
        known = self.by_tenant if budgets is None else budgets
        for name, value in labels:
            if name == TENANT:
                return value if value in known else None
            if name > TENANT:
                return None
        return None

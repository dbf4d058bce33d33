"""Alerts as Alertmanager holds them: identity by label set, API defaults, merge on re-send.

An alert is identified by its label set (its fingerprint: FNV-1a 64 over the sorted
label names and values, as Prometheus' model.LabelSet.Fingerprint, printed as 16 hex
digits). A POSTed alert without `startsAt` starts now (or at its `endsAt`); without
`endsAt` it times out after `resolve_timeout`. A re-sent alert whose activity overlaps the
stored one is merged: the earliest start wins, and the younger alert's end unless an
older explicit end is later.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tenantwatch.gotext.quote import quote
from tenantwatch.types import Labels, is_label_name

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1
_SEP = 0xFF


def fingerprint(labels: Mapping[str, str]) -> str:
    """Prometheus' LabelSet fingerprint of the labels, as Alertmanager prints it."""
    return _fingerprint(tuple(sorted(labels.items())))


@functools.lru_cache(maxsize=1 << 16)  # alerts are re-sent with the same labels all day
def _fingerprint(pairs: Labels) -> str:
    h = _FNV_OFFSET
    for name, value in pairs:
        h = _fnv_pair(h, name, value)
    return f"{h:016x}"


@functools.lru_cache(maxsize=1 << 16)
def _fnv_pair(h: int, name: str, value: str) -> int:
    """The FNV-1a state after `name\xffvalue\xff` from state h. Label sets share their
    leading pairs (alertname, job, ...), so the state after them is mostly cached."""
    data = (
        name.encode("utf-8", "surrogateescape")
        + b"\xff"
        + value.encode("utf-8", "surrogateescape")
        + b"\xff"
    )
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return h


def labels_string(labels: Mapping[str, str]) -> str:
    """model.LabelSet.String(): `{a="1", b="2"}`, the `name="value"` items sorted as text."""
    return "{" + ", ".join(sorted(f"{k}={quote(v)}" for k, v in labels.items())) + "}"


@dataclass(frozen=True, slots=True)
class AmAlert:
    labels: Labels
    annotations: Labels
    starts_at: float
    ends_at: float
    updated_at: float
    generator_url: str = ""
    timeout: bool = False
    fingerprint: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.fingerprint:
            labels = self.labels
            if any(labels[i][0] >= labels[i + 1][0] for i in range(len(labels) - 1)):
                labels = tuple(sorted(labels))
            object.__setattr__(self, "fingerprint", _fingerprint(labels))

    @classmethod
    def of(
        cls,
        *,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
        starts_at: float,
        ends_at: float,
        updated_at: float,
        generator_url: str = "",
        timeout: bool = False,
    ) -> AmAlert:
        return cls(
            tuple(sorted(labels.items())),
            tuple(sorted(annotations.items())),
            starts_at,
            ends_at,
            updated_at,
            generator_url,
            timeout,
        )

    @staticmethod
    def fingerprint_of(labels: Mapping[str, str]) -> str:
        return fingerprint(labels)

    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def annotation_map(self) -> dict[str, str]:
        return dict(self.annotations)

    def resolved_at(self, now: float) -> bool:
        """Alertmanager's ResolvedAt: an end is set and is not after now."""
        return self.ends_at != 0 and self.ends_at <= now

    def status(self, now: float) -> str:
        return "resolved" if self.resolved_at(now) else "firing"


def _bad_name(names: Iterable[str]) -> str | None:
    return min((n for n in names if not is_label_name(n)), default=None)


def _bad_value(values: Iterable[str]) -> str | None:
    for value in values:
        if value.isascii():
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value
    return None


def _pair_problem(pairs: Mapping[str, str]) -> str | None:
    """model.LabelSet.Validate (names in sorted order, so the message is stable)."""
    name = _bad_name(pairs)
    if name is not None:
        return f"invalid name {quote(name)}"
    value = _bad_value(pairs.values())
    if value is not None:
        return f"invalid value {quote(value)}"
    return None


def _defaults(
    starts_at: float | None, ends_at: float | None, now: float, resolve_timeout_s: float
) -> tuple[float, float, bool]:
    """(start, end, timeout) as the v2 API fills them in (api.go postAlertsHandler)."""
    start = starts_at or (ends_at or now)
    if ends_at:
        return start, ends_at, False
    return start, now + resolve_timeout_s, True


def validate_posted(
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    starts_at: float | None,
    ends_at: float | None,
    *,
    now: float | None = None,
    resolve_timeout_s: float = 300.0,
) -> str | None:
    """Why Alertmanager's `POST /api/v2/alerts` refuses this alert, or None when valid.

    Messages are Alertmanager's ("invalid label set: invalid name \\"1a\\""). Labels with
    an empty value are dropped first, as Alertmanager does. Pass `now` (and the
    resolve_timeout) to check the times after the API's defaults, which is how
    Alertmanager refuses a `startsAt` later than now + resolve_timeout without `endsAt`.
    """
    kept = {k: v for k, v in labels.items() if v != ""}
    if now is not None:
        start, end, _ = _defaults(starts_at, ends_at, now, resolve_timeout_s)
    else:
        start, end = (starts_at or ends_at or 0.0), (ends_at or 0.0)
    return _refusal(kept, annotations, start, end)


def _refusal(
    kept: Mapping[str, str], annotations: Mapping[str, str], start: float, end: float
) -> str | None:
    """Alertmanager's reason to refuse an alert (labels without empty values, times with
    the API's defaults filled in), or None."""
    if start and end and end < start:
        return "start time must be before end time"
    problem = _pair_problem(kept)
    if problem is not None:
        return f"invalid label set: {problem}"
    if not kept:
        return "at least one label pair required"
    problem = _pair_problem(annotations)
    if problem is not None:
        return f"invalid annotations: {problem}"
    return None


def join_problems(problems: Iterable[str]) -> str:
    """Alertmanager's 400 body text for several refused alerts (types.MultiError)."""
    return "; ".join(problems)


def accept_posted(
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    starts_at: float | None,
    ends_at: float | None,
    generator_url: str,
    now: float,
    resolve_timeout_s: float,
) -> AmAlert:
    """admit_posted for an alert known to be valid; raise ValueError with the reason
    when it is not."""
    admitted = admit_posted(
        labels, annotations, starts_at, ends_at, generator_url, now, resolve_timeout_s
    )
    if isinstance(admitted, str):
        raise ValueError(admitted)
    return admitted


def admit_posted(
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    starts_at: float | None,
    ends_at: float | None,
    generator_url: str,
    now: float,
    resolve_timeout_s: float,
) -> AmAlert | str:
    """The alert as Alertmanager stores a POSTed one (its time defaults filled in, labels
    with empty values dropped), or why Alertmanager refuses it (validate_posted's
    messages), in one pass."""
    kept = {k: v for k, v in labels.items() if v != ""}
    start, end, timeout = _defaults(starts_at, ends_at, now, resolve_timeout_s)
    refusal = _refusal(kept, annotations, start, end)
    if refusal is not None:
        return refusal
    return AmAlert(
        tuple(sorted(kept.items())),
        tuple(sorted(annotations.items())),
        start,
        end,
        now,
        generator_url,
        timeout,
    )


def merge(a: AmAlert, b: AmAlert, now: float | None = None) -> AmAlert:
    """Alertmanager's Alert.Merge of two versions of one alert.

    The younger (later updated_at) wins, except that the earliest start is kept, and an
    older end is kept when it is later and either both are resolved at `now` or the
    younger still fires and the older end was explicit (not a timeout). `now` defaults
    to the younger alert's updated_at (the moment Alertmanager merges on receipt).
    """
    if b.updated_at < a.updated_at:
        a, b = b, a
    at = b.updated_at if now is None else now
    end = b.ends_at
    if b.resolved_at(at):
        if a.resolved_at(at) and a.ends_at > b.ends_at:
            end = a.ends_at
    elif a.ends_at > b.ends_at and not a.timeout:
        end = a.ends_at
    return AmAlert(
        b.labels,
        b.annotations,
        min(a.starts_at, b.starts_at),
        end,
        b.updated_at,
        b.generator_url,
        b.timeout,
        b.fingerprint,
    )


def put(existing: AmAlert | None, incoming: AmAlert, now: float | None = None) -> AmAlert:
    """What the alert store keeps after receiving `incoming` (mem.Alerts.Put).

    The two are merged only when their activity overlaps (the new end or the new start
    falls strictly inside the stored range); otherwise the incoming alert replaces the
    stored one, so an alert that fires again after it resolved starts afresh.
    """
    if existing is None:
        return incoming
    overlaps = (existing.starts_at < incoming.ends_at < existing.ends_at) or (
        existing.starts_at < incoming.starts_at < existing.ends_at
    )
    return merge(existing, incoming, now) if overlaps else incoming

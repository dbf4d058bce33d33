"""Alerts as Alertmanager holds them: identity by label set, merge on re-send, timeouts.

An alert is identified by its label set (its fingerprint: FNV-1a 64 over the sorted
label names and values, as Prometheus' model.LabelSet.Fingerprint, printed as 16 hex
digits). A POSTed alert without `startsAt` starts now (or at its `endsAt`); without
`endsAt` it times out after `resolve_timeout`. A re-sent alert whose activity overlaps the
stored one is merged: the earliest start wins, and the youngest alert's end unless an
older explicit end is later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

LabelPairs = tuple[tuple[str, str], ...]
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1
_SEP = 0xFF


def fingerprint(labels: Mapping[str, str]) -> str:
    """Prometheus' LabelSet fingerprint of the labels, as Alertmanager prints it."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode():
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
            h = ((h ^ _SEP) * _FNV_PRIME) & _MASK
    return f"{h:016x}"


@dataclass(frozen=True, slots=True)
class AmAlert:
    labels: LabelPairs
    annotations: LabelPairs
    starts_at: float
    ends_at: float
    updated_at: float
    generator_url: str = ""
    timeout: bool = False
    fingerprint: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(dict(self.labels)))

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
        """Alertmanager's ResolvedAt: an end that is not after now."""
        return self.ends_at != 0 and self.ends_at <= now

    def status(self, now: float) -> str:
        return "resolved" if self.resolved_at(now) else "firing"


def validate_posted(
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    starts_at: float | None,
    ends_at: float | None,
) -> str | None:
    """Why Alertmanager would refuse this alert, or None when it is valid."""
    if not labels:
        return "at least one label pair required"
    for name, value in labels.items():
        if not _LABEL_NAME.match(name):
            return f'invalid label set: invalid name "{name}"'
        if value == "":
            return f'invalid label set: invalid value "" for label "{name}"'
    for name in annotations:
        if not _LABEL_NAME.match(name):
            return f'invalid annotations: invalid name "{name}"'
    if starts_at and ends_at and ends_at < starts_at:
        return "start time must be before end time"
    return None


def accept_posted(
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    starts_at: float | None,
    ends_at: float | None,
    generator_url: str,
    now: float,
    resolve_timeout_s: float,
) -> AmAlert:
    """The alert as Alertmanager stores a POSTed one (its start and end defaults)."""
    start = starts_at or (ends_at if ends_at else now)
    timeout = not ends_at
    end = ends_at if ends_at else now + resolve_timeout_s
    return AmAlert.of(
        labels=labels,
        annotations=annotations,
        starts_at=start,
        ends_at=end,
        updated_at=now,
        generator_url=generator_url,
        timeout=timeout,
    )


def merge(a: AmAlert, b: AmAlert) -> AmAlert:
    """Alertmanager's Alert.Merge of two versions of one alert."""
    if b.updated_at < a.updated_at:
        a, b = b, a  # b is the younger
    start = min(a.starts_at, b.starts_at)
    end = b.ends_at
    if b.ends_at != 0 and b.ends_at <= b.updated_at:  # the younger is resolved
        if a.resolved_at(b.updated_at) and a.ends_at > b.ends_at:
            end = a.ends_at
    elif a.ends_at > b.ends_at and not a.timeout:
        end = a.ends_at
    return AmAlert(
        b.labels, b.annotations, start, end, b.updated_at, b.generator_url, b.timeout, b.fingerprint
    )


def put(existing: AmAlert | None, incoming: AmAlert) -> AmAlert:
    """What the store keeps after receiving `incoming` (merged when activity overlaps)."""
    if existing is None:
        return incoming
    overlaps = (existing.starts_at < incoming.ends_at < existing.ends_at) or (
        existing.starts_at < incoming.starts_at < existing.ends_at
    )
    return merge(existing, incoming) if overlaps else incoming

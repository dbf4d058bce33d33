"""Pushgateway semantics as pure functions: grouping keys from paths, PUT/POST/DELETE.

A group is identified by its grouping key (job and the labels of the URL path). It holds
metric families by name; each family is a set of series with one value. PUT replaces the
whole group, POST only the families it names, DELETE removes the group. Labels of the
grouping key overwrite the same labels in the pushed metrics, as in the Pushgateway.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tenantwatch.domain.tenants import label_name_problem
from tenantwatch.promql.model import METRIC_NAME, label_value, labels_of
from tenantwatch.types import Labels

PUSH_TIME = "push_time_seconds"
PUSH_FAILURE_TIME = "push_failure_time_seconds"
_FAMILY_SUFFIXES = ("_bucket", "_sum", "_count", "_created", "_total", "_info", "_gsum", "_gcount")


class PushPathError(ValueError):
    """The URL path does not name a grouping key; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class PushGroup:
    """A group's families: name -> ((labels, value), ...); push_time in unix seconds."""

    key: Labels
    families: Mapping[str, tuple[tuple[Labels, float], ...]] = field(default_factory=dict)
    push_time: float = 0.0

    def series(self) -> list[tuple[Labels, float]]:
        """Every series to expose: the pushed ones, then push_time and push_failure_time."""
        out = [pair for family in self.families.values() for pair in family]
        key = dict(self.key)
        out.append((labels_of({**key, METRIC_NAME: PUSH_TIME}), self.push_time))
        out.append((labels_of({**key, METRIC_NAME: PUSH_FAILURE_TIME}), 0.0))
        return out


def _decode(segment: str, encoded: bool, what: str) -> str:
    if not encoded:
        return segment
    padded = segment.replace("=", "")
    padded += "=" * (-len(padded) % 4)
    try:
        return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise PushPathError(
            f"{what} {segment!r} is not URL-safe base64 (RFC 4648 section 5) of UTF-8 text"
        ) from None


def parse_push_path(path: str) -> Labels:
    """The grouping key of the part of a push URL after /metrics/: `job/<job>{/<n>/<v>}`
    (names may end in @base64). Raise PushPathError saying what is wrong."""
    parts = path.strip("/").split("/") if path.strip("/") else []
    if not parts or parts[0] not in ("job", "job@base64"):
        raise PushPathError("push to /metrics/job/<job>{/<label>/<value>}")
    return _grouping_key(parts)


def _grouping_key(parts: Sequence[str]) -> Labels:
    if len(parts) == 1:
        raise PushPathError("the job name is missing: push to /metrics/job/<job>")
    if len(parts) % 2:
        raise PushPathError(
            f"label {parts[-1]!r} has no value; the path must continue in <label>/<value> "
            "pairs (encode an empty value as <label>@base64/=)"
        )
    key: dict[str, str] = {}
    for i in range(0, len(parts), 2):
        raw_name, raw_value = parts[i], parts[i + 1]
        encoded = raw_name.endswith("@base64")
        name = raw_name.removesuffix("@base64")
        problem = label_name_problem(name) if name != "job" else None
        if problem:
            raise PushPathError(problem)
        if name in key:
            raise PushPathError(f"label {name!r} appears twice in the path")
        value = _decode(raw_value, encoded, f"value of {name!r}")
        if "\x00" in value:
            raise PushPathError(f"value of {name!r} must not contain the NUL character")
        key[name] = value
    if not key.get("job"):
        raise PushPathError("the job name must not be empty")
    return tuple(sorted(key.items()))


def family_of(name: str, types: Mapping[str, str]) -> str:
    """The metric family a sample name belongs to, given the `# TYPE` lines seen."""
    if name in types:
        return name
    for suffix in _FAMILY_SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and base in types:
            return base
    return name


def build_families(
    key: Labels, samples: Iterable[tuple[Labels, float]], types: Mapping[str, str]
) -> dict[str, tuple[tuple[Labels, float], ...]]:
    """Group pushed samples by family, with the grouping key's labels overwriting theirs."""
    overlay = dict(key)
    families: dict[str, dict[Labels, float]] = {}
    for labels, value in samples:
        merged = labels_of({**dict(labels), **overlay})
        name = label_value(labels, METRIC_NAME)
        if name in (PUSH_TIME, PUSH_FAILURE_TIME):
            continue  # the gateway's own series win, as in the Pushgateway
        family = family_of(name, types)
        families.setdefault(family, {})[merged] = value
    return {name: tuple(series.items()) for name, series in families.items()}


@dataclass(frozen=True, slots=True)
class PushChange:
    """A group after a push, and the series the push removed (to mark stale)."""

    group: PushGroup
    removed: tuple[Labels, ...]


def apply_push(
    old: PushGroup | None,
    key: Labels,
    families: Mapping[str, tuple[tuple[Labels, float], ...]],
    *,
    replace_all: bool,
    now: float,
) -> PushChange:
    """PUT (replace_all) or POST a push into a group."""
    before = dict(old.families) if old is not None else {}
    after = {} if replace_all else dict(before)
    after.update(families)
    kept = {labels for family in after.values() for labels, _ in family}
    removed = tuple(
        labels for family in before.values() for labels, _ in family if labels not in kept
    )
    return PushChange(PushGroup(key, after, now), removed)


def deleted_series(group: PushGroup) -> tuple[Labels, ...]:
    """Every series a DELETE of the group removes, push_time included."""
    return tuple(labels for labels, _ in group.series())

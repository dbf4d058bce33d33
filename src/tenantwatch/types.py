"""The value types the house shares, named once: label sets, samples, millisecond times."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TypeAlias

Millis: TypeAlias = int
"""Unix time (or a span) in milliseconds: the unit of the metric store, PromQL and rules.
Other layers keep their own unit (seconds as floats) and convert where they call in."""

Labels: TypeAlias = tuple[tuple[str, str], ...]
"""A series' or an alert's labels as (name, value) pairs sorted by name: hashable, so the
metric store, PromQL, rules and Alertmanager's dispatcher key by it."""

LabelMap: TypeAlias = Mapping[str, str]
"""Labels by name, as Alertmanager's matching, templates and payloads read them."""

Sample: TypeAlias = tuple[Labels, Millis, float]
"""One sample on its way into the metric store: the series' labels, its time, its value."""

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@functools.lru_cache(maxsize=4096)  # a house uses few distinct label names
def is_label_name(name: str) -> bool:
    """Whether `name` is a valid label name in Prometheus' classic rules
    (model.LabelName.IsValid): a letter or '_', then letters, digits and '_'."""
    return _LABEL_NAME.fullmatch(name) is not None

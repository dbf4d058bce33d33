"""What a notification is about: Alertmanager's template data and webhook payload.

`NotifyData` is the data every channel renders (Alertmanager's `template.Data`): the
receiver, whether any alert fires, the alerts, and the group's, common labels and
annotations. `webhook_payload` is Alertmanager's webhook body ("version": "4").
Times are unix seconds; 0.0 is Go's zero time (an alert still firing has no end).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def go_time(ts: float) -> str:
    """A time as Go's time.Time marshals to JSON in UTC (RFC 3339, trailing zeros cut)."""
    if ts == 0:
        return GO_ZERO_TIME
    micros = round(ts * 1_000_000)
    whole, frac = divmod(micros, 1_000_000)
    text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + f"{frac:06d}".rstrip("0")
    return text + "Z"


def parse_go_time(text: str) -> float:
    """An RFC 3339 time (as Alertmanager accepts) to unix seconds; Go's zero time is 0."""
    if text.startswith("0001-01-01T00:00:00"):
        return 0.0
    m = re.fullmatch(
        r"(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)", text
    )
    if m is None:
        raise ValueError(f"{text!r} is not an RFC 3339 time such as 2024-01-31T12:00:00Z")
    day, clock, frac, zone = m.groups()
    offset = "+00:00" if zone in ("Z", "z") else zone
    base = datetime.fromisoformat(f"{day}T{clock}{offset}")
    return base.timestamp() + (int(frac) / 10 ** len(frac) if frac else 0.0)


@dataclass(frozen=True, slots=True)
class NotifyAlert:
    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float
    ends_at: float  # 0.0 while firing
    generator_url: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class NotifyData:
    receiver: str
    status: str  # firing when any alert fires, else resolved
    alerts: tuple[NotifyAlert, ...]
    group_labels: Mapping[str, str]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]
    external_url: str
    group_key: str
    truncated_alerts: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def firing(self) -> tuple[NotifyAlert, ...]:
        return tuple(a for a in self.alerts if a.status == "firing")

    @property
    def resolved(self) -> tuple[NotifyAlert, ...]:
        return tuple(a for a in self.alerts if a.status == "resolved")


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    out = dict(maps[0])
    for m in maps[1:]:
        out = {k: v for k, v in out.items() if m.get(k) == v}
    return out


def receiver_name(name: str) -> str:
    """Alertmanager puts the receiver's name in the data regexp-quoted (QuoteMeta)."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", name)


def build_notify_data(
    receiver: str,
    group_labels: Mapping[str, str],
    alerts: Sequence[NotifyAlert],
    external_url: str,
    group_key: str,
    truncated_alerts: int = 0,
) -> NotifyData:
    """The template data of one notification, as Alertmanager builds it."""
    status = "firing" if any(a.status == "firing" for a in alerts) else "resolved"
    return NotifyData(
        receiver=receiver_name(receiver),
        status=status,
        alerts=tuple(alerts),
        group_labels=dict(group_labels),
        common_labels=_common([a.labels for a in alerts]),
        common_annotations=_common([a.annotations for a in alerts]),
        external_url=external_url,
        group_key=group_key,
        truncated_alerts=truncated_alerts,
    )


def alert_json(alert: NotifyAlert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": go_time(alert.starts_at),
        "endsAt": go_time(alert.ends_at),
        "generatorURL": alert.generator_url,
        "fingerprint": alert.fingerprint,
    }


def webhook_payload(data: NotifyData) -> dict[str, Any]:
    """Alertmanager's webhook body, version 4, key for key."""
    return {
        "receiver": data.receiver,
        "status": data.status,
        "alerts": [alert_json(a) for a in data.alerts],
        "groupLabels": dict(data.group_labels),
        "commonLabels": dict(data.common_labels),
        "commonAnnotations": dict(data.common_annotations),
        "externalURL": data.external_url,
        "version": "4",
        "groupKey": data.group_key,
        "truncatedAlerts": data.truncated_alerts,
    }

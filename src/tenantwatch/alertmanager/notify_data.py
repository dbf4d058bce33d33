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
from typing import Any

from tenantwatch.gotext.times import format_rfc3339_nano


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
        "startsAt": format_rfc3339_nano(alert.starts_at),
        "endsAt": format_rfc3339_nano(alert.ends_at),
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

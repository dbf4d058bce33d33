"""Messages beyond a group's flush, as plans (pure): flapping notices, escalation steps
and PagerDuty acknowledgements."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence

from tenantwatch.alertmanager.config_model import AlertmanagerConfig
from tenantwatch.alertmanager.dispatch import AggrGroup
from tenantwatch.alertmanager.flush_plan import BuildFailure, build, idempotency_key
from tenantwatch.alertmanager.notify_data import NotifyAlert, build_notify_data
from tenantwatch.alertmanager.notify_payloads import build_pagerduty_ack
from tenantwatch.alertmanager.outgoing import Outgoing
from tenantwatch.alertmanager.records import AlertRecord

FLAP_NOTICES = ("page_flapping", "digest", "stopped")


def flap_note(record: AlertRecord, decision: str) -> str:
    """What a flapping notice says: started (paged once), still flapping, or stopped."""
    flap = record.flap
    return {
        "page_flapping": f"started flapping: {len(flap.transitions)} state changes "
        f"recently ({flap.percent:.0f}% state change); individual notifications "
        "are held back",
        "digest": f"still flapping: {flap.digest_changes} state changes since the last notice",
        "stopped": "stopped flapping; notifications resume",
    }[decision]


def plan_notice(
    record: AlertRecord,
    receivers: Sequence[str],
    group_key: str,
    note: Mapping[str, str],
    seed: Sequence[str | float],
    config: AlertmanagerConfig,
    external_url: str,
    now: float,
) -> tuple[list[Outgoing], list[BuildFailure]]:
    """One alert (with a note in its annotations) to every integration of `receivers`;
    each notification's key is made of `seed`, the receiver and the integration."""
    a = record.alert
    alert = NotifyAlert(
        status=a.status(now),
        labels=a.label_map(),
        annotations={**a.annotation_map(), **note},
        starts_at=a.starts_at,
        ends_at=a.ends_at if a.resolved_at(now) else 0.0,
        generator_url=a.generator_url,
        fingerprint=a.fingerprint,
    )
    outgoing: list[Outgoing] = []
    failures: list[BuildFailure] = []
    for name in receivers:
        receiver = config.receivers.get(name)
        if receiver is None:
            continue
        data = build_notify_data(
            name, {"alertname": alert.labels.get("alertname", "")}, [alert], external_url, group_key
        )
        for integration in receiver.integrations:
            idem = idempotency_key(*seed, name, integration.name)
            request = build(config, integration, data, idem)
            if isinstance(request, BuildFailure):
                failures.append(request)
                continue
            outgoing.append(
                Outgoing(
                    idem,
                    record.tenant_id,
                    name,
                    integration.name,
                    group_key,
                    data.status,
                    request,
                    (record.fingerprint,),
                    role="notice",
                )
            )
    return outgoing, failures


def plan_flap_notice(
    record: AlertRecord,
    decision: str,
    receivers: Sequence[str],
    config: AlertmanagerConfig,
    external_url: str,
    now: float,
) -> tuple[list[Outgoing], list[BuildFailure]]:
    """Page once when an alert starts flapping, then digests, then 'stopped'."""
    return plan_notice(
        record,
        receivers,
        f"flapping/{record.fingerprint}",
        {"flapping": flap_note(record, decision)},
        ("flap", record.fingerprint, decision, now),
        config,
        external_url,
        now,
    )


def plan_escalation(
    record: AlertRecord,
    sequence: int,
    targets: Sequence[str],
    receivers: Sequence[str],
    config: AlertmanagerConfig,
    external_url: str,
    now: float,
) -> tuple[list[Outgoing], list[BuildFailure]]:
    """An escalation step of a firing alert to the step's receivers."""
    return plan_notice(
        record,
        receivers,
        f"escalation/{record.fingerprint}",
        {"escalation": f"escalation step {sequence}: {', '.join(targets)}"},
        ("escalation", record.fingerprint, record.alert.starts_at, sequence),
        config,
        external_url,
        now,
    )


def plan_pagerduty_acks(
    record: AlertRecord,
    groups: Iterable[AggrGroup],
    config: AlertmanagerConfig,
    external_url: str,
    now: float,
) -> list[Outgoing]:
    """An acknowledge event for each PagerDuty integration of each group holding the
    alert, with the group's dedup key."""
    outgoing = []
    for group in groups:
        if record.fingerprint not in group.alerts:
            continue
        receiver = config.receivers.get(group.receiver)
        for integration in receiver.integrations if receiver else ():
            if integration.kind != "pagerduty":
                continue
            data = build_notify_data(
                group.receiver, dict(group.labels), [], external_url, group.key
            )
            idem = idempotency_key("ack", group.key, integration.name, now)
            request = build_pagerduty_ack(
                integration.settings,
                data,
                functools.partial(config.templates.render, data=data),
                idempotency_key=idem,
            )
            outgoing.append(
                Outgoing(
                    idem,
                    record.tenant_id,
                    group.receiver,
                    integration.name,
                    group.key,
                    "acknowledged",
                    request,
                    (record.fingerprint,),
                    role="acknowledge",
                )
            )
    return outgoing

"""A group's flush as a plan: the notifications to queue and the notification-log entries
to write, from the alert manager's state at `now` (pure); and the one key function.

A flush goes through inhibition, time intervals, silences and acknowledgements (see
notify_pipeline.plan), then each integration whose log entry says something is new gets
a request built from the receiver's templates. Every planned integration gets a log entry,
also when only resolved alerts remain and nothing is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field

from tenantwatch import jsonio
from tenantwatch.alertmanager import nflog
from tenantwatch.alertmanager.config_model import AlertmanagerConfig, Integration
from tenantwatch.alertmanager.dispatch import Flush
from tenantwatch.alertmanager.notify_data import NotifyData
from tenantwatch.alertmanager.notify_payloads import OutboundRequest, build_request
from tenantwatch.alertmanager.notify_pipeline import notify_data, plan
from tenantwatch.alertmanager.outgoing import Outgoing
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.silences import Silence
from tenantwatch.alertmanager.suppression import inhibition_sources, muted, time_muted


def idempotency_key(*parts: str | float) -> str:
    """The key naming a notification (or a log entry) durably: the SHA-256 of its parts
    joined by ':'. The same parts give the same key in every process and after a restart,
    so the outbox keeps one notification for them."""
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def _compact(value: object) -> str:
    return jsonio.dumps(value, compact=True)


def nflog_key(receiver: str, integration: str, group_key: str) -> str:
    """The notification log's key of a group's entry for one integration of a receiver."""
    return idempotency_key(_compact([receiver, integration, group_key]))


def flush_key(log_key: str, firing: Set[str], resolved: Set[str], now: float) -> str:
    """The idempotency key of a flush's notification: its log key, the alerts it carries
    and its time (to the millisecond), as one compact JSON part."""
    return idempotency_key(_compact([log_key, sorted(firing), sorted(resolved), round(now, 3)]))


@dataclass(frozen=True, slots=True)
class AlertState:
    """What the planners read of the alert manager's state."""

    records: Mapping[str, AlertRecord]
    silences: Mapping[str, Silence]
    nflog: Mapping[str, nflog.Entry]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A notification-log entry and the group and integration it belongs to."""

    key: str
    receiver: str
    integration: str
    group_key: str
    entry: nflog.Entry


@dataclass(frozen=True, slots=True)
class BuildFailure:
    """A notification whose request could not be built (a template failed, say)."""

    receiver: str
    integration: str  # the kind: webhook, slack, ...
    error: str


@dataclass(slots=True)
class FlushPlan:
    """What the due flushes send (in one outbox write) and log (in one log write)."""

    outgoing: list[Outgoing] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    failures: list[BuildFailure] = field(default_factory=list)


def build(
    config: AlertmanagerConfig, integration: Integration, data: NotifyData, idem: str
) -> OutboundRequest | BuildFailure:
    """The request of one integration, rendered with the config's templates."""
    try:
        return build_request(
            integration.kind,
            integration.settings,
            data,
            lambda text: config.templates.render(text, data),
            idempotency_key=idem,
            render_html=lambda text: config.templates.render_html(text, data),
        )
    except Exception as exc:
        return BuildFailure(data.receiver, integration.kind, str(exc))


def plan_flushes(
    flushes: Sequence[Flush],
    config: AlertmanagerConfig,
    state: AlertState,
    external_url: str,
    now: float,
) -> FlushPlan:
    """The notifications and log entries of the groups flushed together at `now`."""
    sources = inhibition_sources(state.records.values(), config.inhibit_rules, now)
    out = FlushPlan()
    for flush in flushes:
        plan_flush(flush, config, state, sources, external_url, now, out)
    return out


def plan_flush(
    flush: Flush,
    config: AlertmanagerConfig,
    state: AlertState,
    sources: Sequence[Mapping[str, str]],
    external_url: str,
    now: float,
    out: FlushPlan,
) -> None:
    """Add what one group's flush sends and logs to `out`; `sources` are the firing alerts
    that can inhibit (inhibition_sources)."""
    receiver = config.receivers.get(flush.receiver)
    if receiver is None:
        return
    by_name = {f"{i.kind}/{i.index}": i for i in receiver.integrations}
    silences = state.silences.values()
    planned = plan(
        flush,
        [(name, i.send_resolved) for name, i in by_name.items()],
        all_firing_label_sets=sources,
        inhibit_rules=config.inhibit_rules,
        silenced=lambda labels: muted(labels, state.records, silences, now),
        time_muted=lambda route, at: time_muted(route, config.time_intervals, at),
        nflog_get=lambda name: state.nflog.get(nflog_key(flush.receiver, name, flush.group_key)),
        repeat_interval_s=flush.route.repeat_interval_s,
        now=now,
    )
    for p in planned:
        data = notify_data(p, flush, external_url, receiver.name)
        key = nflog_key(flush.receiver, p.integration, flush.group_key)
        entry = nflog.log_entry(
            p.firing, p.resolved, now, nflog.DEFAULT_RETENTION_S, flush.route.repeat_interval_s
        )
        out.log.append(LogEntry(key, flush.receiver, p.integration, flush.group_key, entry))
        if not p.alerts:
            continue  # nothing to send (send_resolved off), but the log learns it
        idem = flush_key(key, p.firing, p.resolved, now)
        request = build(config, by_name[p.integration], data, idem)
        if isinstance(request, BuildFailure):
            out.failures.append(request)
            continue
        out.outgoing.append(
            Outgoing(
                idempotency_key=idem,
                tenant_id=data.common_labels.get("tenant"),
                receiver=flush.receiver,
                integration=p.integration,
                group_key=flush.group_key,
                alert_status=data.status,
                request=request,
                fingerprints=tuple(a.fingerprint for a in p.alerts),
                role="state",  # the group's whole state: a newer one replaces it
            )
        )

"""Our dispatcher, notification log and pipeline against the real Alertmanager 0.25.

One scripted sequence of alerts (and a silence) is POSTed to a real Alertmanager with
short timers and webhook receivers on loopback. The same sequence, at the same moments
(the wall time of each request), is then fed to Dispatcher + nflog + notify_pipeline on a
simulated clock. Every receiver must get the same notifications, in the same order per
group, with the same bodies, at about the same times.

Timeline (seconds after the first POST; group_wait 1, group_interval 2, repeat 5;
events are kept at least 0.5 s away from any flush so scheduling jitter cannot reorder):
  0.0  A1 A2 (db, c1), B1 critical (web, c2), W1 warning (c2, inhibited by B1),
       S1 (staging), O1 (no endsAt: times out at 6), OLD (started 10 min ago: flushes now)
  1.5  A3 joins the db group
  3.5  a silence for instance=db-3; A1 resolved
  5.5  B1 resolved (W1 no longer inhibited)
  8.5  B1 fires again (a new activity range, into its emptied group)
 12.6  end; the groups API is compared too
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tenantwatch.alertmanager.alert import AmAlert, accept_posted, put
from tenantwatch.alertmanager.dispatch import Dispatcher
from tenantwatch.alertmanager.inhibition import InhibitRule, build_inhibit_rule
from tenantwatch.alertmanager.nflog import NotificationLog
from tenantwatch.alertmanager.notify_data import webhook_payload
from tenantwatch.alertmanager.notify_pipeline import notify_data, plan
from tenantwatch.alertmanager.routing import LabelMatcher, build_route
from tenantwatch.gotext.times import format_rfc3339_nano, parse_rfc3339
from tests.alertmanager_server import Hook, alertmanager, require_alertmanager, webhook_recorder

RESOLVE_TIMEOUT = 6.0
END = 12.6
ARRIVAL_TOLERANCE = 0.45


@dataclass(frozen=True)
class Hookup:
    path: str
    send_resolved: bool
    max_alerts: int = 0


RECEIVERS: dict[str, list[Hookup]] = {
    "default": [Hookup("default", True)],
    "db": [Hookup("db0", True, max_alerts=2), Hookup("db1", False)],
    "pager": [Hookup("pager", True)],
    "teams": [Hookup("teams", False)],
    "staging": [Hookup("staging", True)],
}

ROUTE: dict[str, Any] = {
    "receiver": "default",
    "group_by": ["alertname"],
    "group_wait": "1s",
    "group_interval": "2s",
    "repeat_interval": "5s",
    "routes": [
        {
            "receiver": "db",
            "matchers": ['team="db"'],
            "group_by": ["alertname", "cluster"],
            "continue": True,
        },
        {"receiver": "pager", "match": {"severity": "critical"}, "group_by": ["..."]},
        {
            "receiver": "teams",
            "matchers": ['team=~"db|web"'],
            "routes": [
                {
                    "receiver": "staging",
                    "matchers": ['env="staging"', 'team!~"ops"'],
                    "group_interval": "3s",
                }
            ],
        },
    ],
}

INHIBIT: list[dict[str, Any]] = [
    {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["cluster"],
    }
]


def config_yaml(hook_url: str) -> str:
    receivers = [
        {
            "name": name,
            "webhook_configs": [
                {"url": f"{hook_url}/{h.path}", "send_resolved": h.send_resolved}
                | ({"max_alerts": h.max_alerts} if h.max_alerts else {})
                for h in hooks
            ],
        }
        for name, hooks in RECEIVERS.items()
    ]
    return yaml.safe_dump(
        {
            "global": {"resolve_timeout": f"{RESOLVE_TIMEOUT:g}s"},
            "route": ROUTE,
            "inhibit_rules": INHIBIT,
            "receivers": receivers,
        },
        sort_keys=False,
    )


def labels(**kw: str) -> dict[str, str]:
    return dict(kw)


A1 = labels(alertname="DiskFull", team="db", cluster="c1", severity="warning", instance="db-1")
A2 = labels(alertname="DiskFull", team="db", cluster="c1", severity="warning", instance="db-2")
A3 = labels(alertname="DiskFull", team="db", cluster="c1", severity="warning", instance="db-3")
B1 = labels(
    alertname="HighLatency", team="web", cluster="c2", severity="critical", instance="web-1"
)
W1 = labels(alertname="HighLatency", team="web", cluster="c2", severity="warning", instance="web-2")
S1 = labels(
    alertname="HighLatency",
    team="web",
    cluster="c3",
    severity="warning",
    env="staging",
    instance="stg-1",
)
O1 = labels(alertname="Orphan", severity="info")
OLD = labels(alertname="OldOne", job="batch", instance="b1")


@dataclass(frozen=True)
class Event:
    at: float  # wall time the request was handled (midpoint of the request)
    kind: str  # alerts | silence
    body: Any


@dataclass
class Script:
    """Sends the scripted requests at their offsets and records when they happened."""

    base_url: str
    session: aiohttp.ClientSession
    t0: float
    events: list[Event] = field(default_factory=list)

    async def at(self, offset: float) -> float:
        await asyncio.sleep(max(0.0, self.t0 + offset - time.time()))
        return time.time()

    def alert(
        self,
        lbls: Mapping[str, str],
        starts: float,
        ends: float | None,
        *,
        summary: str = "",
        generator_url: str = "",
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "labels": dict(lbls),
            "startsAt": format_rfc3339_nano(round(starts, 3)),
        }
        if ends is not None:
            out["endsAt"] = format_rfc3339_nano(round(ends, 3))
        if summary:
            out["annotations"] = {"summary": summary, "runbook": "https://runbooks.example/x"}
        if generator_url:
            out["generatorURL"] = generator_url
        return out

    async def post(self, kind: str, body: Any) -> Any:
        path = "/api/v2/alerts" if kind == "alerts" else "/api/v2/silences"
        before = time.time()
        async with self.session.post(self.base_url + path, json=body) as resp:
            text = await resp.text()
            assert resp.status == 200, f"{path} answered {resp.status}: {text}"
        self.events.append(Event((before + time.time()) / 2, kind, body))
        return text


async def run_script(script: Script) -> None:
    now = await script.at(0.0)
    hour = now + 3600
    a_start = now
    b_start = now
    await script.post(
        "alerts",
        [
            script.alert(A1, a_start, hour, summary="disk full", generator_url="http://prom/g1"),
            script.alert(A2, a_start, hour, summary="disk full"),
            script.alert(B1, b_start, hour, summary="slow"),
            script.alert(W1, now, hour, summary="slow"),
            script.alert(S1, now, hour),
            script.alert(O1, now, None),
            script.alert(OLD, now - 600, hour, summary="old"),
        ],
    )
    now = await script.at(1.5)
    await script.post("alerts", [script.alert(A3, now, now + 3600, summary="disk full")])
    now = await script.at(3.5)
    await script.post(
        "silence",
        {
            "matchers": [{"name": "instance", "value": "db-3", "isRegex": False, "isEqual": True}],
            "startsAt": format_rfc3339_nano(round(now - 1, 3)),
            "endsAt": format_rfc3339_nano(round(now + 3600, 3)),
            "createdBy": "test",
            "comment": "db-3 is being replaced",
        },
    )
    await script.post(
        "alerts",
        [script.alert(A1, a_start, now, summary="disk full", generator_url="http://prom/g1")],
    )
    now = await script.at(5.5)
    await script.post("alerts", [script.alert(B1, b_start, now, summary="slow")])
    now = await script.at(8.5)
    await script.post("alerts", [script.alert(B1, now, now + 3600, summary="slow again")])
    await script.at(END)


# -- the simulation ---------------------------------------------------------------------------


@dataclass
class Sent:
    at: float
    path: str
    body: dict[str, Any]


@dataclass
class Simulation:
    external_url: str
    root: Any = field(default_factory=lambda: build_route(ROUTE))
    inhibit: list[InhibitRule] = field(
        default_factory=lambda: [build_inhibit_rule(r) for r in INHIBIT]
    )
    store: dict[str, AmAlert] = field(default_factory=dict)
    silences: list[tuple[float, float, tuple[LabelMatcher, ...]]] = field(default_factory=list)
    nflog: NotificationLog = field(default_factory=NotificationLog)
    sent: list[Sent] = field(default_factory=list)
    timed_out: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.root)

    def apply(self, event: Event) -> None:
        now = event.at
        if event.kind == "silence":
            matchers = tuple(
                LabelMatcher.of(m["name"], "=", m["value"]) for m in event.body["matchers"]
            )
            self.silences.append((now, parse_rfc3339(event.body["endsAt"]), matchers))
            return
        for item in event.body:
            alert = accept_posted(
                item["labels"],
                item.get("annotations", {}),
                parse_rfc3339(item["startsAt"]) if "startsAt" in item else None,
                parse_rfc3339(item["endsAt"]) if "endsAt" in item else None,
                item.get("generatorURL", ""),
                now,
                RESOLVE_TIMEOUT,
            )
            if alert.timeout:
                self.timed_out.add(alert.fingerprint)
            merged = put(self.store.get(alert.fingerprint), alert)
            self.store[alert.fingerprint] = merged
            self.dispatcher.insert(merged, now)

    def silenced(self, lbls: Mapping[str, str], now: float) -> bool:
        return any(
            start <= now < end and all(m.matches(lbls) for m in matchers)
            for start, end, matchers in self.silences
        )

    def flush(self, now: float) -> None:
        firing = [a.label_map() for a in self.store.values() if not a.resolved_at(now)]
        for f in self.dispatcher.due(now):
            hooks = {f"webhook/{i}": h for i, h in enumerate(RECEIVERS[f.receiver])}
            planned = plan(
                f,
                [(name, h.send_resolved) for name, h in hooks.items()],
                all_firing_label_sets=firing,
                inhibit_rules=self.inhibit,
                silenced=lambda lbls: self.silenced(lbls, now),
                time_muted=lambda route, at: False,
                nflog_get=partial(self.nflog.get, f.receiver, group_key=f.group_key),
                now=now,
            )
            for p in planned:
                self.nflog.log(
                    f.receiver,
                    p.integration,
                    f.group_key,
                    p.firing,
                    p.resolved,
                    now,
                    f.route.repeat_interval_s,
                )
                if p.alerts:
                    hook = hooks[p.integration]
                    data = notify_data(p, f, self.external_url, max_alerts=hook.max_alerts)
                    self.sent.append(Sent(now, hook.path, webhook_payload(data)))
            self.dispatcher.flushed(f, now)

    def run(self, events: Sequence[Event], end: float) -> None:
        for event in sorted(events, key=lambda e: e.at):
            while (due := self.dispatcher.next_due()) is not None and due < event.at:
                self.flush(due)
            self.apply(event)
        while (due := self.dispatcher.next_due()) is not None and due <= end:
            self.flush(due)

    def groups(self, now: float) -> list[tuple[dict[str, str], str, list[str]]]:
        """What /api/v2/alerts/groups lists: unresolved alerts, non-empty groups."""
        out = []
        for g in self.dispatcher.groups():
            fps = [a.fingerprint for a in g.sorted_alerts() if not a.resolved_at(now)]
            if fps:
                out.append((dict(g.labels), g.receiver, fps))
        return out


# -- comparing --------------------------------------------------------------------------------


def by_group(
    items: Sequence[tuple[float, str, dict[str, Any]]],
) -> dict[tuple[str, str], list[Any]]:
    out: dict[tuple[str, str], list[Any]] = {}
    for at, path, body in items:
        out.setdefault((path, body["groupKey"]), []).append((at, body))
    return out


def assert_same_body(ours: dict[str, Any], theirs: dict[str, Any], timed_out: set[str]) -> None:
    """Equal bodies; only an end Alertmanager computed from its own clock (a timeout)
    may differ, by less than the tolerance."""
    ours_alerts, their_alerts = ours["alerts"], theirs["alerts"]
    assert {k: v for k, v in ours.items() if k != "alerts"} == {
        k: v for k, v in theirs.items() if k != "alerts"
    }
    assert len(ours_alerts) == len(their_alerts)
    for mine, real in zip(ours_alerts, their_alerts, strict=True):
        if mine["endsAt"] != real["endsAt"] and mine["fingerprint"] in timed_out:
            assert abs(parse_rfc3339(mine["endsAt"]) - parse_rfc3339(real["endsAt"])) < 0.3
            mine = {**mine, "endsAt": real["endsAt"]}
        assert mine == real


async def test_notifications_match_the_real_alertmanager(tmp_path: Path) -> None:
    require_alertmanager()
    async with webhook_recorder() as hooks, aiohttp.ClientSession() as session:
        with alertmanager(tmp_path, config_yaml(hooks.url(""))) as am:
            script = Script(am.url, session, time.time() + 0.3)
            await run_script(script)
            async with session.get(am.url + "/api/v2/alerts/groups") as resp:
                real_groups = await resp.json()
            group_time = time.time()
            log_tail = am.log_tail(80)
    real: list[Hook] = [h for h in hooks.received if h.at <= script.t0 + END + 0.2]

    sim = Simulation(external_url=am.url)
    sim.run(script.events, script.t0 + END)

    theirs = by_group([(h.at, h.path.lstrip("/"), h.body) for h in real])
    ours = by_group([(s.at, s.path, s.body) for s in sim.sent])
    context = f"\nAlertmanager log:\n{log_tail}"
    assert sorted(ours) == sorted(theirs), context
    for key, sent in ours.items():
        got = theirs[key]
        assert len(sent) == len(got), f"{key}: {len(sent)} vs {len(got)}{context}"
        for (our_at, body), (their_at, real_body) in zip(sent, got, strict=True):
            assert abs(our_at - their_at) < ARRIVAL_TOLERANCE, (key, our_at - script.t0)
            assert_same_body(body, real_body, sim.timed_out)

    # the scenario exercised what it claims to
    kinds = {(s.path, s.body["status"], len(s.body["alerts"])) for s in sim.sent}
    assert ("pager", "resolved", 1) in kinds and ("default", "resolved", 1) in kinds
    assert any(s.body["truncatedAlerts"] == 1 for s in sim.sent)
    assert len([s for s in sim.sent if s.path == "teams"]) == 4  # incl. W1 once uninhibited

    expected_groups = sim.groups(group_time)
    assert [
        (g["labels"], g["receiver"]["name"], [a["fingerprint"] for a in g["alerts"]])
        for g in real_groups
    ] == expected_groups

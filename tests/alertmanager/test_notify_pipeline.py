"""The notification pipeline of one flush: inhibit, time intervals, silences, dedup, send_resolved."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.dispatch import Dispatcher, Flush
from tenantwatch.alertmanager.inhibition import InhibitRule, build_inhibit_rule
from tenantwatch.alertmanager.nflog import Entry
from tenantwatch.alertmanager.notify_data import webhook_payload
from tenantwatch.alertmanager.notify_pipeline import Planned, inhibited, notify_data, plan
from tenantwatch.alertmanager.routing import Route, build_route

NOW = 1000.0


def alert(end: float = 9_000.0, **labels: str) -> AmAlert:
    return AmAlert.of(
        labels=labels, annotations={"s": "x"}, starts_at=900.0, ends_at=end, updated_at=900.0
    )


def flush_of(*alerts: AmAlert, receiver: str = "team", repeat: str = "1h") -> Flush:
    root = build_route({"receiver": receiver, "group_by": ["alertname"], "repeat_interval": repeat})
    d = Dispatcher(root)
    for a in alerts:
        d.insert(a, NOW - 100)
    [flush] = d.due(NOW)
    return flush


def run(
    flush: Flush,
    integrations: Sequence[tuple[str, bool]] = (("webhook/0", True),),
    *,
    firing: Sequence[Mapping[str, str]] = (),
    rules: Sequence[InhibitRule] = (),
    silenced: Callable[[Mapping[str, str]], bool] = lambda labels: False,
    muted: bool = False,
    log: Mapping[str, Entry] | None = None,
) -> list[Planned]:
    return plan(
        flush,
        integrations,
        all_firing_label_sets=firing,
        inhibit_rules=rules,
        silenced=silenced,
        time_muted=lambda route, now: muted,
        nflog_get=lambda name: (log or {}).get(name),
        now=NOW,
    )


RULE = build_inhibit_rule(
    {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["cluster"],
    }
)


def test_inhibition_needs_a_firing_source_with_equal_labels() -> None:
    target = {"severity": "warning", "cluster": "c1"}
    assert inhibited(target, [{"severity": "critical", "cluster": "c1"}], [RULE])
    assert not inhibited(target, [{"severity": "critical", "cluster": "c2"}], [RULE])
    assert not inhibited(target, [], [RULE])
    assert not inhibited({"severity": "info"}, [{"severity": "critical"}], [RULE])


def test_equal_labels_missing_on_both_sides_count_as_equal() -> None:
    assert inhibited({"severity": "warning"}, [{"severity": "critical"}], [RULE])


def test_a_target_matching_both_sides_ignores_sources_matching_both_sides() -> None:
    rule = build_inhibit_rule(
        {"source_matchers": ['team="db"'], "target_matchers": ['team="db"'], "equal": []}
    )
    assert not inhibited({"team": "db", "i": "1"}, [{"team": "db", "i": "2"}], [rule])


def test_inhibited_alerts_are_left_out() -> None:
    f = flush_of(
        alert(alertname="A", severity="warning", cluster="c1", i="1"),
        alert(alertname="A", severity="warning", cluster="c2", i="2"),
    )
    [p] = run(f, firing=[{"severity": "critical", "cluster": "c1"}], rules=[RULE])
    assert [a.label_map()["i"] for a in p.alerts] == ["2"]
    assert len(p.firing) == 1


def test_a_fully_inhibited_or_silenced_or_muted_group_sends_nothing() -> None:
    f = flush_of(alert(alertname="A", severity="warning"))
    assert run(f, firing=[{"severity": "critical"}], rules=[RULE]) == []
    assert run(f, silenced=lambda labels: True) == []
    assert run(f, muted=True) == []


def test_silenced_alerts_are_left_out_and_not_logged() -> None:
    f = flush_of(alert(alertname="A", i="1"), alert(alertname="A", i="2"))
    [p] = run(f, silenced=lambda labels: labels["i"] == "1")
    assert [a.label_map()["i"] for a in p.alerts] == ["2"]
    assert p.firing == {AmAlert.fingerprint_of({"alertname": "A", "i": "2"})}


def test_each_integration_is_deduplicated_on_its_own_log_entry() -> None:
    a = alert(alertname="A")
    f = flush_of(a)
    told = Entry(frozenset({a.fingerprint}), frozenset(), NOW - 10, NOW + 1000)
    planned = run(f, [("webhook/0", True), ("email/0", True)], log={"webhook/0": told})
    assert [p.integration for p in planned] == ["email/0"]


def test_repeat_interval_comes_from_the_route() -> None:
    a = alert(alertname="A")
    f = flush_of(a, repeat="5m")
    told = Entry(frozenset({a.fingerprint}), frozenset(), NOW - 301, NOW + 1000)
    assert [p.integration for p in run(f, log={"webhook/0": told})] == ["webhook/0"]
    recent = Entry(frozenset({a.fingerprint}), frozenset(), NOW - 299, NOW + 1000)
    assert run(f, log={"webhook/0": recent}) == []


def test_without_send_resolved_resolved_alerts_are_not_sent() -> None:
    firing, gone = alert(alertname="A", i="1"), alert(end=950.0, alertname="A", i="2")
    f = flush_of(firing, gone)
    [with_resolved, without] = run(f, [("webhook/0", True), ("webhook/1", False)])
    assert len(with_resolved.alerts) == 2
    assert [a.label_map()["i"] for a in without.alerts] == ["1"]
    assert without.resolved == {gone.fingerprint}  # the log still learns it


def test_all_resolved_without_send_resolved_is_logged_but_not_sent() -> None:
    gone = alert(end=950.0, alertname="A")
    f = flush_of(gone)
    told = Entry(frozenset({gone.fingerprint}), frozenset(), NOW - 10, NOW + 1000)
    [p] = run(f, [("webhook/1", False)], log={"webhook/1": told})
    assert p.alerts == () and p.firing == frozenset() and p.resolved == {gone.fingerprint}


def test_notify_data_marks_status_as_of_the_flush() -> None:
    firing, gone = alert(alertname="A", i="1"), alert(end=950.0, alertname="A", i="2")
    f = flush_of(firing, gone, receiver="team.ops")
    [p] = run(f)
    body = webhook_payload(notify_data(p, f, "http://am.example"))
    assert body["status"] == "firing" and body["receiver"] == "team\\.ops"
    assert [(a["status"], a["endsAt"]) for a in body["alerts"]] == [
        ("firing", "0001-01-01T00:00:00Z"),
        ("resolved", "1970-01-01T00:15:50Z"),
    ]
    assert body["groupKey"] == '{}:{alertname="A"}' and body["groupLabels"] == {"alertname": "A"}
    assert body["commonLabels"] == {"alertname": "A"} and body["commonAnnotations"] == {"s": "x"}
    assert body["externalURL"] == "http://am.example" and body["truncatedAlerts"] == 0


def test_notify_data_truncates_to_max_alerts() -> None:
    f = flush_of(*(alert(alertname="A", i=str(n)) for n in range(3)))
    [p] = run(f)
    data = notify_data(p, f, "", max_alerts=2)
    assert len(data.alerts) == 2 and data.truncated_alerts == 1
    assert data.common_labels == {"alertname": "A"}


def test_route_is_passed_to_the_time_interval_check() -> None:
    f = flush_of(alert(alertname="A"))
    seen: list[tuple[Route, float]] = []

    def muted(route: Route, now: float) -> bool:
        seen.append((route, now))
        return False

    plan(
        f,
        [("webhook/0", True)],
        all_firing_label_sets=[],
        inhibit_rules=[],
        silenced=lambda labels: False,
        time_muted=muted,
        nflog_get=lambda name: None,
        now=NOW,
    )
    assert seen == [(f.route, NOW)]

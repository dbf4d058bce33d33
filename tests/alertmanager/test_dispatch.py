"""Alertmanager's dispatcher: route keys, group keys, timers, flush snapshots, cleanup."""

from __future__ import annotations

from typing import Any

from tenantwatch.alertmanager.alert import AmAlert
from tenantwatch.alertmanager.dispatch import Dispatcher, matchers_string, route_keys, sort_alerts
from tenantwatch.alertmanager.routing import Route, build_route, parse_matchers

TIMERS = {"group_wait": "10s", "group_interval": "60s", "repeat_interval": "1h"}


def tree(*children: dict[str, Any], **root: Any) -> Route:
    return build_route({"receiver": "default", **TIMERS, **root, "routes": list(children)})


def alert(
    start: float = 0.0, end: float = 10_000.0, updated: float = 0.0, **labels: str
) -> AmAlert:
    return AmAlert.of(
        labels=labels, annotations={}, starts_at=start, ends_at=end, updated_at=updated
    )


def test_route_keys_sort_matchers_like_alertmanager() -> None:
    # as amtool/Alertmanager 0.25 print this route (match: + matchers:)
    root = tree(
        {
            "receiver": "r",
            "match": {"a1": "x\\y", "a": "1"},
            "matchers": ['a!="2"', 'a=~"1"', 'b=~".+"'],
        }
    )
    assert list(route_keys(root).values()) == [
        "{}",
        '{}/{a="1",a=~"1",a!="2",a1="x\\\\y",b=~".+"}',
    ]


def test_route_key_nests_parent_keys() -> None:
    root = tree(
        {"receiver": "a", "matchers": ['team="db"']},
        {"receiver": "b", "matchers": ['team=~"db|web"'], "routes": [{"matchers": ['env="s"']}]},
    )
    d = Dispatcher(root)
    leaf = root.routes[1].routes[0]
    assert d.route_key(leaf) == '{}/{team=~"db|web"}/{env="s"}'
    assert d.route_key(root.routes[0]) == '{}/{team="db"}'


def test_matcher_values_are_escaped() -> None:
    assert matchers_string(parse_matchers(['a="q\\"x"'])) == '{a="q\\"x"}'


def test_match_re_keys_show_the_anchored_regex() -> None:
    root = tree({"receiver": "r", "match_re": {"team": "db|web"}})
    assert route_keys(root)[id(root.routes[0])] == '{}/{team=~"^(?:db|web)$"}'


def test_group_key_is_route_key_and_group_labels() -> None:
    d = Dispatcher(tree(group_by=["alertname", "cluster"]))
    d.insert(alert(alertname="DiskFull", cluster="c1", instance="i"), 0.0)
    [group] = d.groups()
    assert group.key == '{}:{alertname="DiskFull", cluster="c1"}'
    assert group.receiver == "default"


def test_first_flush_comes_after_group_wait_then_every_group_interval() -> None:
    d = Dispatcher(tree(group_by=["alertname"]))
    d.insert(alert(start=100.0, alertname="A", i="1"), 100.0)
    assert d.next_due() == 110.0
    assert d.due(109.9) == []
    d.insert(alert(start=105.0, alertname="A", i="2"), 105.0)  # joins, same timer
    [flush] = d.due(110.0)
    assert len(flush.alerts) == 2 and flush.at == 110.0
    assert d.next_due() == 170.0
    assert d.due(169.0) == []
    assert len(d.due(170.0)) == 1


def test_an_alert_older_than_group_wait_flushes_a_new_group_at_once() -> None:
    d = Dispatcher(tree())
    d.insert(alert(start=0.0, alertname="Old"), 100.0)
    assert d.next_due() == 100.0
    assert len(d.due(100.0)) == 1


def test_an_old_alert_joining_a_group_that_flushed_waits_for_the_interval() -> None:
    d = Dispatcher(tree(group_by=["alertname"]))
    d.insert(alert(start=100.0, alertname="A", i="1"), 100.0)
    d.due(110.0)
    d.insert(alert(start=0.0, alertname="A", i="2"), 120.0)
    assert d.next_due() == 170.0


def test_flush_zeroes_the_end_of_firing_alerts_and_keeps_resolved_ends() -> None:
    d = Dispatcher(tree(group_by=["alertname"]))
    d.insert(alert(end=500.0, alertname="A", instance="1"), 0.0)
    d.insert(alert(end=5.0, updated=5.0, alertname="A", instance="2"), 5.0)
    [flush] = d.due(10.0)
    assert [(a.label_map()["instance"], a.ends_at) for a in flush.alerts] == [
        ("1", 0.0),
        ("2", 5.0),
    ]
    assert flush.group_labels == {"alertname": "A"} and flush.receiver == "default"


def test_alerts_sort_by_job_then_instance_then_labels() -> None:
    alerts = [
        alert(alertname="Z"),
        alert(alertname="A", instance="b"),
        alert(alertname="A", job="x", instance="z"),
        alert(alertname="A", instance="a"),
        alert(alertname="A", job="w"),
        alert(alertname="B", extra="1"),
        alert(alertname="A", extra="1"),
    ]
    order = [a.label_map() for a in sort_alerts(alerts)]
    assert order == [
        {"alertname": "A", "job": "w"},
        {"alertname": "A", "job": "x", "instance": "z"},
        {"alertname": "A", "instance": "a"},
        {"alertname": "A", "instance": "b"},
        {"alertname": "Z"},  # fewer labels first
        {"alertname": "A", "extra": "1"},
        {"alertname": "B", "extra": "1"},
    ]


def test_notified_resolved_alerts_leave_the_group_unless_received_again() -> None:
    d = Dispatcher(tree(group_by=["alertname"]))
    d.insert(alert(end=5.0, updated=5.0, alertname="A", i="gone"), 5.0)
    d.insert(alert(end=5.0, updated=5.0, alertname="A", i="back"), 5.0)
    d.insert(alert(alertname="A", i="firing"), 5.0)
    [flush] = d.due(20.0)
    d.insert(alert(start=21.0, end=9_000.0, updated=21.0, alertname="A", i="back"), 21.0)
    d.flushed(flush, 22.0)
    [group] = d.groups()
    assert sorted(a.label_map()["i"] for a in group.alerts.values()) == ["back", "firing"]


def test_maintenance_drops_empty_groups_and_a_new_alert_starts_a_new_group() -> None:
    d = Dispatcher(tree())
    d.insert(alert(end=5.0, updated=5.0, alertname="A"), 5.0)
    [flush] = d.due(15.0)
    d.flushed(flush, 15.0)
    assert d.next_due() is None
    d.maintenance(30.0)
    assert d.groups() == []
    d.insert(alert(start=40.0, alertname="A"), 40.0)
    assert d.next_due() == 50.0


def test_an_emptied_group_keeps_its_schedule_until_maintenance() -> None:
    d = Dispatcher(tree())
    d.insert(alert(start=0.0, end=5.0, updated=5.0, alertname="A"), 0.0)
    [flush] = d.due(10.0)
    d.flushed(flush, 10.0)
    # ticks at 70, 130 flushed nothing; the next is at 190
    d.insert(alert(start=150.0, updated=150.0, alertname="A"), 150.0)
    assert d.next_due() == 190.0


def test_continue_puts_an_alert_in_a_group_per_matching_route() -> None:
    root = tree(
        {"receiver": "db", "matchers": ['team="db"'], "continue": True},
        {"receiver": "all", "group_by": ["..."]},
    )
    d = Dispatcher(root)
    d.insert(alert(alertname="A", team="db", x="1"), 0.0)
    flushes = d.due(10.0)
    assert sorted((f.receiver, f.group_key) for f in flushes) == [
        ("all", '{}/{}:{alertname="A", team="db", x="1"}'),
        ("db", '{}/{team="db"}:{}'),
    ]


def test_identical_routes_keep_separate_groups() -> None:
    same = {"receiver": "r", "matchers": ['a="1"'], "continue": True}
    d = Dispatcher(tree(same, same))
    d.insert(alert(a="1"), 0.0)
    flushes = d.due(10.0)
    assert [f.group_key for f in flushes] == ['{}/{a="1"}:{}'] * 2
    assert flushes[0].group_id != flushes[1].group_id


def test_groups_are_listed_by_labels_then_receiver() -> None:
    root = tree(
        {"receiver": "z", "matchers": ['a="1"'], "continue": True},
        {"receiver": "b", "matchers": ['a="1"']},
        group_by=["alertname"],
    )
    d = Dispatcher(root)
    d.insert(alert(alertname="B", a="1"), 0.0)
    d.insert(alert(alertname="A", a="1"), 0.0)
    d.insert(alert(alertname="C"), 0.0)
    listed = [(dict(g.labels)["alertname"], g.receiver) for g in d.groups()]
    assert listed == [("A", "b"), ("A", "z"), ("B", "b"), ("B", "z"), ("C", "default")]


def test_nothing_is_due_without_alerts() -> None:
    d = Dispatcher(tree())
    assert d.next_due() is None and d.due(1e9) == []

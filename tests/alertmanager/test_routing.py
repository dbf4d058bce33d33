"""Alertmanager's route tree: matchers, first match, continue, inheritance, group_by."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tenantwatch.alertmanager.routing import (
    RoutingError,
    build_route,
    match_routes,
    parse_matcher,
    parse_matchers,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "seed-alertmanager"


def _root(name: str):  # type: ignore[no-untyped-def]
    return build_route(yaml.safe_load((FIXTURES / name).read_text())["route"])


def receivers(root, **labels: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.receiver for r in match_routes(root, labels)]


def test_seed_004_routes_with_continue() -> None:
    root = _root("seed-004.alertmanager.local.yml")
    assert receivers(root, alertname="X", severity="critical") == ["pagerduty"]
    assert receivers(root, severity="critical", team="ml") == ["pagerduty", "slack-ml"]
    assert receivers(root, severity="warning", team="ml") == ["slack-warnings"]
    assert receivers(root, team="database") == ["slack-database"]
    assert receivers(root, alertname="Other") == ["default"]
    [route] = match_routes(root, {"team": "ml"})
    assert route.group_by == ("alertname", "cluster", "service")  # inherited
    assert (route.group_wait_s, route.group_interval_s, route.repeat_interval_s) == (
        10,
        10,
        12 * 3600,
    )


def test_seed_000_routes_and_overrides() -> None:
    root = _root("seed-000.alertmanager.local.yml")
    [critical] = match_routes(root, {"severity": "critical", "tenant": "acme"})
    assert critical.receiver == "critical-alerts"
    assert (critical.group_wait_s, critical.group_interval_s, critical.repeat_interval_s) == (
        10,
        60,
        300,
    )
    [tenant] = match_routes(root, {"tenant": "acme", "severity": "warning"})
    assert tenant.receiver == "tenant-alerts" and tenant.group_by == ("tenant", "alertname")
    assert receivers(root, tenant="", category="security") == ["security-team"]  # .+ needs a value
    assert receivers(root, severity="info") == ["default"]


@pytest.mark.parametrize(
    ("text", "labels", "hit"),
    [
        ('severity="critical"', {"severity": "critical"}, True),
        ("severity=critical", {"severity": "critical"}, True),
        ('severity!="critical"', {}, True),
        ('tenant=~"acme|globex"', {"tenant": "globex"}, True),
        ('tenant=~"acme"', {"tenant": "acme-corp"}, False),  # anchored
        ('tenant!~".+"', {}, True),
        ('msg="a, b"', {"msg": "a, b"}, True),
    ],
)
def test_matchers(text: str, labels: dict[str, str], hit: bool) -> None:
    assert parse_matcher(text).matches(labels) is hit


def test_matcher_lists_and_errors() -> None:
    ms = parse_matchers(['{severity="critical", tenant=~"a.*"}', 'team="x"'])
    assert [str(m) for m in ms] == ['severity="critical"', 'tenant=~"a.*"', 'team="x"']
    with pytest.raises(RoutingError, match="bad matcher"):
        parse_matcher("severity")
    with pytest.raises(RoutingError, match="invalid regular expression"):
        parse_matcher('a=~"("')


def test_group_by_all_and_bad_routes() -> None:
    root = build_route({"receiver": "r", "group_by": ["..."], "routes": [{"match": {"a": "1"}}]})
    [route] = match_routes(root, {"a": "1", "b": "2"})
    assert route.group_by_all and route.group_key_labels({"a": "1", "b": "2"}) == {
        "a": "1",
        "b": "2",
    }
    with pytest.raises(RoutingError, match="list it alone"):
        build_route({"receiver": "r", "group_by": ["...", "a"]})
    with pytest.raises(RoutingError, match="needs a receiver"):
        build_route({})
    with pytest.raises(RoutingError, match="unknown field 'recevier'"):
        build_route({"receiver": "r", "routes": [{"recevier": "x"}]})

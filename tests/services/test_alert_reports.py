"""What the Alertmanager API reports: each alert's receivers, silences and inhibitors, and
the filters of GET /api/v2/alerts and /alerts/groups."""

from __future__ import annotations

from collections.abc import Sequence

from tenantwatch.alertmanager.config import parse_alertmanager_config
from tenantwatch.alertmanager.outgoing import Outgoing
from tenantwatch.alertmanager.routing import LabelMatcher
from tenantwatch.alertmanager.silences import Silence
from tenantwatch.services.alert_reports import AlertReport, alert_page
from tenantwatch.services.alerting import AlertingService, Incoming
from tests.services.memory_alert_repo import MemoryAlertRepo

NOW = 1_700_000_000.0
AM = """
route:
  receiver: hook
  group_by: [alertname]
  routes:
    - receiver: pager
      matchers: [severity="critical"]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
receivers: [{name: hook}, {name: pager}]
"""


async def nowhere(items: Sequence[Outgoing]) -> None:
    pass


async def alerting() -> AlertingService:
    svc = AlertingService(
        parse_alertmanager_config(AM, "am.yml"),
        MemoryAlertRepo(),
        nowhere,
        external_url="",
        now=lambda: NOW,
    )
    await svc.post(
        [
            Incoming(
                {"alertname": "Down", "severity": "critical", "service": "api"}, {}, NOW, None
            ),
            Incoming({"alertname": "Slow", "severity": "warning", "service": "api"}, {}, NOW, None),
            Incoming({"alertname": "Noisy", "tenant": "alpha"}, {}, NOW, None),
            Incoming({"alertname": "Over"}, {}, NOW - 60, NOW - 1),
        ]
    )
    await svc.save_silence(
        Silence(
            id="s1",
            matchers=(LabelMatcher.of("alertname", "=", "Noisy"),),
            starts_at=NOW - 1,
            ends_at=NOW + 60,
            updated_at=NOW,
            created_by="ops",
            comment="",
        )
    )
    return svc


def names(reports: Sequence[AlertReport]) -> list[str]:
    return sorted(r.record.alert.label_map()["alertname"] for r in reports)


async def test_each_alert_is_reported_with_what_suppresses_it() -> None:
    svc = await alerting()
    by_name = {
        r.record.alert.label_map()["alertname"]: r for r in svc.reports.alerts(None, [], NOW)
    }
    assert sorted(by_name) == ["Down", "Noisy", "Slow"]  # the resolved one is not listed
    down, slow, noisy = by_name["Down"], by_name["Slow"], by_name["Noisy"]
    assert (down.state, down.receivers) == ("active", ("pager",))
    assert (slow.state, slow.inhibited_by) == ("suppressed", (down.record.fingerprint,))
    assert (noisy.state, noisy.silenced_by, noisy.inhibited_by) == ("suppressed", ("s1",), ())


async def test_the_list_filters_as_alertmanagers_does() -> None:
    svc = await alerting()
    reports = svc.reports
    assert names(reports.alerts(None, [], NOW, silenced=False)) == ["Down", "Slow"]
    assert names(reports.alerts(None, [], NOW, inhibited=False)) == ["Down", "Noisy"]
    assert names(reports.alerts(None, [], NOW, active=False)) == ["Noisy", "Slow"]
    assert names(reports.alerts("alpha", [], NOW)) == ["Noisy"]
    severe = [LabelMatcher.of("severity", "=", "critical")]
    assert names(reports.alerts(None, severe, NOW)) == ["Down"]
    assert names(reports.alerts(None, [], NOW, receiver=lambda n: n == "pager")) == ["Down"]


async def test_groups_hold_their_unresolved_alerts_of_the_tenant() -> None:
    svc = await alerting()
    groups = svc.reports.groups(None, [], NOW)
    assert sorted((g.receiver, g.labels["alertname"]) for g in groups) == [
        ("hook", "Noisy"),
        ("hook", "Slow"),
        ("pager", "Down"),
    ]
    alpha = svc.reports.groups("alpha", [], NOW, receiver=lambda n: n == "hook")
    assert [(g.labels, names(g.alerts)) for g in alpha] == [({"alertname": "Noisy"}, ["Noisy"])]


async def test_seed_002s_list_puts_the_most_severe_first_and_pages_by_cursor() -> None:
    svc = await alerting()
    everything = alert_page(svc.visible(None), NOW, limit=2)
    assert everything.total == 4  # the resolved one too
    first = [r.alert.label_map()["alertname"] for r in everything.alerts]
    assert first[0] == "Down"  # critical before warning before the rest
    assert first[1] == "Slow"
    assert everything.next_cursor == everything.alerts[-1].fingerprint
    rest = alert_page(svc.visible(None), NOW, cursor=everything.next_cursor, limit=2)
    assert rest.next_cursor is None
    assert sorted(r.alert.label_map()["alertname"] for r in rest.alerts) == ["Noisy", "Over"]
    resolved = alert_page(svc.visible(None), NOW, status="resolved")
    assert [r.alert.label_map()["alertname"] for r in resolved.alerts] == ["Over"]
    assert alert_page(svc.visible(None), NOW, severity="warning", tenant="alpha").total == 0
    assert alert_page(svc.visible(None), NOW, cursor="not-there").alerts == ()

"""Durations and impact as the messages and reviews say them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tenantwatch.incidents.model import AffectedTenant
from tenantwatch.incidents.wording import human_duration, impact

T0 = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(seconds=59), "less than a minute"),
        (timedelta(minutes=1, seconds=59), "1 minute"),
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=1, minutes=5), "1 hour 5 minutes"),
        (timedelta(days=2, hours=3, minutes=7), "2 days 3 hours"),
        (timedelta(days=1, minutes=7), "1 day 7 minutes"),
    ],
)
def test_durations_read_as_people_say_them(span: timedelta, said: str) -> None:
    assert human_duration(span) == said


def test_impact_counts_tenants_by_tier_most_first() -> None:
    tenants = [
        AffectedTenant("a", "basic", T0),
        AffectedTenant("b", "enterprise", T0),
        AffectedTenant("c", "enterprise", T0),
        AffectedTenant("d", None, T0),
    ]
    assert impact(tenants) == "4 tenants (2 enterprise, 1 basic, 1 no tier)"
    assert impact(tenants[:1]) == "1 tenant (basic)"
    assert impact([]) == "no tenant identified yet"

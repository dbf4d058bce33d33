"""What `location: Local` means: the host's zone, from $TZ or /etc/localtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantwatch.alertmanager.host_zone import host_zone
from tenantwatch.alertmanager.time_intervals import parse_time_interval

NEW_YORK = Path("/usr/share/zoneinfo/America/New_York")


def test_tz_names_the_zone() -> None:
    assert host_zone("Europe/Berlin", Path("/nonexistent")) == "Europe/Berlin"
    assert host_zone(":Asia/Tokyo", Path("/nonexistent")) == "Asia/Tokyo"


@pytest.mark.skipif(not NEW_YORK.exists(), reason="no system zoneinfo here")
def test_otherwise_the_zone_etc_localtime_links_to(tmp_path: Path) -> None:
    link = tmp_path / "localtime"
    link.symlink_to(NEW_YORK)
    assert host_zone("", link) == "America/New_York"
    assert host_zone("Not/AZone", link) == "America/New_York"  # a bad $TZ is passed over


def test_utc_when_nothing_says(tmp_path: Path) -> None:
    assert host_zone("", tmp_path / "missing") == "UTC"
    plain = tmp_path / "localtime"
    plain.write_bytes(b"TZif")  # a copied file, not a link: its name is unknown
    assert host_zone("", plain) == "UTC"


def test_local_intervals_run_in_the_given_zone() -> None:
    entry = {"times": [{"start_time": "09:00", "end_time": "17:00"}], "location": "Local"}
    assert parse_time_interval(entry, "Europe/Berlin").location == "Europe/Berlin"
    assert parse_time_interval(entry).location == "UTC"
    # 08:30 UTC on a winter day is 09:30 in Berlin: inside the Berlin interval only
    at = 1_704_097_800.0  # 2024-01-01 08:30 UTC
    assert parse_time_interval(entry, "Europe/Berlin").contains(at)
    assert not parse_time_interval(entry).contains(at)

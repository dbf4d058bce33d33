from __future__ import annotations

import pytest

from tenantwatch.alertmanager.notify_data import (
    NotifyAlert,
    build_notify_data,
    go_time,
    parse_go_time,
    receiver_name,
    webhook_payload,
)


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (0.0, "0001-01-01T00:00:00Z"),
        (1675688925.828, "2023-02-06T13:08:45.828Z"),
        (1675688925.0, "2023-02-06T13:08:45Z"),
        (1675688925.5, "2023-02-06T13:08:45.5Z"),
        (1675688925.000001, "2023-02-06T13:08:45.000001Z"),
    ],
)
def test_go_time_formats_like_go_json(ts: float, text: str) -> None:
    assert go_time(ts) == text


def test_parse_go_time_reads_offsets_and_zero() -> None:
    assert parse_go_time("2023-02-06T13:08:45.828Z") == pytest.approx(1675688925.828)
    assert parse_go_time("2023-02-06T14:08:45+01:00") == 1675688925.0
    assert parse_go_time("0001-01-01T00:00:00Z") == 0.0
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_go_time("yesterday")


def test_receiver_name_is_regexp_quoted() -> None:
    assert receiver_name("team-a.pager") == r"team-a\.pager"


def _alert(status: str, **labels: str) -> NotifyAlert:
    return NotifyAlert(status, labels, {"summary": "s"}, 1.0, 0.0, "", "f")


def test_webhook_payload_common_labels_and_status() -> None:
    data = build_notify_data(
        "web",
        {"alertname": "A"},
        [_alert("resolved", alertname="A", x="1"), _alert("firing", alertname="A", x="2")],
        "http://tw",
        '{}:{alertname="A"}',
    )
    body = webhook_payload(data)
    assert body["status"] == "firing"
    assert body["commonLabels"] == {"alertname": "A"}
    assert body["commonAnnotations"] == {"summary": "s"}
    assert body["version"] == "4"
    assert [a["endsAt"] for a in body["alerts"]] == ["0001-01-01T00:00:00Z"] * 2
    assert len(data.firing) == 1 and len(data.resolved) == 1

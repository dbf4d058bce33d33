from __future__ import annotations

from tenantwatch.alertmanager.notify_data import (
    NotifyAlert,
    build_notify_data,
    receiver_name,
    webhook_payload,
)


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

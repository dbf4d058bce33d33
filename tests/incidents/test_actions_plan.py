"""Planning incident actions: matchers, cooldown, hourly limit, approval, dry run, templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jinja2.exceptions import SecurityError

from tenantwatch.incidents.actions import (
    ActionKind,
    ActionSpec,
    Matchers,
    Outcome,
    OutcomeStatus,
    PastRun,
    PlanStatus,
    entry_for,
    not_run,
    plan,
    render,
)
from tenantwatch.incidents.model import (
    AffectedTenant,
    EntryKind,
    Incident,
    LinkedAlert,
    Severity,
    Status,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def incident(
    *tenants: str,
    id: str = "INC-20261207-0001",
    severity: Severity = Severity.P1,
    status: Status = Status.OPEN,
    labels: dict[str, str] | None = None,
) -> Incident:
    tenants = tenants or ("acme",)
    return Incident(
        id=id,
        title="API down",
        severity=severity,
        status=status,
        detected_at=NOW - timedelta(minutes=5),
        tenants=tuple(AffectedTenant(t, "enterprise", NOW) for t in tenants),
        alerts=tuple(
            LinkedAlert(
                f"fp-{t}",
                "ApiDown",
                t,
                {"alertname": "ApiDown", "tenant": t, "pod": f"api-{t}-0"} | (labels or {}),
                True,
                NOW,
            )
            for t in tenants
        ),
    )


def webhook(name: str = "hook", **kw: object) -> ActionSpec:
    params = kw.pop("params", {"url": "http://127.0.0.1:1/hook"})
    return ActionSpec(name, ActionKind.WEBHOOK, params=params, **kw)  # type: ignore[arg-type]


def test_a_matching_action_runs_once_per_affected_tenant() -> None:
    planned = plan(incident("acme", "globex"), [webhook()], [], NOW)
    assert [(p.tenant, p.status) for p in planned] == [
        ("acme", PlanStatus.RUN),
        ("globex", PlanStatus.RUN),
    ]


def test_an_incident_wide_action_runs_once_with_no_tenant() -> None:
    planned = plan(incident("acme", "globex"), [webhook(per_tenant=False)], [], NOW)
    assert [(p.tenant, p.status) for p in planned] == [(None, PlanStatus.RUN)]


def test_matchers_on_severity_status_tenant_and_alert_labels() -> None:
    inc = incident("acme", "globex", severity=Severity.P2, status=Status.INVESTIGATING)
    specs = [
        webhook("p1-only", matchers=Matchers(severities=(Severity.P1,))),
        webhook("p2", matchers=Matchers(severities=(Severity.P1, Severity.P2))),
        webhook("open-only", matchers=Matchers(statuses=(Status.OPEN,))),
        webhook("acme", matchers=Matchers(tenants=("acme",))),
        webhook("glob-regex", matchers=Matchers(tenant_regex="glob.*")),
        webhook("partial-regex", matchers=Matchers(tenant_regex="glob")),
        webhook("pod", matchers=Matchers(labels={"pod": "api-.*"})),
        webhook("db", matchers=Matchers(labels={"alertname": "Db.*"})),
    ]
    got = [(p.spec.name, p.tenant) for p in plan(inc, specs, [], NOW)]
    assert got == [
        ("p2", "acme"),
        ("p2", "globex"),
        ("acme", "acme"),
        ("glob-regex", "globex"),
        ("pod", "acme"),
        ("pod", "globex"),
    ]


def test_a_second_run_within_the_cooldown_is_skipped_with_when_it_may_run_again() -> None:
    spec = webhook(cooldown=timedelta(minutes=10))
    past = [PastRun("hook", "INC-20261207-0001", "acme", NOW - timedelta(minutes=4))]
    [item] = plan(incident(), [spec], past, NOW)
    assert item.status is PlanStatus.SKIPPED
    assert item.reason == (
        "cooldown: ran for tenant acme at 2026-12-07T11:56:00Z; next run after 2026-12-07T12:06:00Z"
    )
    [later] = plan(incident(), [spec], past, NOW + timedelta(minutes=6))
    assert later.status is PlanStatus.RUN


def test_the_cooldown_holds_for_the_tenant_across_incidents_but_not_for_other_tenants() -> None:
    spec = webhook(cooldown=timedelta(minutes=10))
    past = [PastRun("hook", "INC-20261207-0001", "acme", NOW - timedelta(minutes=1))]
    other = incident("acme", "globex", id="INC-20261207-0002")
    got = [(p.tenant, p.status, p.reason[:29]) for p in plan(other, [spec], past, NOW)]
    assert got == [
        ("acme", PlanStatus.SKIPPED, "cooldown: ran for tenant acme"),
        ("globex", PlanStatus.RUN, ""),
    ]


def test_an_incident_wide_action_s_cooldown_is_per_incident() -> None:
    spec = webhook(per_tenant=False, cooldown=timedelta(minutes=10))
    past = [PastRun("hook", "INC-20261207-0001", None, NOW - timedelta(minutes=1))]
    [same] = plan(incident(), [spec], past, NOW)
    assert same.status is PlanStatus.SKIPPED
    assert same.reason.startswith("cooldown: ran for this incident at 2026-12-07T11:59:00Z")
    [other] = plan(incident(id="INC-20261207-0002"), [spec], past, NOW)
    assert other.status is PlanStatus.RUN


def test_another_action_s_runs_do_not_count_toward_its_cooldown() -> None:
    past = [PastRun("other", "INC-20261207-0001", "acme", NOW - timedelta(minutes=1))]
    [item] = plan(incident(), [webhook()], past, NOW)
    assert item.status is PlanStatus.RUN


def test_max_per_hour_counts_runs_across_all_incidents_including_this_plan() -> None:
    spec = webhook(max_per_hour=3, cooldown=timedelta(0))
    past = [
        PastRun("hook", "INC-20261207-0007", "initech", NOW - timedelta(minutes=30)),
        PastRun("hook", "INC-20261207-0008", "umbrella", NOW - timedelta(minutes=59)),
        PastRun("hook", "INC-20261207-0009", "umbrella", NOW - timedelta(minutes=61)),  # too old
    ]
    planned = plan(incident("acme", "globex"), [spec], past, NOW)
    assert [(p.tenant, p.status) for p in planned] == [
        ("acme", PlanStatus.RUN),
        ("globex", PlanStatus.SKIPPED),
    ]
    assert planned[1].reason == "limit: ran 3 times in the last hour (max_per_hour 3)"


def test_an_action_needing_approval_waits_until_approved() -> None:
    spec = webhook(approval=True)
    [waiting] = plan(incident(), [spec], [], NOW)
    assert (waiting.status, waiting.reason) == (PlanStatus.AWAITING_APPROVAL, "awaiting approval")
    assert waiting.params["payload"]["incident_id"] == "INC-20261207-0001"  # shows what it would do
    outcome = not_run(waiting, "INC-20261207-0001", NOW)
    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    [approved] = plan(incident(), [spec], [], NOW, approved={"hook"})
    assert approved.status is PlanStatus.RUN


def test_a_skip_for_cooldown_comes_before_asking_for_approval() -> None:
    spec = webhook(approval=True)
    past = [PastRun("hook", "INC-20261207-0001", "acme", NOW - timedelta(minutes=1))]
    [item] = plan(incident(), [spec], past, NOW)
    assert item.status is PlanStatus.SKIPPED


def test_a_dry_run_action_is_planned_like_a_real_one_and_its_runs_count() -> None:
    spec = webhook(dry_run=True)
    [item] = plan(incident(), [spec], [], NOW)
    assert item.status is PlanStatus.RUN and item.spec.dry_run
    past = [PastRun("hook", "INC-20261207-0001", "acme", NOW - timedelta(minutes=1))]
    [again] = plan(incident(), [spec], past, NOW)
    assert again.status is PlanStatus.SKIPPED


def test_parameters_render_incident_tenant_and_the_tenant_s_alert_labels() -> None:
    spec = ActionSpec(
        "restart",
        ActionKind.SHELL,
        params={
            "argv": ["restart", "{{ incident.id }}", "{{ tenant }}", "{{ labels.pod }}"],
            "env": {"SEVERITY": "{{ incident.severity }}"},
            "count": 3,
        },
    )
    planned = plan(incident("acme", "globex"), [spec], [], NOW)
    assert [p.params for p in planned] == [
        {
            "argv": ["restart", "INC-20261207-0001", "acme", "api-acme-0"],
            "env": {"SEVERITY": "P1"},
            "count": 3,
        },
        {
            "argv": ["restart", "INC-20261207-0001", "globex", "api-globex-0"],
            "env": {"SEVERITY": "P1"},
            "count": 3,
        },
    ]


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ incident.__class__ }}",
        "{{ labels.items.__self__ }}",
    ],
)
def test_the_sandbox_refuses_attribute_access_that_escapes(template: str) -> None:
    with pytest.raises(SecurityError):
        render(template, {"incident": {"id": "x"}, "labels": {}, "tenant": ""})
    spec = webhook(params={"url": "http://127.0.0.1:1/", "note": template})
    [item] = plan(incident(), [spec], [], NOW)
    assert item.status is PlanStatus.INVALID
    assert item.reason.startswith("parameters do not render: SecurityError")
    assert not_run(item, "INC-20261207-0001", NOW).status is OutcomeStatus.FAILED


def test_an_undefined_name_makes_the_run_invalid_rather_than_rendering_empty() -> None:
    spec = webhook(params={"url": "http://127.0.0.1:1/", "note": "{{ labels.nope }}"})
    [item] = plan(incident(), [spec], [], NOW)
    assert item.status is PlanStatus.INVALID
    assert "UndefinedError" in item.reason and "nope" in item.reason


def test_block_ip_without_an_ip_is_invalid_and_says_which_parameter() -> None:
    spec = ActionSpec("block", ActionKind.BLOCK_IP, params={"url": "http://127.0.0.1:1/"})
    [item] = plan(incident(), [spec], [], NOW)
    assert item.status is PlanStatus.INVALID
    assert item.reason.endswith("action block: block_ip needs the parameter 'ip'")


def test_webhook_kinds_get_their_fixed_payloads() -> None:
    inc = incident(labels={"source_ip": "203.0.113.9", "user": "u-42"})
    url = {"url": "http://127.0.0.1:1/"}
    specs = [
        ActionSpec("block", ActionKind.BLOCK_IP, params=url | {"ip": "{{ labels.source_ip }}"}),
        ActionSpec(
            "lock", ActionKind.DISABLE_ACCOUNT, params=url | {"account": "{{ labels.user }}"}
        ),
        ActionSpec("ticket", ActionKind.TICKET, params=url),
        ActionSpec("maint", ActionKind.MAINTENANCE, params=url | {"duration_minutes": 30}),
    ]
    payloads = [p.params["payload"] for p in plan(inc, specs, [], NOW)]
    head = {"version": "1", "incident_id": "INC-20261207-0001", "tenant": "acme"}
    assert payloads == [
        head
        | {
            "type": "block_ip",
            "action": "block",
            "ip": "203.0.113.9",
            "duration_seconds": 3600,
            "reason": "API down",
        },
        head
        | {"type": "disable_account", "action": "lock", "account": "u-42", "reason": "API down"},
        head
        | {
            "type": "ticket",
            "action": "ticket",
            "title": "INC-20261207-0001: API down",
            "priority": "urgent",
            "description": "",
            "severity": "P1",
        },
        head
        | {
            "type": "maintenance",
            "action": "maint",
            "silence": {
                "matchers": [
                    {"name": "tenant", "value": "acme", "isRegex": False, "isEqual": True}
                ],
                "startsAt": "2026-12-07T12:00:00Z",
                "endsAt": "2026-12-07T12:30:00Z",
                "createdBy": "tenantwatch action maint",
                "comment": "maintenance for INC-20261207-0001",
            },
            "status_page": {"tenant": "acme", "status": "maintenance", "message": "API down"},
        },
    ]


def test_an_outcome_becomes_an_action_entry_in_the_timeline() -> None:
    outcome = Outcome(
        "scale-api",
        ActionKind.KUBERNETES_SCALE,
        OutcomeStatus.DRY_RUN,
        "would scale to 4 replicas deployment acme/api",
        NOW,
        NOW + timedelta(seconds=1),
        dry_run=True,
        tenant="acme",
    )
    entry = entry_for(outcome)
    assert entry.kind is EntryKind.ACTION
    assert entry.at == NOW + timedelta(seconds=1)
    assert entry.text == (
        "action scale-api for acme: dry_run: would scale to 4 replicas deployment acme/api"
    )
    assert entry.data == {
        "action": "scale-api",
        "kind": "kubernetes_scale",
        "status": "dry_run",
        "dry_run": True,
        "detail": "would scale to 4 replicas deployment acme/api",
        "tenant": "acme",
        "started": "2026-12-07T12:00:00Z",
    }


def test_an_incident_wide_maintenance_silences_every_tenant_of_the_incident() -> None:
    spec = ActionSpec(
        "maint", ActionKind.MAINTENANCE, params={"url": "http://127.0.0.1:1/"}, per_tenant=False
    )
    [item] = plan(incident("acme", "a.b"), [spec], [], NOW)
    assert item.params["payload"]["silence"]["matchers"] == [
        {"name": "tenant", "value": "acme|a\\.b", "isRegex": True, "isEqual": True}
    ]

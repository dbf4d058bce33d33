"""Executors against real loopback servers and real processes."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tenantwatch.adapters.actions import KubernetesExecutor, ShellExecutor, WebhookExecutor
from tenantwatch.adapters.actions.kubernetes import RESTARTED_AT
from tenantwatch.domain.ssrf import SsrfPolicy
from tenantwatch.incidents.actions import ActionKind, ActionSpec, OutcomeStatus
from tests.adapters.actions.kube_api import KubeApi, running_kube_api
from tests.receivers import Receiver, running_receiver

PAYLOAD = {"version": "1", "type": "block_ip", "ip": "203.0.113.9", "tenant": "acme"}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as rec:
        yield rec


@pytest.fixture
async def webhooks() -> AsyncIterator[WebhookExecutor]:
    ex = WebhookExecutor(SsrfPolicy.from_allow_list(["127.0.0.1"]))
    try:
        yield ex
    finally:
        await ex.close()


@pytest.fixture
async def kube() -> AsyncIterator[KubeApi]:
    async with running_kube_api() as api:
        api.replicas[("tenant-acme", "api")] = 3
        yield api


def spec(kind: ActionKind, **kw: Any) -> ActionSpec:
    return ActionSpec(f"test-{kind}", kind, **kw)


# webhooks


async def test_a_webhook_posts_the_payload_as_json_with_configured_headers(
    receiver: Receiver, webhooks: WebhookExecutor
) -> None:
    params = {"url": receiver.url + "/block", "headers": {"X-Key": "k1"}, "payload": PAYLOAD}
    out = await webhooks.run(spec(ActionKind.BLOCK_IP), params, False)
    assert out.status is OutcomeStatus.DONE
    assert out.detail == f"block ip 203.0.113.9 via POST {receiver.url}/block: 200"
    [req] = receiver.requests
    assert (req.method, req.path) == ("POST", "/block")
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["X-Key"] == "k1"
    assert json.loads(req.body) == PAYLOAD


async def test_a_webhook_answering_500_is_a_failed_outcome_with_the_answer(
    receiver: Receiver, webhooks: WebhookExecutor
) -> None:
    receiver.status, receiver.body = 500, b"database is down"
    out = await webhooks.run(spec(ActionKind.TICKET), {"url": receiver.url, "payload": {}}, False)
    assert out.status is OutcomeStatus.FAILED
    assert out.detail.endswith("answered 500: database is down")


async def test_an_unreachable_webhook_is_a_failed_outcome(webhooks: WebhookExecutor) -> None:
    out = await webhooks.run(spec(ActionKind.WEBHOOK), {"url": "http://127.0.0.1:9/"}, False)
    assert out.status is OutcomeStatus.FAILED
    assert "ClientConnectorError" in out.detail


async def test_a_slow_webhook_fails_at_the_action_s_timeout(
    receiver: Receiver, webhooks: WebhookExecutor
) -> None:
    receiver.delay = 2.0
    action = spec(ActionKind.WEBHOOK, timeout=timedelta(seconds=0.3))
    began = time.monotonic()
    out = await webhooks.run(action, {"url": receiver.url}, False)
    assert out.status is OutcomeStatus.FAILED
    assert out.detail.endswith("no answer within 0.3s")
    assert time.monotonic() - began < 1.5


async def test_a_webhook_to_an_internal_address_not_allowed_is_refused(receiver: Receiver) -> None:
    guarded = WebhookExecutor(SsrfPolicy())
    try:
        out = await guarded.run(spec(ActionKind.WEBHOOK), {"url": receiver.url}, False)
    finally:
        await guarded.close()
    assert out.status is OutcomeStatus.FAILED
    assert "refused to connect to 127.0.0.1" in out.detail
    assert receiver.requests == []


async def test_a_dry_run_webhook_calls_nothing_and_says_what_it_would_do(
    receiver: Receiver, webhooks: WebhookExecutor
) -> None:
    params = {"url": receiver.url + "/lock?token=secret", "payload": {"account": "u-42"}}
    out = await webhooks.run(spec(ActionKind.DISABLE_ACCOUNT), params, True)
    assert (out.status, out.dry_run) == (OutcomeStatus.DRY_RUN, True)
    assert out.detail == f"would disable account u-42 via POST {receiver.url}/lock"
    assert receiver.requests == []


# shell


async def test_a_shell_action_runs_an_argv_without_a_shell_and_keeps_its_output() -> None:
    argv = [sys.executable, "-c", "import sys; print('hello $HOME'); print(sys.argv[1:])", "a b"]
    out = await ShellExecutor().run(spec(ActionKind.SHELL), {"argv": argv}, False)
    assert out.status is OutcomeStatus.DONE
    assert out.detail.endswith("exit 0\nhello $HOME\n['a b']")


async def test_a_shell_action_exiting_non_zero_fails_with_its_status_and_stderr() -> None:
    argv = [sys.executable, "-c", "import sys; sys.stderr.write('no such deployment'); sys.exit(3)"]
    out = await ShellExecutor().run(spec(ActionKind.SHELL), {"argv": argv}, False)
    assert out.status is OutcomeStatus.FAILED
    assert out.detail.endswith("exit 3\nno such deployment")


async def test_the_shell_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    code = (
        "import subprocess, sys, time; p = subprocess.Popen(['sleep', '30']); "
        "open(sys.argv[1], 'w').write(str(p.pid)); time.sleep(30)"
    )
    action = spec(ActionKind.SHELL, timeout=timedelta(seconds=1))
    began = time.monotonic()
    out = await ShellExecutor().run(
        action, {"argv": [sys.executable, "-c", code, str(pid_file)]}, False
    )
    assert time.monotonic() - began < 5
    assert out.status is OutcomeStatus.FAILED
    assert out.detail.endswith("killed after 1s without finishing")
    assert not _running(int(pid_file.read_text()))


def _running(pid: int) -> bool:
    """Whether the process is alive (a zombie waiting to be reaped is not)."""
    for _ in range(50):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.02)
    return True


async def test_shell_output_is_cut_to_4_kib() -> None:
    argv = [sys.executable, "-c", "print('x' * 10000)"]
    out = await ShellExecutor().run(spec(ActionKind.SHELL), {"argv": argv}, False)
    assert out.detail.split("\n")[1] == "x" * 4096
    assert out.detail.endswith("[5905 more bytes left out]")


async def test_a_shell_action_not_from_the_config_file_is_refused(tmp_path: Any) -> None:
    marker = tmp_path / "ran"
    argv = [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
    out = await ShellExecutor().run(
        spec(ActionKind.SHELL, from_config=False), {"argv": argv}, False
    )
    assert out.status is OutcomeStatus.FAILED
    assert "run only from the config file" in out.detail
    assert not marker.exists()


async def test_a_shell_action_whose_program_is_missing_fails_without_raising() -> None:
    out = await ShellExecutor().run(spec(ActionKind.SHELL), {"argv": ["/nonexistent/x"]}, False)
    assert out.status is OutcomeStatus.FAILED
    assert "No such file" in out.detail


async def test_a_dry_run_shell_action_runs_nothing(tmp_path: Any) -> None:
    marker = tmp_path / "ran"
    argv = [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
    out = await ShellExecutor().run(spec(ActionKind.SHELL), {"argv": argv}, True)
    assert out.status is OutcomeStatus.DRY_RUN
    assert out.detail.startswith(f"would run {sys.executable} -c ")
    assert not marker.exists()


# kubernetes


def kube_params(api: KubeApi, **extra: Any) -> dict[str, Any]:
    base = {
        "api_server": api.url,
        "token": "t0k3n",
        "namespace": "tenant-acme",
        "deployment": "api",
    }
    return base | extra


async def test_scale_by_factor_reads_the_scale_then_patches_replicas(kube: KubeApi) -> None:
    action = spec(ActionKind.KUBERNETES_SCALE)
    out = await KubernetesExecutor().run(action, kube_params(kube, factor=2), False)
    assert out.status is OutcomeStatus.DONE, out.detail
    assert out.detail == f"scaled deployment tenant-acme/api from 3 to 6 replicas at {kube.url}"
    path = "/apis/apps/v1/namespaces/tenant-acme/deployments/api/scale"
    get, patch = kube.requests
    assert (get.method, get.path, get.authorization) == ("GET", path, "Bearer t0k3n")
    assert (patch.method, patch.path) == ("PATCH", path)
    assert patch.content_type == "application/strategic-merge-patch+json"
    assert patch.body == {"spec": {"replicas": 6}}
    assert kube.replicas[("tenant-acme", "api")] == 6


async def test_scale_to_an_absolute_number_within_the_bounds(kube: KubeApi) -> None:
    action = spec(ActionKind.KUBERNETES_SCALE)
    params = kube_params(kube, replicas="25", max_replicas=20)  # templates render to text
    out = await KubernetesExecutor().run(action, params, False)
    assert out.status is OutcomeStatus.DONE, out.detail
    assert kube.requests[-1].body == {"spec": {"replicas": 20}}


async def test_restart_patches_the_restarted_at_annotation_as_kubectl_does(kube: KubeApi) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    out = await KubernetesExecutor().run(
        spec(ActionKind.KUBERNETES_RESTART), kube_params(kube), False
    )
    assert out.status is OutcomeStatus.DONE, out.detail
    assert out.detail == f"restarted deployment tenant-acme/api at {kube.url}"
    [patch] = kube.requests
    assert (patch.method, patch.path) == (
        "PATCH",
        "/apis/apps/v1/namespaces/tenant-acme/deployments/api",
    )
    assert patch.content_type == "application/strategic-merge-patch+json"
    assert patch.authorization == "Bearer t0k3n"
    stamp = patch.body["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
    assert patch.body == {
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}
    }
    at = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= at <= datetime.now(UTC)


async def test_an_api_error_is_a_failed_outcome_with_its_status(kube: KubeApi) -> None:
    kube.fail_with = 403
    out = await KubernetesExecutor().run(
        spec(ActionKind.KUBERNETES_RESTART), kube_params(kube), False
    )
    assert out.status is OutcomeStatus.FAILED
    assert "API answered 403 Forbidden" in out.detail


async def test_a_missing_deployment_is_a_failed_outcome(kube: KubeApi) -> None:
    params = kube_params(kube, deployment="nope", factor=2)
    out = await KubernetesExecutor().run(spec(ActionKind.KUBERNETES_SCALE), params, False)
    assert out.status is OutcomeStatus.FAILED
    assert "API answered 404" in out.detail


async def test_an_unreachable_api_server_is_a_failed_outcome() -> None:
    params = {"api_server": "http://127.0.0.1:9", "deployment": "api", "factor": 2}
    out = await KubernetesExecutor().run(spec(ActionKind.KUBERNETES_SCALE), params, False)
    assert out.status is OutcomeStatus.FAILED


async def test_a_kubernetes_dry_run_sends_no_request(kube: KubeApi) -> None:
    ex = KubernetesExecutor()
    scale = await ex.run(spec(ActionKind.KUBERNETES_SCALE), kube_params(kube, factor=2), True)
    restart = await ex.run(spec(ActionKind.KUBERNETES_RESTART), kube_params(kube), True)
    assert [scale.detail, restart.detail] == [
        f"would scale to current x 2 replicas deployment tenant-acme/api at {kube.url}",
        f"would restart deployment tenant-acme/api at {kube.url}",
    ]
    assert {scale.status, restart.status} == {OutcomeStatus.DRY_RUN}
    assert kube.requests == []

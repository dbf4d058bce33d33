"""Kubernetes actions through kubernetes_asyncio (the `kubernetes` extra): scale a deployment
by its scale subresource, or restart it as `kubectl rollout restart` does.

Scale reads the deployment's scale and patches `spec.replicas` to `replicas` (absolute) or
current times `factor` (rounded up), kept within `min_replicas` and `max_replicas`. Restart
patches the pod template's `kubectl.kubernetes.io/restartedAt` annotation to now, so the
deployment rolls its pods. Both are strategic merge patches, as kubectl sends them. The
connection is `api_server` with a bearer `token`, and `ca_file` or
`insecure_skip_tls_verify` for TLS; no kubeconfig or in-cluster discovery is read.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tenantwatch.adapters.actions.base import finished, now, truncated
from tenantwatch.adapters.extras import MissingExtra, require
from tenantwatch.incidents.actions import ActionKind, ActionSpec, Outcome, OutcomeStatus

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def restart_patch(at: datetime) -> dict[str, Any]:
    """The patch `kubectl rollout restart` sends (RFC 3339 time, in UTC here)."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}


def scaled(current: int, params: Mapping[str, Any]) -> int:
    """The replica count a scale action asks for. Raise ValueError on bad parameters."""
    if params.get("replicas") is not None:
        wanted = int(params["replicas"])
    elif params.get("factor") is not None:
        wanted = math.ceil(current * float(params["factor"]))
    else:
        raise ValueError("kubernetes_scale needs 'replicas' or 'factor'")
    low = int(params.get("min_replicas", 0))
    high = params.get("max_replicas")
    wanted = max(wanted, low)
    return min(wanted, int(high)) if high is not None else wanted


class KubernetesExecutor:
    async def run(self, spec: ActionSpec, params: Mapping[str, Any], dry_run: bool) -> Outcome:
        started = now()
        target = (
            f"deployment {params.get('namespace', 'default')}/{params.get('deployment')}"
            f" at {params.get('api_server')}"
        )
        missing = [k for k in ("api_server", "deployment") if not params.get(k)]
        if missing:
            detail = f"action {spec.name}: {spec.kind} needs the parameter '{missing[0]}'"
            return finished(spec, OutcomeStatus.FAILED, detail, started, dry_run=dry_run)
        if dry_run:
            return finished(
                spec,
                OutcomeStatus.DRY_RUN,
                f"would {_plan(spec, params)} {target}",
                started,
                dry_run=True,
            )
        try:
            detail = await asyncio.wait_for(self._apply(spec, params), spec.timeout.total_seconds())
        except TimeoutError:
            detail = f"{spec.kind} {target}: no answer within {spec.timeout.total_seconds():g}s"
        except MissingExtra as exc:
            detail = str(exc)
        except Exception as exc:  # an action never breaks the incident flow
            detail = f"{spec.kind} {target}: {_error(exc)}"
        else:
            return finished(
                spec, OutcomeStatus.DONE, f"{detail} at {params['api_server']}", started
            )
        return finished(spec, OutcomeStatus.FAILED, detail, started)

    async def _apply(self, spec: ActionSpec, params: Mapping[str, Any]) -> str:
        k8s = require("kubernetes_asyncio", extra="kubernetes", feature="Kubernetes actions")
        config = k8s.client.Configuration(host=str(params["api_server"]).rstrip("/"))
        if params.get("token"):
            config.api_key = {"BearerToken": str(params["token"])}
            config.api_key_prefix = {"BearerToken": "Bearer"}
        if params.get("ca_file"):
            config.ssl_ca_cert = str(params["ca_file"])
        if _true(params.get("insecure_skip_tls_verify")):
            config.verify_ssl = False
        namespace = str(params.get("namespace", "default"))
        name = str(params["deployment"])
        async with k8s.client.ApiClient(configuration=config) as api_client:
            apps = k8s.client.AppsV1Api(api_client)
            if spec.kind is ActionKind.KUBERNETES_RESTART:
                await apps.patch_namespaced_deployment(name, namespace, restart_patch(now()))
                return f"restarted deployment {namespace}/{name}"
            scale = await apps.read_namespaced_deployment_scale(name, namespace)
            current = int(scale.spec.replicas or 0)
            wanted = scaled(current, params)
            body = {"spec": {"replicas": wanted}}
            await apps.patch_namespaced_deployment_scale(name, namespace, body)
            return f"scaled deployment {namespace}/{name} from {current} to {wanted} replicas"


def _plan(spec: ActionSpec, params: Mapping[str, Any]) -> str:
    if spec.kind is ActionKind.KUBERNETES_RESTART:
        return "restart"
    if params.get("replicas") is not None:
        return f"scale to {params['replicas']} replicas"
    bounds = ""
    if params.get("max_replicas") is not None:
        bounds = f" (at most {params['max_replicas']})"
    return f"scale to current x {params.get('factor')} replicas{bounds}"


def _true(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


def _error(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        body = getattr(exc, "body", None) or b""
        raw = body.encode() if isinstance(body, str) else bytes(body)
        return f"API answered {status} {getattr(exc, 'reason', '')}: {truncated(raw, 1024)}"
    return f"{type(exc).__name__}: {exc}"

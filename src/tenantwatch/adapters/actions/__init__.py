"""Executors of incident actions: webhook kinds over aiohttp, shell commands, Kubernetes."""

from __future__ import annotations

from tenantwatch.adapters.actions.base import finished
from tenantwatch.adapters.actions.kubernetes import KubernetesExecutor
from tenantwatch.adapters.actions.shell import ShellExecutor
from tenantwatch.adapters.actions.webhook import WebhookExecutor
from tenantwatch.domain.ssrf import SsrfPolicy
from tenantwatch.incidents.actions import WEBHOOK_KINDS, ActionKind, Executor

__all__ = [
    "KubernetesExecutor",
    "ShellExecutor",
    "WebhookExecutor",
    "executors",
    "finished",
]


def executors(policy: SsrfPolicy) -> dict[ActionKind, Executor]:
    """One executor for every action kind; webhooks may reach what `policy` allows."""
    webhook = WebhookExecutor(policy)
    kube = KubernetesExecutor()
    found: dict[ActionKind, Executor] = dict.fromkeys(WEBHOOK_KINDS, webhook)
    found[ActionKind.SHELL] = ShellExecutor()
    found[ActionKind.KUBERNETES_SCALE] = kube
    found[ActionKind.KUBERNETES_RESTART] = kube
    return found

"""What a tenant's key sees of the Alertmanager configuration (`/api/v2/status`): the part
that can handle its alerts, still a configuration amtool can load.

- **Routes**: the tree pruned to the routes an alert labelled `tenant="<id>"` can reach:
  a route whose `tenant` matchers refuse the id goes (other tenants' subtrees), and so do
  the siblings after a route that takes every alert of the tenant (its own subtree without
  further matchers). When the root can no longer be reached, it shows the receiver of
  that route instead of its own.
- **Receivers and time intervals**: only those the remaining routes name. Webhook URLs
  show only their scheme, host and first path segment (the rest may be a token).
- **Inhibit rules**: those whose source and target both accept the tenant.
- **Global**: Alertmanager's defaults with the real resolve_timeout; the operator's SMTP,
  Slack and HTTP settings stay out (what the tenant's receivers use of them is shown
  in the receivers, secrets as `<secret>`). Template paths stay out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantwatch.alertmanager.config_show import shown_global
from tenantwatch.alertmanager.config_show_values import Out
from tenantwatch.alertmanager.notify_request import redact_url
from tenantwatch.alertmanager.routing import LabelMatcher, parse_matchers


def tenant_view(shown: Mapping[str, Any], tenant: str) -> Out:
    """The shown configuration (show_config's result) cut down to what tenant may see."""
    route = dict(shown["route"])
    children = _reachable(route.get("routes") or [], tenant)
    if children and _takes_all(children[-1], tenant):
        route["receiver"] = children[-1].get("receiver", route.get("receiver"))
    if children:
        route["routes"] = children
    else:
        route.pop("routes", None)
    names = _receivers_of(route)
    intervals = _intervals_of(route)
    glob = shown_global({"resolve_timeout": shown["global"]["resolve_timeout"]})
    out: Out = {"global": glob, "route": route}
    rules = [r for r in shown.get("inhibit_rules") or [] if _rule_accepts(r, tenant)]
    if rules:
        out["inhibit_rules"] = rules
    receivers = [_masked(r) for r in shown.get("receivers") or [] if r["name"] in names]
    if receivers:
        out["receivers"] = receivers
    out["templates"] = []
    for section in ("mute_time_intervals", "time_intervals"):
        kept = [i for i in shown.get(section) or [] if i["name"] in intervals]
        if kept:
            out[section] = kept
    return out


def _matchers(route: Mapping[str, Any], prefix: str = "") -> list[LabelMatcher]:
    out = [
        LabelMatcher.of(str(k), "=", str(v)) for k, v in (route.get(f"{prefix}match") or {}).items()
    ]
    out += [
        LabelMatcher.of(str(k), "=~", str(v))
        for k, v in (route.get(f"{prefix}match_re") or {}).items()
    ]
    return out + list(parse_matchers(route.get(f"{prefix}matchers") or []))


def _accepts(matchers: list[LabelMatcher], tenant: str) -> bool:
    return all(m.matches({"tenant": tenant}) for m in matchers if m.name == "tenant")


def _takes_all(route: Mapping[str, Any], tenant: str) -> bool:
    """Whether the route takes every alert of the tenant and stops there."""
    matchers = _matchers(route)
    only_tenant = all(m.name == "tenant" for m in matchers)
    return only_tenant and _accepts(matchers, tenant) and not route.get("continue")


def _reachable(routes: list[Mapping[str, Any]], tenant: str) -> list[Out]:
    kept: list[Out] = []
    for child in routes:
        if not _accepts(_matchers(child), tenant):
            continue
        node = dict(child)
        grandchildren = _reachable(child.get("routes") or [], tenant)
        if grandchildren:
            node["routes"] = grandchildren
        else:
            node.pop("routes", None)
        kept.append(node)
        if _takes_all(child, tenant):
            break
    return kept


def _walk(route: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out = [route]
    for child in route.get("routes") or []:
        out.extend(_walk(child))
    return out


def _receivers_of(route: Mapping[str, Any]) -> set[str]:
    return {str(r["receiver"]) for r in _walk(route) if r.get("receiver")}


def _intervals_of(route: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for r in _walk(route):
        names.update(r.get("mute_time_intervals") or [])
        names.update(r.get("active_time_intervals") or [])
    return names


def _rule_accepts(rule: Mapping[str, Any], tenant: str) -> bool:
    return _accepts(_matchers(rule, "source_"), tenant) and _accepts(
        _matchers(rule, "target_"), tenant
    )


def _masked(receiver: Mapping[str, Any]) -> Out:
    out = dict(receiver)
    if hooks := receiver.get("webhook_configs"):
        out["webhook_configs"] = [{**h, "url": redact_url(str(h["url"]))} for h in hooks]
    return out

"""Checks on the `checks:` section that span entries: ids and tenant references."""

from __future__ import annotations

from typing import Any

from tenantwatch.config.errors import ConfigIssue
from tenantwatch.config.yaml_lines import LineMap, issue_at


def checks_issues(
    data: dict[str, Any], file: str, lines: LineMap, tenants: set[str]
) -> list[ConfigIssue]:
    """Every check needs a unique id and a tenant declared in the file; an id with a dot is
    in a tenant's namespace ('<tenant>.<name>', as the API makes them), its own."""
    section = data.get("checks")
    if section is None:
        return []
    if not isinstance(section, list):
        return [issue_at(file, lines, ("checks",), "checks must be a list of checks")]
    issues: list[ConfigIssue] = []
    seen: set[str] = set()
    for i, entry in enumerate(section):
        if not isinstance(entry, dict):
            continue
        cid, tenant = entry.get("id"), entry.get("tenant")
        if "id" not in entry:
            issues.append(
                issue_at(
                    file,
                    lines,
                    ("checks", i),
                    "a check in the config needs an 'id' (e.g. id: acme-api) so its history "
                    "survives edits",
                )
            )
        elif isinstance(cid, str):
            if cid in seen:
                issues.append(
                    issue_at(
                        file,
                        lines,
                        ("checks", i, "id"),
                        f"duplicate check id {cid!r}; each check has its own id",
                    )
                )
            seen.add(cid)
            if "." in cid and isinstance(tenant, str) and not cid.startswith(f"{tenant}."):
                issues.append(
                    issue_at(
                        file,
                        lines,
                        ("checks", i, "id"),
                        f"check id {cid!r}: an id with a dot belongs to a tenant's namespace "
                        f"('<tenant>.<name>'); write {tenant + '.' + cid.split('.', 1)[1]!r} "
                        f"or use '-' instead of the dot",
                    )
                )
        if isinstance(tenant, str) and tenant not in tenants:
            issues.append(
                issue_at(
                    file,
                    lines,
                    ("checks", i, "tenant"),
                    f"check {cid!r}: tenant {tenant!r} is not declared under 'tenants:'",
                )
            )
    return issues

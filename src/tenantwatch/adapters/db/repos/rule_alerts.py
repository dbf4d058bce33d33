"""The state of rule alerts (pending timers, firing, keep_firing_for), kept across restarts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch import jsonio
from tenantwatch.adapters.db.tables import rule_alerts
from tenantwatch.rules.alerting import Alert, AlertState
from tenantwatch.rules.files import Rule
from tenantwatch.types import Labels

RuleAlerts = dict[int, dict[Labels, Alert]]


def _key(group_key: str, index: int, labels: Labels) -> str:
    raw = jsonio.dumps([group_key, index, labels], compact=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _rule_tag(index: int, rule: Rule) -> str:
    return f"{index}:{rule.name}"[:200]


class SqlRuleStateStore:
    """One row per alert of a rule; a group's rows are replaced after each evaluation."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._last: dict[str, dict[str, tuple[Any, ...]]] = {}

    async def load(self, group_key: str) -> RuleAlerts:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(select(rule_alerts).where(rule_alerts.c.group_key == group_key))
            ).all()
        out: RuleAlerts = {}
        for row in rows:
            index = int(str(row.rule).split(":", 1)[0])
            labels: Labels = tuple(sorted((str(k), str(v)) for k, v in row.labels.items()))
            out.setdefault(index, {})[labels] = Alert(
                labels=labels,
                annotations=dict(row.annotations),
                state=AlertState(row.state),
                active_at=row.active_at,
                value=row.value,
                fired_at=row.fired_at,
                resolved_at=row.resolved_at,
                keep_firing_since=row.keep_firing_since,
                last_sent_at=row.last_sent_at,
            )
        return out

    async def save(self, group_key: str, rules: Sequence[Rule], alerts: RuleAlerts) -> None:
        """Write the group's alerts when they changed since the last save."""
        rows: dict[str, tuple[Any, ...]] = {}
        for index, by_labels in alerts.items():
            if index >= len(rules):
                continue
            tag = _rule_tag(index, rules[index])
            for labels, a in by_labels.items():
                rows[_key(group_key, index, labels)] = (
                    tag,
                    labels,
                    tuple(sorted(a.annotations.items())),
                    str(a.state),
                    a.active_at,
                    a.fired_at,
                    a.resolved_at,
                    a.keep_firing_since,
                    a.last_sent_at,
                )
        if self._last.get(group_key) == rows:
            return  # values change every evaluation but are not state; skip identical saves
        async with self.engine.begin() as conn:
            await conn.execute(delete(rule_alerts).where(rule_alerts.c.group_key == group_key))
            if rows:
                values = []
                for key, (tag, labels, annotations, state, *times) in rows.items():
                    index = int(tag.split(":", 1)[0])
                    alert = alerts[index][labels]
                    values.append(
                        {
                            "key": key,
                            "group_key": group_key,
                            "rule": tag,
                            "labels": dict(labels),
                            "annotations": dict(annotations),
                            "state": state,
                            "active_at": times[0],
                            "fired_at": times[1],
                            "resolved_at": times[2],
                            "keep_firing_since": times[3],
                            "last_sent_at": times[4],
                            "value": alert.value if alert.value == alert.value else 0.0,
                        }
                    )
                await conn.execute(insert(rule_alerts), values)
        self._last[group_key] = rows

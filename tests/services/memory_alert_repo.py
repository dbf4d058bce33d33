"""An AlertRepo kept in dicts, counting writes, for services tests without a database."""

from __future__ import annotations

from collections.abc import Sequence

from tenantwatch.alertmanager.flush_plan import LogEntry
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.silences import Silence


class MemoryAlertRepo:
    def __init__(self) -> None:
        self.alerts: dict[str, AlertRecord] = {}
        self.silences: dict[str, Silence] = {}
        self.log: dict[str, LogEntry] = {}
        self.alert_writes: list[int] = []

    async def load_alerts(self) -> list[AlertRecord]:
        return list(self.alerts.values())

    async def save_alerts(self, records: Sequence[AlertRecord]) -> None:
        self.alert_writes.append(len(records))
        self.alerts.update((r.fingerprint, r) for r in records)

    async def delete_alerts(self, fingerprints: Sequence[str]) -> None:
        for fp in fingerprints:
            self.alerts.pop(fp, None)

    async def load_silences(self) -> list[Silence]:
        return list(self.silences.values())

    async def save_silences(self, silences: Sequence[Silence]) -> None:
        self.silences.update((s.id, s) for s in silences)

    async def load_log(self) -> list[LogEntry]:
        return list(self.log.values())

    async def save_log(self, entries: Sequence[LogEntry]) -> None:
        self.log.update((e.key, e) for e in entries)

    async def delete_log(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.log.pop(key, None)

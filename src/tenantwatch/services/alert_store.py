"""The alert manager's state in memory (alerts, silences, notification log), written
through one repository before it is acted on, and loaded back from it on start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from tenantwatch.alertmanager import nflog
from tenantwatch.alertmanager.flush_plan import AlertState, LogEntry
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.silences import Silence
from tenantwatch.services.group_commit import GroupCommit


class AlertRepo(Protocol):
    """Where the alert manager's state is kept (adapters/db/repos/alerting.py)."""

    async def load_alerts(self) -> list[AlertRecord]: ...

    async def save_alerts(self, records: Sequence[AlertRecord]) -> None: ...

    async def delete_alerts(self, fingerprints: Sequence[str]) -> None: ...

    async def load_silences(self) -> list[Silence]: ...

    async def save_silences(self, silences: Sequence[Silence]) -> None: ...

    async def load_log(self) -> list[LogEntry]: ...

    async def save_log(self, entries: Sequence[LogEntry]) -> None: ...

    async def delete_log(self, keys: Sequence[str]) -> None: ...


class AlertStore:
    """Alert records by fingerprint, silences by id and log entries by key."""

    def __init__(self, repo: AlertRepo) -> None:
        self.repo = repo
        self.records: dict[str, AlertRecord] = {}
        self.silences: dict[str, Silence] = {}
        self.nflog: dict[str, nflog.Entry] = {}
        self._group_commit: GroupCommit[Mapping[str, AlertRecord], None] = GroupCommit(
            self._write_records
        )

    def view(self) -> AlertState:
        """The state as the pure planners read it (live, not a copy)."""
        return AlertState(self.records, self.silences, self.nflog)

    async def load(self, now: float) -> None:
        """Read everything back; log entries that expired by `now` are left out."""
        for record in await self.repo.load_alerts():
            self.records[record.fingerprint] = record
        for silence in await self.repo.load_silences():
            self.silences[silence.id] = silence
        for e in await self.repo.load_log():
            if e.entry.expires_at > now:
                self.nflog[e.key] = e.entry

    async def commit_records(self, fresh: Mapping[str, AlertRecord]) -> None:
        """Take the records in and return once they are durable: concurrent callers
        share one write (group commit), the later version of an alert winning."""
        self.records.update(fresh)
        await self._group_commit.submit(fresh)

    async def _write_records(self, batches: Sequence[Mapping[str, AlertRecord]]) -> list[None]:
        merged: dict[str, AlertRecord] = {}
        for records in batches:
            merged.update(records)
        await self.repo.save_alerts(list(merged.values()))
        return [None] * len(batches)

    async def save_record(self, record: AlertRecord) -> None:
        await self.repo.save_alerts([record])
        self.records[record.fingerprint] = record

    async def forget_records(self, fingerprints: Sequence[str]) -> None:
        await self.repo.delete_alerts(fingerprints)
        for fp in fingerprints:
            self.records.pop(fp, None)

    async def save_silence(self, silence: Silence) -> None:
        await self.repo.save_silences([silence])
        self.silences[silence.id] = silence

    async def write_log(self, entries: Sequence[LogEntry]) -> None:
        await self.repo.save_log(entries)
        self.nflog.update((e.key, e.entry) for e in entries)

    async def forget_log(self, keys: Sequence[str]) -> None:
        await self.repo.delete_log(keys)
        for key in keys:
            self.nflog.pop(key, None)

"""Pushed metric groups, kept durably and re-written so they stay visible until deleted.

A Pushgateway holds the last pushed values and Prometheus scrapes them every interval, so
they never go stale while the group exists. tenantwatch does the same without the extra
hop: a push stores its samples at push time (durably, before the push is answered) and
saves the group in `<store>/push/`; every `refresh_interval` the values of every group are
written again at the current time. DELETE (and a PUT or POST that drops a series) writes
stale markers, so the series end at once instead of lingering for the 5 m lookback.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import structlog

from tenantwatch import jsonio
from tenantwatch.metrics.admission import Admission
from tenantwatch.metrics.push_groups import PushChange, PushGroup, apply_push, deleted_series
from tenantwatch.metrics.wal import fsync_dir
from tenantwatch.promql.model import STALE_NAN
from tenantwatch.types import Labels, Sample

log = structlog.get_logger(__name__)

Families = Mapping[str, tuple[tuple[Labels, float], ...]]
_ENCODE_SLICE = 2000


class BulkAppender(Protocol):
    def append_many(self, samples: Iterable[Sample], *, durable: bool = False) -> int: ...

    async def append_many_durable(
        self, samples: Iterable[Sample], *, admit: Admission | None = None
    ) -> int: ...


def _group_file(directory: Path, key: Labels) -> Path:
    digest = hashlib.sha256(jsonio.dumps(key).encode()).hexdigest()[:32]
    return directory / f"{digest}.json"


def _encode(group: PushGroup) -> bytes:
    """The group as JSON, written a slice of series at a time: one jsonio.dumps call holds
    the GIL throughout, so a call over 100,000 series would stall the event loop."""
    parts = [f'{{"key": {jsonio.dumps(group.key)}, "push_time": {jsonio.dumps(group.push_time)}']
    parts.append(', "families": {')
    for i, (name, series) in enumerate(group.families.items()):
        chunks = (
            jsonio.dumps(series[j : j + _ENCODE_SLICE])[1:-1]
            for j in range(0, len(series), _ENCODE_SLICE)
        )
        parts.append(f"{', ' if i else ''}{jsonio.dumps(name)}: [{', '.join(chunks)}]")
    parts.append("}}")
    return "".join(parts).encode()


def _labels(raw: Any) -> Labels:
    return tuple((str(n), str(v)) for n, v in raw)


def _decode(raw: bytes) -> PushGroup:
    data = jsonio.loads(raw)
    families = {
        str(name): tuple((_labels(labels), float(value)) for labels, value in series)
        for name, series in data["families"].items()
    }
    return PushGroup(_labels(data["key"]), families, float(data["push_time"]))


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _apply(
    old: PushGroup | None, key: Labels, families: Families, replace_all: bool, now: float
) -> tuple[PushChange, list[Sample]]:
    change = apply_push(old, key, families, replace_all=replace_all, now=now)
    t = round(now * 1000)
    samples = [(labels, t, value) for labels, value in change.group.series()]
    samples += [(labels, t, STALE_NAN) for labels in change.removed]
    return change, samples


def _save(path: Path, group: PushGroup) -> None:
    _write_atomically(path, _encode(group))


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        fsync_dir(path.parent)


class PushGateway:
    """The pushed groups. One push at a time; the store sees every change durably."""

    def __init__(
        self,
        store: BulkAppender,
        directory: Path | None,
        *,
        refresh_interval: float = 15.0,
        clock: Callable[[], float] = time.time,
        admission: Admission | None = None,
    ) -> None:
        self.store = store
        self.admission = admission
        self.directory = directory
        self.refresh_interval = refresh_interval
        self.clock = clock
        self.groups: dict[Labels, PushGroup] = {}
        self._lock = asyncio.Lock()

    def load(self) -> int:
        """Read the saved groups; return how many. Unreadable files are logged and skipped."""
        if self.directory is None or not self.directory.is_dir():
            return 0
        for path in sorted(self.directory.glob("*.json")):
            try:
                group = _decode(path.read_bytes())
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("skipping unreadable push group", file=str(path), error=str(exc))
                continue
            self.groups[group.key] = group
        return len(self.groups)

    async def push(self, key: Labels, families: Families, *, replace_all: bool) -> PushGroup:
        """Apply a PUT (replace_all) or POST; return the group once it is durable. A push
        the admission refuses raises limits.Rejected and changes nothing."""
        async with self._lock:
            now = self.clock()
            # the work grows with the push: off the event loop
            change, samples = await asyncio.to_thread(
                _apply, self.groups.get(key), key, families, replace_all, now
            )
            await self.store.append_many_durable(samples, admit=self.admission)
            if self.directory is not None:
                path = _group_file(self.directory, key)
                await asyncio.to_thread(_save, path, change.group)
            self.groups[key] = change.group
            return change.group

    async def delete(self, key: Labels) -> bool:
        """Remove a group and mark its series stale; False when there was no such group."""
        async with self._lock:
            group = self.groups.get(key)
            if group is None:
                return False
            t = round(self.clock() * 1000)
            await self.store.append_many_durable(
                [(labels, t, STALE_NAN) for labels in deleted_series(group)]
            )
            if self.directory is not None:
                await asyncio.to_thread(_remove, _group_file(self.directory, key))
            del self.groups[key]
            return True

    def refresh(self) -> int:
        """Write every group's values again at the current time; return the sample count."""
        t = round(self.clock() * 1000)
        samples = [
            (labels, t, value) for group in self.groups.values() for labels, value in group.series()
        ]
        if samples:
            self.store.append_many(samples)
        return len(samples)

    async def run_refresher(self, stop: asyncio.Event) -> None:
        """Refresh every refresh_interval until stop is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.refresh_interval)
            if stop.is_set():
                return
            async with self._lock:
                try:
                    await asyncio.to_thread(self.refresh)
                except Exception:  # keep refreshing the other groups next time
                    log.exception("refreshing pushed groups failed")

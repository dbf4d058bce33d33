"""file_sd_configs: target files found by glob, re-read when one changes (by polling their
modification times, no inotify) and every refresh_interval, as Prometheus' file discovery.

A file that cannot be read or parsed keeps its last good groups and is logged with its
file:line; a file that disappears, or loses groups, sends empty groups for them.
"""

from __future__ import annotations

import asyncio
import glob
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from tenantwatch.config.discovery_model import FileSDConfig
from tenantwatch.metrics.discovery.file_format import TargetFileError, parse_target_file
from tenantwatch.metrics.discovery.provider import Send
from tenantwatch.metrics.target_groups import TargetGroup

log = structlog.get_logger(__name__)

Stamp = tuple[int, int]  # (mtime_ns, size)


class FileProvider:
    def __init__(
        self,
        config: FileSDConfig,
        *,
        base_dir: Path,
        poll_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.base_dir = base_dir
        self.poll_interval = poll_interval
        self.clock = clock
        self._counts: dict[str, int] = {}

    def files(self) -> list[str]:
        """The files the patterns match now, sorted; relative patterns are under base_dir."""
        found: set[str] = set()
        for pattern in self.config.files:
            full = pattern if Path(pattern).is_absolute() else str(self.base_dir / pattern)
            found.update(p for p in glob.glob(full) if Path(p).is_file())
        return sorted(found)

    async def run(self, send: Send) -> None:
        stamps: dict[str, Stamp] | None = None
        next_full = 0.0
        while True:
            now_stamps = await asyncio.to_thread(_stamps, self.files())
            if now_stamps != stamps or self.clock() >= next_full:
                stamps = now_stamps
                next_full = self.clock() + self.config.refresh_interval
                for groups in await asyncio.to_thread(self.refresh, list(now_stamps)):
                    send(groups)
            await asyncio.sleep(self.poll_interval)

    def refresh(self, paths: list[str]) -> list[list[TargetGroup]]:
        """Read every file; return the batches of groups to send (Prometheus' refresh)."""
        batches: list[list[TargetGroup]] = []
        counts: dict[str, int] = {}
        for path in paths:
            try:
                groups = parse_target_file(Path(path).read_text(encoding="utf-8"), path)
            except TargetFileError as exc:
                log.error("discovery_file_invalid", problem=f"{path}:{exc.line}: {exc.message}")
                counts[path] = self._counts.get(path, 0)
                continue
            except (OSError, UnicodeDecodeError) as exc:
                log.error("discovery_file_unreadable", problem=f"{path}:0: {exc}")
                counts[path] = self._counts.get(path, 0)
                continue
            batches.append(groups)
            counts[path] = len(groups)
        for path, before in self._counts.items():
            after = counts.get(path, 0)
            if after < before:
                batches.append([TargetGroup(f"{path}:{i}", ()) for i in range(after, before)])
        self._counts = counts
        return batches


def _stamps(paths: list[str]) -> dict[str, Stamp]:
    out: dict[str, Stamp] = {}
    for path in paths:
        try:
            st = Path(path).stat()
        except OSError:
            continue
        out[path] = (st.st_mtime_ns, st.st_size)
    return out

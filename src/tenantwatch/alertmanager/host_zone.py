"""The host's time zone as an IANA name: what Alertmanager's `location: Local` means."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZONEINFO_DIRS = ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/", "/usr/share/lib/zoneinfo/")


def host_zone(tz_env: str | None = None, localtime: Path = Path("/etc/localtime")) -> str:
    """$TZ when it names a zone, else the zone /etc/localtime links to, else UTC.

    (Go's time.Local reads the same two places.)"""
    tz = os.environ.get("TZ") if tz_env is None else tz_env
    if tz:
        name = tz.removeprefix(":")
        for base in ZONEINFO_DIRS:
            name = name.removeprefix(base)
        if _known(name):
            return name
    try:
        target = str(localtime.resolve())
    except OSError:
        return "UTC"
    for base in ZONEINFO_DIRS:
        if target.startswith(base) and _known(target[len(base) :]):
            return target[len(base) :]
    return "UTC"


def _known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True

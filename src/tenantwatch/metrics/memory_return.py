"""Giving memory back to the system after queries that read a lot from blocks.

A query over weeks decodes tens of megabytes of samples into numpy arrays and frees them
when it is done. glibc keeps freed heap memory for reuse, fragmented between whatever
still lives, so the resident size of a process that answers such queries grows with the
history it reads (measured: +60 % after 40 queries over 30 days) even though nothing is
held. `malloc_trim(0)` returns the free pages; it costs about a millisecond, so it runs
only once enough has been read since the last time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable

TRIM_AFTER_BYTES = 32 << 20


def _libc_trim() -> Callable[[], None] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


class MemoryReturn:
    """Counts bytes read; `after_query` trims once TRIM_AFTER_BYTES were read."""

    def __init__(self, trim: Callable[[], None] | None = None, threshold: int = TRIM_AFTER_BYTES):
        self.trim = trim if trim is not None else _libc_trim()
        self.threshold = threshold
        self.trims = 0
        self._read = 0
        self._lock = threading.Lock()

    def note(self, nbytes: int) -> None:
        with self._lock:
            self._read += nbytes

    def after_query(self) -> bool:
        """Trim when enough was read since the last trim; say whether it did."""
        with self._lock:
            if self._read < self.threshold or self.trim is None:
                return False
            self._read = 0
        self.trim()
        self.trims += 1
        return True

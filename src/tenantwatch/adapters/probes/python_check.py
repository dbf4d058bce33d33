"""Business-logic checks written in Python: "package.module:function", sync or async.

The function gets the check's `args` as keyword arguments and returns a bool, a mapping
{"ok": bool, "value": float, "details": {...}} or a tuple (ok, value, details). Its
exceptions and timeouts become failed runs; they never reach the scheduler.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tenantwatch.adapters.probes.result import ProbeResult
from tenantwatch.adapters.probes.tcp import check_timeout, timed_out

_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
SHAPES = "return a bool, {'ok': bool, 'value': number, 'details': {...}} or (ok, value, details)"


@dataclass(frozen=True, slots=True)
class PythonConfig:
    target: str
    timeout_s: float = 10.0
    args: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        if not _TARGET.fullmatch(self.target):
            raise ValueError(
                f"python check: target {self.target!r} must be 'package.module:function'"
            )
        check_timeout("python", self.timeout_s)


def load_function(target: str) -> Callable[..., object]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import module {module_name!r}: {exc}") from None
    fn = getattr(module, attr, None)
    if fn is None:
        raise ValueError(f"module {module_name!r} has no {attr!r}")
    if not callable(fn):
        raise ValueError(f"{target} is not a function")
    return fn  # type: ignore[no-any-return]


def _shape(value: object) -> tuple[bool, float | None, dict[str, Any]]:
    if isinstance(value, bool):
        return value, None, {}
    if isinstance(value, Mapping) and isinstance(value.get("ok"), bool):
        details = value.get("details") or {}
        return value["ok"], value.get("value"), dict(details)
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[0], bool):
        return value[0], value[1], dict(value[2] or {})
    raise TypeError(f"the check returned {type(value).__name__}; {SHAPES}")


async def probe_python(cfg: PythonConfig) -> ProbeResult:
    start = time.perf_counter()
    details: dict[str, Any] = {"target": cfg.target}
    ok = False
    error: str | None = None
    try:
        fn = load_function(cfg.target)
        async with asyncio.timeout(cfg.timeout_s):
            if inspect.iscoroutinefunction(fn):
                value = await fn(**dict(cfg.args))
            else:
                value = await asyncio.to_thread(fn, **dict(cfg.args))
        ok, number, extra = _shape(value)
        details.update(extra)
        if number is not None:
            details["value"] = number
        if not ok:
            error = str(extra.get("reason") or "the check returned not ok")
    except TimeoutError:
        error = timed_out(cfg.timeout_s)
    except Exception as exc:
        first = (str(exc).splitlines() or [""])[0]
        error = f"{type(exc).__name__}: {first}"[:500]
        ok = False
    return ProbeResult(
        ok=ok and error is None,
        duration_s=time.perf_counter() - start,
        error=error,
        details=details,
    )

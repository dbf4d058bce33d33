"""Business-logic checks written in Python, named "package.module:function".

The function may be sync (it runs in a worker thread) or async (it is awaited). It gets
the check's `args` as keyword arguments and returns one of:

- a bool: whether the check passed;
- a mapping {"ok": bool, "value": number or None, "details": {...}};
- a tuple (ok, value, details).

`value` lands in the result's details, where conditions such as `[VALUE] < 100` read it.
When the check is not ok, `details["reason"]` (if any) becomes the error. Exceptions,
timeouts and results of another shape become failed runs; they never reach the
scheduler. A sync function that overruns its timeout is abandoned, not killed: Python
cannot stop a thread, so keep such functions bounded themselves.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tenantwatch.adapters.probes.tcp import check_timeout, timed_out
from tenantwatch.domain.probe_result import ProbeResult

MAX_ERROR_CHARS = 500
SHAPES = (
    "return a bool, a mapping {'ok': bool, 'value': number or None, 'details': {...}} "
    "or a tuple (ok, value, details)"
)
_TARGET_HINT = "write it as 'package.module:function', e.g. 'myapp.checks:orders_flowing'"


class TargetError(ValueError):
    """The target cannot be loaded: no such module or attribute, or not callable."""


class ShapeError(TypeError):
    """The check function returned something other than the accepted shapes."""


@dataclass(frozen=True, slots=True)
class PythonConfig:
    """Which function to call, how long it may take and the keyword arguments it gets."""

    target: str
    timeout_s: float = 10.0
    args: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        split_target(self.target)
        check_timeout("python", self.timeout_s)
        for pair in self.args:
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ValueError(
                    f"python check: argument {pair!r} is not a (name, value) pair; "
                    "give args as a mapping of names to values"
                )


def split_target(target: object) -> tuple[str, str]:
    """("package.module", "function") from "package.module:function"; TargetError if not."""
    if not isinstance(target, str) or target.count(":") != 1:
        raise TargetError(f"python check: target {target!r} is not valid; {_TARGET_HINT}")
    module, attr = target.split(":")
    parts = [*module.split("."), attr]
    if not all(part.isidentifier() for part in parts):
        raise TargetError(f"python check: target {target!r} is not valid; {_TARGET_HINT}")
    return module, attr


def load_function(target: str) -> Callable[..., object]:
    """Import the module and return its function; TargetError (a ValueError) if it cannot."""
    module_name, attr = split_target(target)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and f"{module_name}.".startswith(f"{exc.name}."):
            raise TargetError(
                f"python check: no module named {module_name!r}; check the spelling "
                "and that its package is installed where the worker runs"
            ) from None
        raise TargetError(f"python check: module {module_name!r} failed to import: {exc}") from None
    except ImportError as exc:
        raise TargetError(f"python check: module {module_name!r} failed to import: {exc}") from None
    if not hasattr(module, attr):
        raise TargetError(
            f"python check: module {module_name!r} has no attribute {attr!r}; "
            "check the function name after the ':'"
        )
    fn = getattr(module, attr)
    if not callable(fn):
        raise TargetError(
            f"python check: {target} is {_a(type(fn).__name__)}, not a function; "
            "point the target at a function"
        )
    return fn  # type: ignore[no-any-return]


def _is_async(fn: Callable[..., object]) -> bool:
    call = getattr(fn, "__call__", None)  # noqa: B004 - async __call__ on an instance
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(call)


async def _call(fn: Callable[..., object], kwargs: dict[str, object]) -> object:
    """Await an async function; run a sync one in a thread (awaiting what it may return)."""
    if _is_async(fn):
        result = fn(**kwargs)
    else:
        result = await asyncio.to_thread(fn, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


def _number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(f"the check's value {value!r} is not a number; {SHAPES}")
    return float(value)


def _details(details: object) -> dict[str, Any]:
    if details is None:
        return {}
    if not isinstance(details, Mapping) or not all(isinstance(k, str) for k in details):
        raise ShapeError(f"the check's details {details!r} are not a mapping by name; {SHAPES}")
    return dict(details)


def interpret(returned: object) -> tuple[bool, float | None, dict[str, Any]]:
    """(ok, value, details) from what a check function returned; ShapeError otherwise."""
    if isinstance(returned, bool):
        return returned, None, {}
    if isinstance(returned, Mapping):
        ok = returned.get("ok")
        if not isinstance(ok, bool):
            raise ShapeError(f"the check returned a mapping without a bool 'ok'; {SHAPES}")
        return ok, _number(returned.get("value")), _details(returned.get("details"))
    if isinstance(returned, tuple) and len(returned) == 3 and isinstance(returned[0], bool):
        return returned[0], _number(returned[1]), _details(returned[2])
    raise ShapeError(f"the check returned {_brief(returned)}; {SHAPES}")


def _brief(value: object) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    return _a(type(value).__name__)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _clip(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return first[:MAX_ERROR_CHARS]


def describe_exception(exc: BaseException) -> str:
    """ "TypeName: message" (first line, at most 500 characters)."""
    text = str(exc)
    return _clip(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


async def probe_python(cfg: PythonConfig) -> ProbeResult:
    """Call the check function and report its verdict. Never raises for the check's faults."""
    start = time.perf_counter()
    ok = False
    details: dict[str, Any] = {}
    error: str | None
    deadline = asyncio.timeout(cfg.timeout_s)
    try:
        async with deadline:
            fn = await asyncio.to_thread(load_function, cfg.target)
            returned = await _call(fn, dict(cfg.args))
        ok, value, extra = interpret(returned)
        details = extra if value is None else {**extra, "value": value}
        error = None if ok else _clip(str(extra.get("reason") or "the check returned not ok"))
    except (TargetError, ShapeError) as exc:
        error = _clip(str(exc))
    except TimeoutError as exc:
        # the deadline expiring, or a TimeoutError the check itself raised
        error = timed_out(cfg.timeout_s) if deadline.expired() else describe_exception(exc)
    except (Exception, SystemExit) as exc:
        error = describe_exception(exc)
    return ProbeResult(ok=ok, duration_s=time.perf_counter() - start, error=error, details=details)

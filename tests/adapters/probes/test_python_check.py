"""Python checks: "module:function" targets, sync and async, the three return shapes, faults.

The sample check functions live in this module and are addressed by their target string,
just as an operator's own checks would be.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from tenantwatch.adapters.probes.python_check import PythonConfig, load_function, probe_python
from tenantwatch.adapters.probes.tcp import timed_out

HERE = "tests.adapters.probes.test_python_check"
NOT_CALLABLE = 42

# --- sample checks ----------------------------------------------------------------------


def healthy_sync() -> bool:
    return True


def unhealthy_sync() -> bool:
    return False


async def healthy_async() -> dict[str, object]:
    await asyncio.sleep(0)
    return {"ok": True, "value": 42, "details": {"orders": 3}}


async def unhealthy_async() -> dict[str, object]:
    return {"ok": False, "value": 0.5, "details": {"reason": "queue backed up: 812 jobs"}}


def tuple_sync() -> tuple[bool, float | None, dict[str, object] | None]:
    return (True, 1.5, None)


def tuple_failing() -> tuple[bool, float | None, dict[str, object]]:
    return (False, None, {"lag_s": 90})


def with_args(threshold: float, name: str = "default") -> dict[str, object]:
    return {"ok": threshold < 10, "value": threshold, "details": {"name": name}}


def value_in_details() -> dict[str, object]:
    return {"ok": True, "value": 7, "details": {"value": "ignored", "unit": "jobs"}}


def raising_sync() -> bool:
    raise RuntimeError("database is gone\ntraceback-like second line")


async def raising_async() -> bool:
    raise KeyError("x" * 2000)


def raising_own_timeout() -> bool:
    raise TimeoutError("upstream API timed out")


def exiting() -> bool:
    raise SystemExit(3)


def slow_sync() -> bool:
    time.sleep(0.6)
    return True


async def slow_async() -> bool:
    await asyncio.sleep(30)
    return True


def returns_awaitable() -> object:
    return healthy_async()


class AsyncCallable:
    async def __call__(self) -> bool:
        return True


async_callable = AsyncCallable()


def wrong_type() -> str:
    return "yes"


def wrong_tuple() -> tuple[bool, float]:
    return (True, 1.0)


def wrong_value() -> tuple[bool, str, dict[str, object]]:
    return (True, "fast", {})


def wrong_mapping() -> dict[str, object]:
    return {"ok": "true"}


def wrong_details() -> dict[str, object]:
    return {"ok": True, "details": ["a", "b"]}


def truthy_int() -> int:
    return 1


# --- the three shapes, sync and async ---------------------------------------------------


async def test_sync_true_is_ok() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:healthy_sync"))
    assert result.ok and result.error is None
    assert result.details == {}
    assert 0 <= result.duration_s < 2


async def test_sync_false_is_not_ok() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:unhealthy_sync"))
    assert not result.ok
    assert result.error == "the check returned not ok"


async def test_async_mapping_reports_value_and_details() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:healthy_async"))
    assert result.ok and result.error is None
    assert result.details == {"orders": 3, "value": 42.0}


async def test_a_not_ok_mapping_uses_its_reason_as_the_error() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:unhealthy_async"))
    assert not result.ok
    assert result.error == "queue backed up: 812 jobs"
    assert result.details["value"] == 0.5


async def test_tuples_work_with_and_without_details() -> None:
    ok = await probe_python(PythonConfig(f"{HERE}:tuple_sync"))
    assert ok.ok and ok.details == {"value": 1.5}
    failing = await probe_python(PythonConfig(f"{HERE}:tuple_failing"))
    assert not failing.ok
    assert failing.error == "the check returned not ok"
    assert failing.details == {"lag_s": 90}


async def test_args_are_passed_as_keywords() -> None:
    cfg = PythonConfig(f"{HERE}:with_args", args=(("threshold", 3), ("name", "orders")))
    result = await probe_python(cfg)
    assert result.ok and result.details == {"name": "orders", "value": 3.0}
    cfg = PythonConfig(f"{HERE}:with_args", args=(("threshold", 12),))
    result = await probe_python(cfg)
    assert not result.ok and result.details == {"name": "default", "value": 12.0}


async def test_the_returned_value_wins_over_a_value_in_details() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:value_in_details"))
    assert result.details == {"value": 7.0, "unit": "jobs"}


async def test_awaitables_and_async_callables_are_awaited() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:returns_awaitable"))
    assert result.ok and result.details["value"] == 42.0
    result = await probe_python(PythonConfig(f"{HERE}:async_callable"))
    assert result.ok


# --- faults are contained ---------------------------------------------------------------


async def test_an_exception_becomes_its_first_line() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:raising_sync"))
    assert not result.ok
    assert result.error == "RuntimeError: database is gone"


async def test_a_long_exception_message_is_cut_to_500_characters() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:raising_async"))
    assert not result.ok and result.error is not None
    assert result.error.startswith("KeyError: 'xxx")
    assert len(result.error) == 500


async def test_a_timeout_raised_by_the_check_is_not_the_probe_timing_out() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:raising_own_timeout"))
    assert result.error == "TimeoutError: upstream API timed out"


async def test_system_exit_is_contained() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:exiting"))
    assert not result.ok and result.error == "SystemExit: 3"


async def test_a_slow_async_check_times_out() -> None:
    result = await probe_python(PythonConfig(f"{HERE}:slow_async", timeout_s=0.2))
    assert not result.ok
    assert result.error == timed_out(0.2)
    assert 0.15 < result.duration_s < 2


async def test_a_slow_sync_check_times_out_without_blocking_the_loop() -> None:
    started = time.perf_counter()
    result = await probe_python(PythonConfig(f"{HERE}:slow_sync", timeout_s=0.1))
    assert result.error == timed_out(0.1) and not result.ok
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("wrong_type", "the check returned a str"),
        ("truthy_int", "the check returned an int"),
        ("wrong_tuple", "the check returned a tuple of 2"),
        ("wrong_value", "value 'fast' is not a number"),
        ("wrong_mapping", "without a bool 'ok'"),
        ("wrong_details", "details ['a', 'b'] are not a mapping"),
    ],
)
async def test_other_shapes_are_refused_with_the_accepted_ones(name: str, words: str) -> None:
    result = await probe_python(PythonConfig(f"{HERE}:{name}"))
    assert not result.ok and result.error is not None
    assert words in result.error
    assert "return a bool" in result.error and "(ok, value, details)" in result.error


# --- targets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["", "module", "module:", ":function", "a:b:c", "a.:f", ".a:f", "1mod:f", "mod:f.g", "m d:f"],
)
def test_malformed_targets_say_how_to_write_one(target: str) -> None:
    with pytest.raises(ValueError, match=re.escape("'package.module:function'")):
        PythonConfig(target)


def test_bad_timeouts_and_args_are_refused() -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        PythonConfig(f"{HERE}:healthy_sync", timeout_s=0)
    with pytest.raises(ValueError, match="not a \\(name, value\\) pair"):
        PythonConfig(f"{HERE}:healthy_sync", args=(("a", 1, 2),))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a \\(name, value\\) pair"):
        PythonConfig(f"{HERE}:healthy_sync", args=((1, 2),))  # type: ignore[arg-type]


def test_load_function_returns_the_function() -> None:
    assert load_function(f"{HERE}:healthy_sync") is healthy_sync


def test_a_missing_module_is_named() -> None:
    with pytest.raises(ValueError, match=re.escape("no module named 'no_such_pkg_tw.checks'")):
        load_function("no_such_pkg_tw.checks:f")
    with pytest.raises(ValueError, match=re.escape("no module named 'tests.adapters.nowhere'")):
        load_function("tests.adapters.nowhere:f")


def test_a_missing_function_is_named() -> None:
    with pytest.raises(ValueError, match="has no attribute 'nope'"):
        load_function(f"{HERE}:nope")


def test_a_value_that_is_not_callable_is_refused() -> None:
    with pytest.raises(ValueError, match="is an int, not a function"):
        load_function(f"{HERE}:NOT_CALLABLE")


def test_a_module_whose_own_import_fails_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tw_broken_check.py").write_text("import tw_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match=r"'tw_broken_check' failed to import.*tw_missing_dep"):
        load_function("tw_broken_check:f")


async def test_load_errors_become_failed_runs() -> None:
    missing = await probe_python(PythonConfig("no_such_pkg_tw:f"))
    assert not missing.ok
    assert missing.error is not None and "no module named 'no_such_pkg_tw'" in missing.error
    no_fn = await probe_python(PythonConfig(f"{HERE}:nope"))
    assert not no_fn.ok and no_fn.error is not None and "has no attribute 'nope'" in no_fn.error

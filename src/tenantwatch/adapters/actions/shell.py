"""Shell actions: a command from the config file, run as an argv list (never through a shell).

The command runs in its own process group, so a timeout kills it and whatever it started.
Exit status 0 is done; anything else, a timeout or a command that cannot start is failed.
Output (stdout then stderr) is kept up to 4 KiB in the outcome's detail. An action that did
not come from the config file (one made through the API) is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tenantwatch.adapters.actions.base import finished, now, truncated
from tenantwatch.incidents.actions import ActionSpec, Outcome, OutcomeStatus


class ShellExecutor:
    async def run(self, spec: ActionSpec, params: Mapping[str, Any], dry_run: bool) -> Outcome:
        started = now()
        if not spec.from_config:
            detail = (
                f"action {spec.name}: shell actions run only from the config file; "
                "this one was not defined there, so it was refused"
            )
            return finished(spec, OutcomeStatus.FAILED, detail, started, dry_run=dry_run)
        argv = params.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            detail = f"action {spec.name}: params.argv must be a non-empty list of strings"
            return finished(spec, OutcomeStatus.FAILED, detail, started, dry_run=dry_run)
        shown = shlex.join(argv)
        if dry_run:
            return finished(
                spec, OutcomeStatus.DRY_RUN, f"would run {shown}", started, dry_run=True
            )
        try:
            return await self._execute(spec, argv, params, shown, started)
        except Exception as exc:  # an action never breaks the incident flow
            detail = f"run {shown}: {type(exc).__name__}: {exc}"
            return finished(spec, OutcomeStatus.FAILED, detail, started)

    async def _execute(
        self,
        spec: ActionSpec,
        argv: list[str],
        params: Mapping[str, Any],
        shown: str,
        started: datetime,
    ) -> Outcome:
        env = params.get("env")
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=params.get("cwd"),
                env={str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else None,
                start_new_session=True,
            )
        except OSError as exc:
            return finished(spec, OutcomeStatus.FAILED, f"run {shown}: {exc}", started)
        seconds = spec.timeout.total_seconds()
        try:
            out, err = await asyncio.wait_for(proc.communicate(), seconds)
        except TimeoutError:
            _kill_group(proc.pid)
            await proc.wait()
            detail = f"run {shown}: killed after {seconds:g}s without finishing"
            return finished(spec, OutcomeStatus.FAILED, detail, started)
        except asyncio.CancelledError:
            _kill_group(proc.pid)
            raise
        output = truncated(out + err)
        if proc.returncode == 0:
            return finished(
                spec, OutcomeStatus.DONE, f"ran {shown}: exit 0\n{output}".rstrip(), started
            )
        detail = f"run {shown}: exit {proc.returncode}\n{output}".rstrip()
        return finished(spec, OutcomeStatus.FAILED, detail, started)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)

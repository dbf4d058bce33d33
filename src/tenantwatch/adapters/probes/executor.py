"""Run a stored check: build its probe from the registry, probe, judge the conditions.

The executor owns the shared HTTP clients; every other kind opens its own connection per
run. Heartbeats are not probed here: their runs are judged from pings (domain/check_judge.py).

Checks declared in the config file are the operator's and run as declared. Every other
check (made through the API) runs behind the SSRF policy, checked again at every run
after DNS resolution and connected to the address that was checked, since DNS answers
change: settings only the config file may give fail the run, and a postgres check's
value is judged but never shown (domain/probe_targets.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from tenantwatch.adapters.probes.http import HttpProber
from tenantwatch.adapters.probes.registry import PROBES, Probe, ProbeBuilder, ProbeContext
from tenantwatch.domain.check_judge import judge, trusted
from tenantwatch.domain.check_specs import InvalidSpec, SpecError
from tenantwatch.domain.checks import Check, CheckKind, CheckRun
from tenantwatch.domain.probe_result import ProbeResult
from tenantwatch.domain.probe_targets import SETTING, config_only_problem
from tenantwatch.domain.ssrf import SsrfPolicy

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _refused(reason: str) -> Probe:
    async def probe() -> ProbeResult:
        return ProbeResult(ok=False, duration_s=0.0, error=reason)

    return probe


class ProbeExecutor:
    """Runs checks; one per process, closed on shutdown.

    `policy` guards the checks made through the API; by default it allows no internal
    destination (the runtime passes check_runner.allow_private_targets). `probes` maps
    each probed kind to its builder (adapters/probes/registry.py)."""

    def __init__(
        self,
        clock: Clock = _now,
        policy: SsrfPolicy | None = None,
        probes: Mapping[CheckKind, ProbeBuilder] = PROBES,
    ) -> None:
        self.clock = clock
        self.policy = policy if policy is not None else SsrfPolicy(setting=SETTING)
        self._builders = probes
        self._http: HttpProber | None = None
        self._guarded_http: HttpProber | None = None
        # probes are built once per version of a check
        self._probes: dict[str, tuple[Check, Probe]] = {}

    def _build(self, check: Check, http: HttpProber, policy: SsrfPolicy | None) -> Probe:
        """The probe of a check; `policy` guards every connection it makes (None: trusted)."""
        problem = None if policy is None else config_only_problem(check.kind, check.settings)
        if problem is not None:
            return _refused(problem)
        builder = self._builders.get(check.kind)
        if builder is None:
            raise ValueError(f"{check.kind} checks are not probed")
        spec = check.spec
        if isinstance(spec, InvalidSpec):
            raise SpecError(spec.error)
        return builder(spec, ProbeContext(check.timeout_s, http, policy))

    def _probe(self, check: Check) -> Probe:
        cached = self._probes.get(check.id)
        if cached is not None and cached[0] is check:
            return cached[1]
        if trusted(check):
            if self._http is None:
                self._http = HttpProber()
            probe = self._build(check, self._http, None)
        else:
            if self._guarded_http is None:
                self._guarded_http = HttpProber(self.policy)
            probe = self._build(check, self._guarded_http, self.policy)
        if len(self._probes) > 200_000:
            self._probes.clear()
        self._probes[check.id] = (check, probe)
        return probe

    async def run(self, check: Check) -> CheckRun:
        at = self.clock()
        try:
            probe = self._probe(check)
        except (ValueError, KeyError, TypeError) as exc:
            result = ProbeResult(ok=False, duration_s=0.0, error=f"invalid settings: {exc}")
        else:
            result = await probe()
        return judge(check, result, at)

    async def close(self) -> None:
        for prober in (self._http, self._guarded_http):
            if prober is not None:
                await prober.close()
        self._http = self._guarded_http = None
        self._probes.clear()

"""Check runs as metric samples: tenantwatch_check_up, _duration_seconds and the rest."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from tenantwatch.domain.checks import CheckRun, CheckState, CheckStatus
from tenantwatch.promql.model import Labels, labels_of

Sample = tuple[Labels, int, float]


def _adder(out: list[Sample], r: CheckRun) -> Callable[..., None]:
    base = {"tenant": r.tenant_id, "check": r.check_id, "kind": str(r.kind)}
    t = int(r.at.timestamp() * 1000)

    def add(name: str, value: float, extra: Mapping[str, str] | None = None) -> None:
        out.append((labels_of({"__name__": name, **base, **(extra or {})}), t, value))

    return add


def run_samples(runs: Sequence[CheckRun], states: Mapping[str, CheckState]) -> list[Sample]:
    """The samples of a batch of runs, each at its run's time.

    - tenantwatch_check_up: 1 when the run passed (probe and conditions), else 0, as
      blackbox_exporter's probe_success;
    - tenantwatch_check_status: 1 while the check's state is up, 0 while down (after the
      failure/success thresholds); absent while unknown;
    - tenantwatch_check_duration_seconds, tenantwatch_check_phase_duration_seconds{phase},
      tenantwatch_check_status_code (http), tenantwatch_check_certificate_expiry_timestamp_seconds.
    """
    out: list[Sample] = []
    for r in runs:
        add = _adder(out, r)
        add("tenantwatch_check_up", 1.0 if r.ok else 0.0)
        add("tenantwatch_check_duration_seconds", r.duration_s)
        for phase, seconds in r.phases.items():
            add("tenantwatch_check_phase_duration_seconds", seconds, {"phase": phase})
        if r.status_code is not None:
            add("tenantwatch_check_status_code", float(r.status_code))
        if r.certificate_expiry is not None:
            add(
                "tenantwatch_check_certificate_expiry_timestamp_seconds",
                r.certificate_expiry.timestamp(),
            )
        state = states.get(r.check_id)
        if state is not None and state.status is not CheckStatus.UNKNOWN:
            add("tenantwatch_check_status", 1.0 if state.status is CheckStatus.UP else 0.0)
    return out

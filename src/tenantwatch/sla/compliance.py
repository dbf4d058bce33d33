"""A tenant's measured period against its tier's targets (seed 002's SLA metrics).

Availability must reach its target; response time, error rate and recovery time must not
exceed theirs. An objective without data is reported as unmeasured: neither met nor a
violation (a tenant is not in breach for what nobody measured).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from tenantwatch.domain.tiers import SlaTargets

_AT_LEAST = {"availability_percentage"}
_LABELS = {
    "availability_percentage": ("availability", "%"),
    "response_time_ms": ("average response time", " ms"),
    "error_rate_percentage": ("error rate", "%"),
    "recovery_time_minutes": ("recovery time", " min"),
}


@dataclass(frozen=True)
class Measured:
    availability_percentage: Decimal | None = None
    response_time_ms: Decimal | None = None
    error_rate_percentage: Decimal | None = None
    recovery_time_minutes: Decimal | None = None


@dataclass(frozen=True)
class ObjectiveResult:
    objective: str
    target: Decimal
    actual: Decimal | None
    met: bool | None  # None: no data

    @property
    def violation(self) -> str | None:
        if self.met is not False or self.actual is None:
            return None
        what, unit = _LABELS[self.objective]
        side = "below" if self.objective in _AT_LEAST else "above"
        return f"{what} {_show(self.actual)}{unit} is {side} the target {_show(self.target)}{unit}"


@dataclass(frozen=True)
class Compliance:
    objectives: tuple[ObjectiveResult, ...]

    @property
    def met(self) -> bool:
        """Every measured objective met (seed 002's overall_sla_met)."""
        return all(o.met is not False for o in self.objectives)

    @property
    def violations(self) -> list[str]:
        return [v for o in self.objectives if (v := o.violation) is not None]


def _show(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.001'), rounding=ROUND_HALF_EVEN).normalize():f}"


def evaluate(targets: SlaTargets, measured: Measured) -> Compliance:
    out = []
    for objective, target in targets.as_dict().items():
        actual = getattr(measured, objective)
        goal = Decimal(target)
        if actual is None:
            out.append(ObjectiveResult(objective, goal, None, None))
            continue
        met = actual >= goal if objective in _AT_LEAST else actual <= goal
        out.append(ObjectiveResult(objective, goal, actual, met))
    return Compliance(tuple(out))

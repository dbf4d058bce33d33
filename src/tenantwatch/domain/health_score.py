"""The tenant health score of seed 000's `_calculate_health_score`, with its components.

Weights: uptime 0.4, response time 0.3, error rate 0.2, resource use 0.1. Component scores
(0-100): uptime x 100; 100 - 50 x p95 response time in seconds; 100 - 10 x error rate in
percent; 100 - the larger of CPU and memory use in percent. The total is rounded to two
decimals, as the seed does.
"""

from __future__ import annotations

from dataclasses import dataclass

WEIGHTS: dict[str, float] = {
    "uptime": 0.4,
    "response_time": 0.3,
    "error_rate": 0.2,
    "resource_utilization": 0.1,
}


@dataclass(frozen=True)
class HealthInputs:
    uptime: float = 0.0  # ratio, 0-1
    response_time_p95_s: float = 0.0
    error_rate_pct: float = 0.0
    cpu_pct: float = 0.0
    memory_pct: float = 0.0


@dataclass(frozen=True)
class Component:
    name: str
    score: float
    weight: float

    @property
    def weighted(self) -> float:
        return self.score * self.weight


@dataclass(frozen=True)
class HealthScore:
    score: float
    components: tuple[Component, ...]


def health_score(inputs: HealthInputs) -> HealthScore:
    scores = {
        "uptime": min(100.0, inputs.uptime * 100),
        "response_time": max(0.0, 100 - inputs.response_time_p95_s * 50),
        "error_rate": max(0.0, 100 - inputs.error_rate_pct * 10),
        "resource_utilization": max(0.0, 100 - max(inputs.cpu_pct, inputs.memory_pct)),
    }
    components = tuple(Component(name, scores[name], WEIGHTS[name]) for name in WEIGHTS)
    return HealthScore(round(sum(c.weighted for c in components), 2), components)

"""SLA credits: a tier's schedule of (availability below, credit percent) steps."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

# below 99.9 %: 10 % of the month's fee; below 99 %: 25 %; below 95 %: 50 %
DEFAULT_SCHEDULE: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal("99.9"), Decimal("10")),
    (Decimal("99"), Decimal("25")),
    (Decimal("95"), Decimal("50")),
)


def check_schedule(schedule: Sequence[tuple[Decimal, Decimal]]) -> None:
    """Raise ValueError unless thresholds fall and credits rise, within 0-100."""
    for i, (below, credit) in enumerate(schedule):
        if not (0 < below <= 100 and 0 <= credit <= 100):
            raise ValueError(f"credit step {i + 1}: thresholds and credits are percentages")
        if i and not (below < schedule[i - 1][0] and credit >= schedule[i - 1][1]):
            raise ValueError(
                f"credit step {i + 1}: list thresholds from highest to lowest, with credits "
                "that do not shrink"
            )


def credit_percent(
    availability_pct: Decimal, schedule: Sequence[tuple[Decimal, Decimal]] = DEFAULT_SCHEDULE
) -> Decimal:
    """The credit owed for a period's availability (the deepest step it falls below)."""
    owed = Decimal(0)
    for below, credit in schedule:
        if availability_pct < below:
            owed = credit
    return owed

"""Months, monthly series and the projection of a target at the current pace, as pure functions.

The pace is the average of the last 12 complete calendar months (the current month is still running and
would pull the average down), counting months without any figure as zero and never reaching back before
the target's period started. The projection at the deadline is the figure so far plus that pace times the
months still to come after the current one, up to and including the deadline's month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

Month = tuple[int, int]  # (year, month)
PACE_MONTHS = 12
ZERO = Decimal("0")


def month_of(day: date) -> Month:
    return (day.year, day.month)


def month_index(month: Month) -> int:
    return month[0] * 12 + month[1] - 1


def from_index(index: int) -> Month:
    return (index // 12, index % 12 + 1)


def add_months(month: Month, n: int) -> Month:
    return from_index(month_index(month) + n)


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last``, both included (empty when last < first)."""
    return [from_index(i) for i in range(month_index(first), month_index(last) + 1)]


def month_label(month: Month) -> str:
    return f"{month[0]}-{month[1]:02d}"


def monthly_series(values: Mapping[Month, Decimal], first: Month, last: Month) -> list[tuple[Month, Decimal]]:
    """The figure of each month from first to last, zero where there is none."""
    return [(m, Decimal(values.get(m, ZERO))) for m in months_between(first, last)]


def cumulative(series: Iterable[tuple[Month, Decimal]]) -> list[tuple[Month, Decimal]]:
    total = ZERO
    out = []
    for month, value in series:
        total += value
        out.append((month, total))
    return out


@dataclass(frozen=True)
class Projection:
    pace: Decimal | None  # per month; None when there is no complete month to measure it on
    pace_months: int  # how many complete months the pace averages
    projected: Decimal | None  # the figure expected at the deadline; None when the deadline has passed
    reaches_on: Month | None  # the month the target is reached at this pace (None: never, or already)
    on_track: bool | None  # projected ≥ target; None when there is nothing to project

    @property
    def reaches_label(self) -> str:
        return month_label(self.reaches_on) if self.reaches_on else ""


def pace(values: Mapping[Month, Decimal], today: date, start: date | None = None) -> tuple[Decimal | None, int]:
    """Average per month over the last 12 complete months (not before ``start``'s month); (None, 0) if none."""
    last_complete = add_months(month_of(today), -1)
    first = add_months(last_complete, -(PACE_MONTHS - 1))
    if start is not None and month_index(month_of(start)) > month_index(first):
        first = month_of(start)
    months = months_between(first, last_complete)
    if not months:
        return None, 0
    total = sum((Decimal(values.get(m, ZERO)) for m in months), ZERO)
    return total / len(months), len(months)


def project(
    *,
    actual: Decimal,
    target: Decimal,
    values: Mapping[Month, Decimal],
    today: date,
    deadline: date,
    start: date | None = None,
) -> Projection:
    """Where the figure will be at the deadline if the last 12 complete months' pace continues."""
    per_month, n = pace(values, today, start)
    if per_month is None:
        return Projection(None, 0, None, None, None)
    reaches_on = None
    if actual < target and per_month > 0:
        needed = ((target - actual) / per_month).to_integral_value(rounding="ROUND_CEILING")
        reaches_on = add_months(month_of(today), int(needed))
    if today > deadline:
        return Projection(per_month, n, None, reaches_on, None)
    months_left = month_index(month_of(deadline)) - month_index(month_of(today))
    projected = (actual + per_month * months_left).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Projection(per_month, n, projected, reaches_on, projected >= target)


def projected_path(actual: Decimal, per_month: Decimal, today: date, deadline: date) -> list[tuple[Month, Decimal]]:
    """The expected cumulative figure for each month after the current one up to the deadline's month."""
    current = month_of(today)
    months_left = month_index(month_of(deadline)) - month_index(current)
    return [
        (add_months(current, k), (actual + per_month * k).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        for k in range(1, months_left + 1)
    ]

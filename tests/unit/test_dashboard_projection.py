"""Projection at the current pace: the last 12 complete months, linear to the deadline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from techmarket.domain.projection import (
    add_months,
    cumulative,
    month_label,
    monthly_series,
    months_between,
    pace,
    project,
)


def test_months_between_and_add_months_cross_years():
    assert months_between((2024, 11), (2025, 2)) == [(2024, 11), (2024, 12), (2025, 1), (2025, 2)]
    assert months_between((2025, 3), (2025, 2)) == []
    assert add_months((2025, 1), -1) == (2024, 12)
    assert add_months((2024, 12), 13) == (2026, 1)
    assert month_label((2025, 3)) == "2025-03"


def test_series_fills_missing_months_with_zero_and_accumulates():
    series = monthly_series({(2025, 2): Decimal("5")}, (2025, 1), (2025, 3))
    assert series == [((2025, 1), 0), ((2025, 2), Decimal("5")), ((2025, 3), 0)]
    assert [v for _, v in cumulative(series)] == [0, 5, 5]


def test_pace_averages_the_last_twelve_complete_months_not_the_current_one():
    values = {(2025, m): Decimal("100") for m in range(1, 13)}
    values[(2026, 1)] = Decimal("99999")  # the running month is ignored
    per_month, n = pace(values, date(2026, 1, 20))
    assert (per_month, n) == (Decimal("100"), 12)


def test_pace_counts_empty_months_as_zero():
    per_month, n = pace({(2025, 12): Decimal("1200")}, date(2026, 1, 5))
    assert (per_month, n) == (Decimal("100"), 12)


def test_pace_does_not_reach_back_before_the_period_start():
    per_month, n = pace({(2025, 11): Decimal("300")}, date(2026, 1, 5), start=date(2025, 10, 15))
    assert (per_month, n) == (Decimal("100"), 3)  # Oct, Nov, Dec


def test_no_complete_month_means_no_projection():
    result = project(
        actual=Decimal("0"),
        target=Decimal("10"),
        values={},
        today=date(2026, 1, 5),
        deadline=date(2027, 1, 1),
        start=date(2026, 1, 1),
    )
    assert result.pace is None and result.projected is None and result.on_track is None


def test_projection_is_linear_to_the_deadline_month():
    values = {(2025, m): Decimal("10") for m in range(1, 13)}
    result = project(
        actual=Decimal("120"),
        target=Decimal("200"),
        values=values,
        today=date(2026, 1, 10),
        deadline=date(2026, 12, 31),
    )
    # 11 months after January up to December: 120 + 11 × 10
    assert result.projected == Decimal("230.00")
    assert result.on_track is True
    assert result.reaches_on == (2026, 9)  # 80 more at 10 a month: 8 months after January


def test_projection_off_track_and_zero_pace_never_reaches():
    result = project(
        actual=Decimal("0"), target=Decimal("500"), values={}, today=date(2026, 1, 10), deadline=date(2026, 6, 30)
    )
    assert result.pace == 0 and result.projected == Decimal("0.00") and result.on_track is False
    assert result.reaches_on is None


def test_after_the_deadline_there_is_no_projection_but_still_a_pace():
    values = {(2025, m): Decimal("10") for m in range(1, 13)}
    result = project(
        actual=Decimal("5"), target=Decimal("200"), values=values, today=date(2026, 1, 10), deadline=date(2025, 12, 31)
    )
    assert result.projected is None and result.on_track is None
    assert result.pace == Decimal("10")


def test_projected_path_runs_from_next_month_to_the_deadline():
    from techmarket.domain.projection import projected_path

    path = projected_path(Decimal("100"), Decimal("2.5"), date(2026, 11, 26), date(2027, 2, 1))
    assert path == [((2026, 12), Decimal("102.50")), ((2027, 1), Decimal("105.00")), ((2027, 2), Decimal("107.50"))]
    assert projected_path(Decimal("1"), Decimal("1"), date(2026, 11, 26), date(2026, 11, 30)) == []

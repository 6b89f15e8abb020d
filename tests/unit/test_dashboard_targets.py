"""Targets: which recognitions count, progress, the target figure from the form, quarters of the 督办."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from techmarket.domain.registry import EntryCategory as C
from techmarket.domain.registry import Level as L
from techmarket.domain.targets import (
    ContractSide,
    CountMode,
    Metric,
    Recognition,
    counted,
    new_by_month,
    parse_target_value,
    progress,
    side_matches,
)
from techmarket.domain.tasks import Quarter, chinese_number, unreported

RECS = [
    Recognition("A", C.HIGH_TECH_ENTERPRISE, L.NATIONAL, 2019),
    Recognition("A", C.TECH_SME, L.NATIONAL, 2020),  # the same unit twice
    Recognition("B", C.TECH_SME, L.NATIONAL, 2021),
    Recognition("C", C.TECH_SME, L.NATIONAL, 2022),  # after 2021
    Recognition("D", C.HIGH_TECH_ENTERPRISE, L.NATIONAL, 2018, revoked_on=date(2021, 6, 30)),
    Recognition("E", C.KEY_LAB, L.PROVINCIAL, 2020),
    Recognition("F", C.KEY_LAB, L.LUOYANG, 2020),
]
ENTITIES = [C.LEADING_ENTERPRISE, C.HIGH_TECH_ENTERPRISE, C.TECH_SME]


def test_units_count_once_revoked_and_later_ones_do_not_count():
    assert counted(RECS, ENTITIES, list(L), CountMode.UNITS, date(2021, 12, 31)) == 2  # A, B
    assert counted(RECS, ENTITIES, list(L), CountMode.RECOGNITIONS, date(2021, 12, 31)) == 3
    assert counted(RECS, ENTITIES, list(L), CountMode.UNITS, date(2021, 6, 29)) == 3  # D still standing


def test_levels_filter():
    assert counted(RECS, [C.KEY_LAB], [L.NATIONAL, L.PROVINCIAL], CountMode.RECOGNITIONS, date(2021, 12, 31)) == 1


def test_growth_is_booked_in_december():
    growth = new_by_month(RECS, ENTITIES, list(L), CountMode.UNITS, 2020, 2022)
    # end of 2019: A, D; 2020: A (twice), D; 2021: A, B (D revoked); 2022: A, B, C
    assert growth == {(2022, 12): Decimal("1")}


def test_sides():
    assert side_matches(ContractSide.EITHER, True, False) and side_matches(ContractSide.EITHER, False, True)
    assert not side_matches(ContractSide.EITHER, False, False)
    assert side_matches(ContractSide.SELLER, False, True) and not side_matches(ContractSide.SELLER, True, False)
    assert side_matches(ContractSide.BUYER, True, False) and not side_matches(ContractSide.BUYER, False, True)


def test_progress_percent_bar_and_status():
    p = progress(
        actual=Decimal("125000000"),
        target=Decimal("500000000"),
        deadline=date(2025, 12, 31),
        monthly={},
        today=date(2024, 1, 15),
    )
    assert p.percent == Decimal("25.0") and p.bar_percent == 25 and p.remaining == Decimal("375000000")
    assert p.status(date(2024, 1, 15)) == "按当前进度难以按期达成"
    assert p.status(date(2026, 1, 1)) == "已到期未达成"
    done = progress(
        actual=Decimal("3"), target=Decimal("2"), deadline=date(2021, 12, 31), monthly={}, today=date(2026, 1, 1)
    )
    assert (
        done.reached
        and done.bar_percent == 100
        and done.percent == Decimal("150.0")
        and done.status(date(2026, 1, 1)) == "已达成"
    )


@pytest.mark.parametrize(
    ("raw", "metric", "expected"),
    [
        ("500000000", Metric.CONTRACT_AMOUNT, Decimal("500000000.00")),
        ("5,0000.5", Metric.CONTRACT_AMOUNT, Decimal("50000.50")),
        ("150", Metric.REGISTRY_COUNT, Decimal("150")),
    ],
)
def test_target_value_parsed(raw, metric, expected):
    assert parse_target_value(raw, metric) == expected


@pytest.mark.parametrize(
    ("raw", "metric", "message"),
    [
        ("", Metric.CONTRACT_AMOUNT, "请填写目标数值"),
        ("abc", Metric.CONTRACT_AMOUNT, "请填写目标数值"),
        ("0", Metric.CONTRACT_AMOUNT, "大于0"),
        ("-5", Metric.REGISTRY_COUNT, "大于0"),
        ("1.5", Metric.REGISTRY_COUNT, "整数"),
        ("1.005", Metric.CONTRACT_AMOUNT, "两位小数"),
        ("NaN", Metric.CONTRACT_AMOUNT, "大于0"),
    ],
)
def test_target_value_refused_in_chinese(raw, metric, message):
    with pytest.raises(ValueError, match=message):
        parse_target_value(raw, metric)


def test_quarters_and_the_unreported_tasks():
    q = Quarter.of(date(2026, 11, 26))
    assert (q.year, q.number, q.start, q.end, q.label) == (
        2026,
        4,
        date(2026, 10, 1),
        date(2026, 12, 31),
        "2026年第四季度",
    )
    assert Quarter.of(date(2026, 2, 28)).end == date(2026, 3, 31)
    assert Quarter.of(date(2026, 1, 1)).previous() == Quarter(2025, 4)
    last = {1: date(2026, 10, 1), 2: date(2026, 9, 30)}
    assert unreported([1, 2, 3], last, date(2026, 11, 26)) == [2, 3]


@pytest.mark.parametrize(
    ("n", "text"), [(1, "一"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"), (35, "三十五")]
)
def test_chinese_numbers_like_the_policy(n, text):
    assert chinese_number(n) == text

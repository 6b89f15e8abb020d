"""Rule 6: newly recognised technology-transfer demonstration institutions (技术转移示范机构)."""

from __future__ import annotations

import pytest
from rewards_factory import D, award, institution, prior, run

CODE = "52410381MJ0000005E"


@pytest.mark.parametrize(
    ("level", "amount"), [("national", "300000.00"), ("provincial", "100000.00"), ("luoyang", "50000.00")]
)
def test_new_recognition_pays_its_level(level: str, amount: str) -> None:
    a = award(run(institutions=[institution(level, "2021-06-01")]), "institution", CODE)
    assert a.amount == D(amount)


def test_several_levels_in_one_year_pay_only_the_highest() -> None:
    # national (300,000) and provincial (100,000) in 2021: 300,000.00, not 400,000.00
    a = award(
        run(institutions=[institution("provincial", "2021-03-01"), institution("national", "2021-09-01")]),
        "institution",
        CODE,
    )
    assert a.amount == D("300000.00")
    assert [line.amount for line in a.lines] == [D("300000.00"), D("0.00")]
    assert "同年符合两级以上奖励的按最高级别" in a.explanation


def test_level_already_held_is_not_new() -> None:
    # provincial since 2019, provincial again in 2021: nothing
    a = award(
        run(institutions=[institution("provincial", "2019-05-01"), institution("provincial", "2021-05-01")]),
        "institution",
        CODE,
    )
    assert a.amount == D("0.00")
    assert "不属于新认定" in a.explanation


def test_lower_level_after_a_higher_one_is_not_new() -> None:
    # national since 2020, Luoyang level in 2021: nothing
    a = award(
        run(institutions=[institution("national", "2020-12-31"), institution("luoyang", "2021-01-01")]),
        "institution",
        CODE,
    )
    assert a.amount == D("0.00")


def test_upgrade_in_a_later_year_pays_the_new_levels_full_amount() -> None:
    # 2020: Luoyang level -> 50,000.00 for 2020; 2021: provincial -> the full 100,000.00 (not 100,000 − 50,000)
    records = [institution("luoyang", "2020-04-01"), institution("provincial", "2021-04-01")]
    assert award(run(year=2020, institutions=records), "institution", CODE).amount == D("50000.00")
    a = award(run(year=2021, institutions=records), "institution", CODE)
    assert a.amount == D("100000.00")
    assert "由原级别升级，按省级奖励 100,000.00 元" in a.explanation


def test_no_recognition_in_the_year_is_listed_with_zero() -> None:
    a = award(run(institutions=[institution("provincial", "2022-01-01")]), "institution", CODE)
    assert a.amount == D("0.00")
    assert "2021 年无新认定的示范机构级别" in a.explanation


def test_non_local_institution_is_not_rewarded() -> None:
    a = award(run(institutions=[institution("national", "2021-06-01", local=False)]), "institution", CODE)
    assert a.amount == D("0.00")
    assert "非偃师市本地单位" in a.explanation


def test_luoyang_institution_award_in_the_same_year_excludes_ours() -> None:
    paid = [prior("institution", CODE, 2021, "100000.00", "luoyang")]
    a = award(run(institutions=[institution("provincial", "2021-06-01")], prior_awards=paid), "institution", CODE)
    assert a.amount == D("0.00")
    assert "洛阳市已发放同类奖励" in a.explanation
    other_year = [prior("institution", CODE, 2020, "100000.00", "luoyang")]
    result = run(institutions=[institution("provincial", "2021-06-01")], prior_awards=other_year)
    assert award(result, "institution", CODE).amount == D("100000.00")

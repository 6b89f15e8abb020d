"""Rule 4 (seller, 技术输出方) and its exclusions, with worked numbers."""

from __future__ import annotations

from rewards_factory import BUYER, SELLER, D, award, contract, party, payment, prior, run


def _sale(cid: str, base: str, **kwargs: object) -> dict:
    """A contract sold by the local SELLER whose base for 2021 is exactly `base`."""
    return contract(
        cid,
        seller=party(SELLER),
        contract_amount=base,
        technology_amount=base,
        payments=[payment("2021-06-01", base)],
        **kwargs,
    )


def test_all_contract_types_are_summed_then_one_percent() -> None:
    # 3,000,000 (技术开发) + 2,000,000 (技术服务) = 5,000,000 × 1% = 50,000.00
    result = run(
        contracts=[_sale("HT0001", "3000000.00", type="技术开发"), _sale("HT0002", "2000000.00", type="技术服务")]
    )
    a = award(result, "seller", SELLER)
    assert a.amount == D("50000.00")
    assert "年度技术交易额合计 5,000,000.00 元 × 1% = 50,000.00 元。" in a.explanation
    assert [line.base for line in a.lines] == [D("3000000.00"), D("2000000.00")]


def test_capped_at_100000() -> None:
    # 20,000,000 × 1% = 200,000.00 -> 100,000.00
    a = award(run(contracts=[_sale("HT0001", "20000000.00")]), "seller", SELLER)
    assert a.amount == D("100000.00")
    assert "超过最高奖励 100,000.00 元，按 100,000.00 元奖励" in a.explanation


def test_exactly_100_million_is_not_above_the_threshold() -> None:
    # S = 100,000,000.00 is not strictly greater: min(1,000,000.00, 100,000.00) = 100,000.00
    a = award(run(contracts=[_sale("HT0001", "60000000.00"), _sale("HT0002", "40000000.00")]), "seller", SELLER)
    assert a.amount == D("100000.00")


def test_one_fen_above_100_million_gets_200000() -> None:
    # S = 100,000,000.01 > 100,000,000 -> 200,000.00
    a = award(run(contracts=[_sale("HT0001", "60000000.00"), _sale("HT0002", "40000000.01")]), "seller", SELLER)
    assert a.amount == D("200000.00")
    assert "超过 100,000,000.00 元，给予 200,000.00 元奖励" in a.explanation


def test_rounds_the_sum_half_up_to_the_fen() -> None:
    # 1,234.50 × 1% = 12.345 -> 12.35 (banker's rounding would give 12.34)
    assert award(run(contracts=[_sale("HT0001", "1234.50")]), "seller", SELLER).amount == D("12.35")


def test_excluded_contracts_do_not_enter_the_sum() -> None:
    # 3,000,000 counts; 2,000,000 subsidised, 1,000,000 registered in 2019, 500,000 revoked do not.
    # 3,000,000 × 1% = 30,000.00
    result = run(
        contracts=[
            _sale("HT0001", "3000000.00"),
            _sale("HT0002", "2000000.00", subsidized=True),
            _sale("HT0003", "1000000.00", registered_on="2019-11-30"),
            _sale("HT0004", "500000.00", status="revoked"),
        ]
    )
    a = award(result, "seller", SELLER)
    assert a.amount == D("30000.00")
    assert [line.amount for line in a.lines] == [D("30000.00"), D("0.00"), D("0.00"), D("0.00")]


def test_luoyang_seller_award_in_the_same_year_excludes_ours() -> None:
    a = award(
        run(
            contracts=[_sale("HT0001", "3000000.00")],
            prior_awards=[prior("seller", SELLER, 2021, "30000.00", "luoyang")],
        ),
        "seller",
        SELLER,
    )
    assert a.amount == D("0.00")
    assert "洛阳市已发放同类奖励（2021 年，30,000.00 元），偃师市不重复奖励" in a.explanation


def test_luoyang_seller_award_for_another_year_does_not_exclude() -> None:
    # Luoyang paid for 2020; our 2021 award stands: 3,000,000 × 1% = 30,000.00
    paid = [prior("seller", SELLER, 2020, "30000.00", "luoyang")]
    assert award(run(contracts=[_sale("HT0001", "3000000.00")], prior_awards=paid), "seller", SELLER).amount == D(
        "30000.00"
    )


def test_buyer_and_seller_both_local_are_both_rewarded() -> None:
    # base 1,000,000: buyer 5% = 50,000.00, seller 1% = 10,000.00
    result = run(contracts=[_sale("HT0001", "1000000.00")])
    assert award(result, "buyer", BUYER).amount == D("50000.00")
    assert award(result, "seller", SELLER).amount == D("10000.00")
    assert result.total == D("60000.00")


def test_luoyang_2024_seller_caps() -> None:
    # 30,000,000 × 1% = 300,000.00 -> cap 200,000.00; above 100,000,000 -> 300,000.00
    capped = run(policy="luoyang-2024", contracts=[_sale("HT0001", "30000000.00")])
    assert award(capped, "seller", SELLER).amount == D("200000.00")
    high = run(policy="luoyang-2024", contracts=[_sale("HT0001", "100000000.01")])
    assert award(high, "seller", SELLER).amount == D("300000.00")

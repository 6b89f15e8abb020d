"""Rules 1 and 2: which contracts count and a contract's technology base for the year.

Every expected number is worked by hand in the comment next to it.
"""

from __future__ import annotations

from datetime import date

import pytest
from rewards_factory import BUYER, D, award, contract, party, payment, run

from techmarket.rewards import Contract, Party, Payment, contract_base


def _contract(payments: list[Payment], contract_amount: str, technology_amount: str) -> Contract:
    p = Party("甲", "91410381MA0000001A", True)
    return Contract(
        "HT9",
        "技术开发",
        p,
        p,
        D(contract_amount),
        D(technology_amount),
        date(2021, 1, 5),
        "registered",
        False,
        tuple(payments),
    )


def test_pro_rata_technical_portion() -> None:
    # 成交额 3,000,000, 技术交易额 1,200,000; paid 1,000,000 with voucher and invoice:
    # 1,000,000 × 1,200,000 ÷ 3,000,000 = 400,000.00; buyer 5% = 20,000.00.
    result = run(
        contracts=[
            contract(
                contract_amount="3000000.00",
                technology_amount="1200000.00",
                payments=[payment("2021-04-01", "1000000.00")],
            )
        ]
    )
    line = award(result, "buyer", BUYER).lines[0]
    assert line.base == D("400000.00")
    assert line.amount == D("20000.00")
    assert "1,000,000.00 × 1,200,000.00 ÷ 3,000,000.00 = 400,000.00 元" in line.note


def test_stated_technical_amount_wins_over_pro_rata() -> None:
    # Paid 500,000 of which the payment itself states 本次实现技术交易额 300,000 (pro rata would be 200,000).
    c = _contract([Payment(date(2021, 5, 1), D("500000.00"), D("300000.00"), True)], "2500000.00", "1000000.00")
    assert contract_base(c, 2021).amount == D("300000.00")


def test_pro_rata_rounds_half_up_to_the_fen() -> None:
    # 1.00 × 1.01 ÷ 2.00 = 0.505 -> 0.51 half-up (banker's rounding would give 0.50).
    c = _contract([Payment(date(2021, 5, 1), D("1.00"), None, True)], "2.00", "1.01")
    assert contract_base(c, 2021).amount == D("0.51")
    # 1.00 × 1.00 ÷ 3.00 = 0.3333… -> 0.33
    c = _contract([Payment(date(2021, 5, 1), D("1.00"), None, True)], "3.00", "1.00")
    assert contract_base(c, 2021).amount == D("0.33")


def test_payments_without_voucher_and_invoice_do_not_count() -> None:
    # 600,000 with evidence + 400,000 without: base is 600,000 only; 5% = 30,000.00.
    result = run(
        contracts=[
            contract(payments=[payment("2021-02-01", "600000.00"), payment("2021-03-01", "400000.00", evidence=False)])
        ]
    )
    line = award(result, "buyer", BUYER).lines[0]
    assert (line.base, line.amount) == (D("600000.00"), D("30000.00"))
    assert "2021-03-01 付款 400,000.00 元缺转账凭证或发票，不计入" in line.note


def test_only_payments_dated_in_the_year_count() -> None:
    # 2020: 100,000; 2021: 250,000; 2022: 50,000. Base for 2021 = 250,000.
    c = _contract(
        [
            Payment(date(2020, 12, 31), D("100000.00"), None, True),
            Payment(date(2021, 6, 1), D("250000.00"), None, True),
            Payment(date(2022, 1, 1), D("50000.00"), None, True),
        ],
        "1000000.00",
        "1000000.00",
    )
    assert contract_base(c, 2021).amount == D("250000.00")
    assert contract_base(c, 2020).amount == D("100000.00")


def test_base_over_the_contracts_life_stays_within_registered_amount() -> None:
    # Registered 技术交易额 1,000,000. Stated portions: 2020 800,000; 2021 300,000; 2022 100,000.
    # base(2020) = min(1M, 0.8M) − 0 = 800,000
    # base(2021) = min(1M, 1.1M) − min(1M, 0.8M) = 200,000
    # base(2022) = min(1M, 1.2M) − min(1M, 1.1M) = 0
    c = _contract(
        [
            Payment(date(2020, 3, 1), D("800000.00"), D("800000.00"), True),
            Payment(date(2021, 3, 1), D("300000.00"), D("300000.00"), True),
            Payment(date(2022, 3, 1), D("100000.00"), D("100000.00"), True),
        ],
        "2000000.00",
        "1000000.00",
    )
    assert [contract_base(c, y).amount for y in (2020, 2021, 2022)] == [D("800000.00"), D("200000.00"), D("0.00")]
    assert "本年度只计 200,000.00 元" in contract_base(c, 2021).detail


@pytest.mark.parametrize(
    ("registered_on", "counts"),
    [
        ("2019-12-31", False),  # Y−2: too early
        ("2020-01-01", True),  # Y−1
        ("2021-12-31", True),  # Y
        ("2022-01-01", False),  # after Y
    ],
)
def test_registration_window_is_the_year_and_the_one_before(registered_on: str, counts: bool) -> None:
    # Paid 200,000 in 2021: 5% = 10,000.00 when the contract counts.
    result = run(contracts=[contract(registered_on=registered_on, payments=[payment("2021-06-01", "200000.00")])])
    a = award(result, "buyer", BUYER)
    assert a.amount == (D("10000.00") if counts else D("0.00"))
    if not counts:
        assert f"合同登记日期 {registered_on} 不在 2020—2021 年内" in a.lines[0].note


def test_revoked_contract_counts_for_nothing_terminated_counts_what_was_paid() -> None:
    # Revoked: 0. Terminated, paid 300,000 of 1,000,000: 5% × 300,000 = 15,000.00.
    result = run(
        contracts=[
            contract("HT0001", status="revoked", payments=[payment("2021-06-01", "500000.00")]),
            contract("HT0002", status="terminated", payments=[payment("2021-06-01", "300000.00")]),
        ]
    )
    a = award(result, "buyer", BUYER)
    revoked, terminated = a.lines
    assert revoked.amount == D("0.00") and "合同已撤销" in revoked.note
    assert terminated.amount == D("15000.00") and "已终止，按实际支付计算" in terminated.note
    assert a.amount == D("15000.00")


def test_only_local_units_are_rewarded_and_others_are_listed_with_the_reason() -> None:
    outsider = "91110000MA0000009X"
    result = run(
        contracts=[contract(buyer=party(outsider, local=False), payments=[payment("2021-06-01", "500000.00")])]
    )
    a = award(result, "buyer", outsider)
    assert a.amount == D("0.00")
    assert a.explanation == "非偃师市本地单位，不予奖励。"

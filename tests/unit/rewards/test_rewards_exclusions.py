"""The bureau's exclusion of a single contract line on review (with a written reason)."""

from dataclasses import replace
from decimal import Decimal

from techmarket.rewards import Exclusion, calculate, parse_input
from tests.unit.rewards.rewards_factory import BUYER, SELLER, contract, party, payment


def _input(**kw):
    data = {
        "year": 2021,
        "contracts": [
            contract(
                "HT0001", buyer=party(BUYER), seller=party(SELLER), payments=[payment("2021-04-01", "1000000.00")]
            ),
            contract("HT0002", buyer=party(BUYER), seller=party(SELLER), payments=[payment("2021-05-01", "400000.00")]),
        ],
    }
    return parse_input(data)


def test_excluded_buyer_line_pays_nothing_and_says_why():
    base = calculate(_input())
    # worked by hand: 5% × 1,000,000 = 50,000; 5% × 400,000 = 20,000 → buyer 70,000
    assert [a.amount for a in base.awards if a.kind == "buyer"] == [Decimal("70000.00")]
    result = calculate(replace(_input(), exclusions=(Exclusion("HT0002", "buyer", "发票抬头与合同买方不一致"),)))
    buyer = next(a for a in result.awards if a.kind == "buyer")
    assert buyer.amount == Decimal("50000.00")
    line = next(line for line in buyer.lines if line.contract_id == "HT0002")
    assert line.amount == 0 and "经科技局审核排除（发票抬头与合同买方不一致）" in line.note


def test_excluded_seller_line_leaves_the_sum():
    # by hand: seller S = 1,400,000 → 1% = 14,000; without HT0001: 400,000 → 4,000
    result = calculate(replace(_input(), exclusions=(Exclusion("HT0001", "seller", "重复登记"),)))
    seller = next(a for a in result.awards if a.kind == "seller")
    assert seller.amount == Decimal("4000.00")
    buyer = next(a for a in result.awards if a.kind == "buyer")
    assert buyer.amount == Decimal("70000.00")  # the buyer side is untouched

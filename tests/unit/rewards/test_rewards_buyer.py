"""Rule 3 (buyer, 技术吸纳方) and rule 5 (exclusions) with worked numbers."""

from __future__ import annotations

from rewards_factory import BUYER, BUYER2, D, award, contract, party, payment, prior, run


def test_five_percent_with_the_clerks_explanation() -> None:
    # 750,000 × 5% = 37,500.00
    result = run(contracts=[contract("HT0007", payments=[payment("2021-05-20", "750000.00")])])
    a = award(result, "buyer", BUYER)
    assert a.amount == D("37500.00")
    assert a.explanation.startswith("合同HT0007：本年度实现技术交易额 750,000.00 元 × 5% = 37,500.00 元")
    assert a.explanation.endswith("合计 37,500.00 元。")
    (line,) = a.lines
    assert (line.contract_id, line.kind, line.base, line.rate, line.computed, line.amount) == (
        "HT0007",
        "buyer",
        D("750000.00"),
        D("0.05"),
        D("37500.00"),
        D("37500.00"),
    )


def test_reward_rounds_half_up_to_the_fen() -> None:
    # 10.10 × 5% = 0.505 -> 0.51 (half-up); 12,345.67 × 5% = 617.2835 -> 617.28
    result = run(
        contracts=[
            contract("HT0001", payments=[payment("2021-05-20", "10.10")]),
            contract("HT0002", payments=[payment("2021-05-20", "12345.67")]),
        ]
    )
    a = award(result, "buyer", BUYER)
    assert [line.amount for line in a.lines] == [D("0.51"), D("617.28")]
    assert a.amount == D("617.79")  # 0.51 + 617.28


def test_single_contract_capped_at_100000() -> None:
    # 3,000,000 × 5% = 150,000.00 -> capped at 100,000.00
    result = run(
        contracts=[
            contract(
                contract_amount="3000000.00",
                technology_amount="3000000.00",
                payments=[payment("2021-05-20", "3000000.00")],
            )
        ]
    )
    (line,) = award(result, "buyer", BUYER).lines
    assert (line.computed, line.amount) == (D("150000.00"), D("100000.00"))
    assert "单个技术合同累计奖励不超过 100,000.00 元" in line.note


def test_lifetime_cap_across_two_years() -> None:
    # Registered 2020, 技术交易额 4,000,000.
    # 2020: paid 1,600,000 -> 5% = 80,000.00 (under the cap).
    # 2021: paid 1,000,000 -> 5% = 50,000.00, but 100,000 − 80,000 = 20,000.00 left for the contract's life.
    ht = contract(
        registered_on="2020-02-01",
        contract_amount="4000000.00",
        technology_amount="4000000.00",
        payments=[payment("2020-06-01", "1600000.00"), payment("2021-06-01", "1000000.00")],
    )
    first = award(run(year=2020, contracts=[ht]), "buyer", BUYER)
    assert first.amount == D("80000.00")
    paid = [prior("buyer", BUYER, 2020, str(first.amount), contract_id="HT0001")]
    second = award(run(year=2021, contracts=[ht], prior_awards=paid), "buyer", BUYER)
    (line,) = second.lines
    assert (line.computed, line.amount) == (D("50000.00"), D("20000.00"))
    assert "以前年度已奖励 80,000.00 元，本年度按 20,000.00 元计" in line.note
    assert first.amount + second.amount == D("100000.00")


def test_lifetime_cap_already_reached_pays_nothing() -> None:
    ht = contract(registered_on="2020-02-01", payments=[payment("2021-06-01", "400000.00")])
    paid = [prior("buyer", BUYER, 2020, "100000.00", contract_id="HT0001")]
    assert award(run(contracts=[ht], prior_awards=paid), "buyer", BUYER).amount == D("0.00")


def test_earlier_award_for_another_contract_does_not_eat_the_cap() -> None:
    ht = contract(payments=[payment("2021-06-01", "400000.00")])  # 5% = 20,000.00
    paid = [prior("buyer", BUYER, 2020, "100000.00", contract_id="HT9999")]
    assert award(run(contracts=[ht], prior_awards=paid), "buyer", BUYER).amount == D("20000.00")


def test_unit_annual_cap_keeps_lines_and_says_why() -> None:
    # 11 contracts × (2,000,000 × 5% = 100,000.00) = 1,100,000.00 -> capped at 1,000,000.00
    contracts = [
        contract(
            f"HT{i:04d}",
            contract_amount="2000000.00",
            technology_amount="2000000.00",
            payments=[payment("2021-06-01", "2000000.00")],
        )
        for i in range(1, 12)
    ]
    a = award(run(contracts=contracts), "buyer", BUYER)
    assert a.amount == D("1000000.00")
    assert all(line.amount == D("100000.00") for line in a.lines) and len(a.lines) == 11
    assert (
        "各合同合计 1,100,000.00 元，超过同一单位年度最高奖励 1,000,000.00 元，按 1,000,000.00 元奖励" in a.explanation
    )


def test_unit_exactly_at_the_annual_cap_is_not_capped() -> None:
    # 10 × 100,000.00 = 1,000,000.00: not above the cap.
    contracts = [
        contract(
            f"HT{i:04d}",
            contract_amount="2000000.00",
            technology_amount="2000000.00",
            payments=[payment("2021-06-01", "2000000.00")],
        )
        for i in range(1, 11)
    ]
    a = award(run(contracts=contracts), "buyer", BUYER)
    assert a.amount == D("1000000.00")
    assert "超过同一单位年度最高奖励" not in a.explanation


def test_subsidised_contract_counts_for_neither_side() -> None:
    seller = "91410381MA0000003C"
    result = run(
        contracts=[
            contract(subsidized=True, seller=party(seller), payments=[payment("2021-06-01", "500000.00")]),
        ]
    )
    for kind, code in (("buyer", BUYER), ("seller", seller)):
        a = award(result, kind, code)
        assert a.amount == D("0.00")
        assert "已享受财政资金补贴，不参与奖励" in a.lines[0].note


def test_luoyang_buyer_award_for_the_contract_excludes_ours_in_any_year() -> None:
    ht = contract(payments=[payment("2021-06-01", "400000.00")])
    paid = [prior("buyer", BUYER, 2019, "20000.00", source="luoyang", contract_id="HT0001")]
    a = award(run(contracts=[ht], prior_awards=paid), "buyer", BUYER)
    assert a.amount == D("0.00")
    assert "洛阳市已发放同类奖励（2019 年，20,000.00 元），偃师市不重复奖励" in a.lines[0].note


def test_units_are_separate() -> None:
    # BUYER: 400,000 × 5% = 20,000.00; BUYER2: 100,000 × 5% = 5,000.00; total 25,000.00
    result = run(
        contracts=[
            contract("HT0001", payments=[payment("2021-06-01", "400000.00")]),
            contract("HT0002", buyer=party(BUYER2), payments=[payment("2021-06-01", "100000.00")]),
        ]
    )
    assert award(result, "buyer", BUYER).amount == D("20000.00")
    assert award(result, "buyer", BUYER2).amount == D("5000.00")
    assert result.total == D("25000.00")


def test_luoyang_2024_only_transfer_and_licence_for_buyers_with_200000_cap() -> None:
    # 技术开发 is not eligible for the buyer; 技术许可（独占许可） is (main type), and
    # 5,000,000 × 5% = 250,000.00 is capped at luoyang-2024's 200,000.00.
    result = run(
        policy="luoyang-2024",
        contracts=[
            contract("HT0001", type="技术开发", payments=[payment("2021-06-01", "400000.00")]),
            contract(
                "HT0002",
                type="技术许可（独占许可）",
                contract_amount="5000000.00",
                technology_amount="5000000.00",
                payments=[payment("2021-06-01", "5000000.00")],
            ),
        ],
    )
    dev, licence = award(result, "buyer", BUYER).lines
    assert dev.amount == D("0.00") and "不在本政策买方奖励范围（仅限 技术转让、技术许可）" in dev.note
    assert (licence.computed, licence.amount) == (D("250000.00"), D("200000.00"))
    assert result.policy == "luoyang-2024"

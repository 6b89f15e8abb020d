"""Property tests: on any valid input no award exceeds its caps and no amount is negative."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from techmarket.rewards import calculate, contract_base, load_policy, parse_input, result_to_dict

# A fixed pool, so that one credit code always has one local flag (parse_input insists on it).
UNITS = [("91410381MA0000001A", True), ("91410381MA0000002B", True), ("12100000400000004D", False)]
INSTITUTIONS = [("52410381MJ0000005E", True), ("52410381MJ0000006F", True), ("52110000MJ0000007G", False)]
TYPES = ["技术开发", "技术转让（专利权）", "技术许可", "技术咨询", "技术服务"]
SETTINGS = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def yuan(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):.2f}"


# Dates mostly in and around the reward years drawn below, so that most contracts pay something.
dates = st.builds(
    lambda year, day: (date(year, 1, 1) + timedelta(days=day)).isoformat(),
    st.sampled_from([2019, 2020, 2021, 2021, 2021, 2022]),
    st.integers(0, 364),
)
# Amounts from 0 to 200,000,000 yuan, with more weight near the thresholds and caps.
fens = st.one_of(
    st.integers(0, 20_000_000_000),
    st.sampled_from([0, 1, 5, 10_000_000_000, 10_000_000_001, 200_000_000, 2_000_000_000]),
)


@st.composite
def contracts(draw: st.DrawFn, index: int) -> dict[str, Any]:
    total = draw(fens.filter(lambda f: f > 0))
    tech = draw(st.integers(0, total))
    payments = []
    for _ in range(draw(st.integers(0, 4))):
        amount = draw(st.integers(0, total))
        stated = draw(st.none() | st.integers(0, amount))
        payments.append(
            {
                "paid_on": draw(dates),
                "amount": yuan(amount),
                "technology_amount": None if stated is None else yuan(stated),
                "evidence": draw(st.sampled_from([True, True, True, False])),
            }
        )
    buyer, seller = draw(st.sampled_from(UNITS)), draw(st.sampled_from(UNITS))
    return {
        "id": f"HT{index:04d}",
        "type": draw(st.sampled_from(TYPES)),
        "buyer": {"name": "买方", "credit_code": buyer[0], "local": buyer[1]},
        "seller": {"name": "卖方", "credit_code": seller[0], "local": seller[1]},
        "contract_amount": yuan(total),
        "technology_amount": yuan(tech),
        "registered_on": draw(dates),
        "status": draw(st.sampled_from(["registered", "registered", "terminated", "revoked"])),
        "subsidized": draw(st.sampled_from([False, False, False, True])),
        "payments": payments,
    }


@st.composite
def inputs(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(0, 8))
    items = [draw(contracts(i)) for i in range(n)]
    institutions = [
        {
            "name": "示范机构",
            "credit_code": code,
            "local": local,
            "level": draw(st.sampled_from(["national", "provincial", "luoyang"])),
            "recognized_on": draw(dates),
        }
        for code, local in draw(st.lists(st.sampled_from(INSTITUTIONS), max_size=4))
    ]
    prior = [
        {
            "recipient": draw(st.sampled_from([u[0] for u in UNITS + INSTITUTIONS])),
            "kind": draw(st.sampled_from(["buyer", "seller", "institution"])),
            "contract_id": f"HT{draw(st.integers(0, max(n - 1, 0))):04d}",
            "year": draw(st.integers(2019, 2022)),
            "source": draw(st.sampled_from(["yanshi", "yanshi", "luoyang"])),
            "amount": yuan(draw(st.integers(0, 20_000_000))),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    return {
        "policy": draw(st.sampled_from(["yanshi-2021", "luoyang-2024"])),
        "year": draw(st.sampled_from([2021, 2021, 2020, 2022])),
        "contracts": items,
        "institutions": institutions,
        "prior_awards": prior,
    }


@SETTINGS
@given(inputs())
def test_no_award_exceeds_its_caps_and_nothing_is_negative(data: dict[str, Any]) -> None:
    inp = parse_input(data)
    policy = load_policy(inp.policy)
    result = calculate(inp)
    paid_before: dict[str, Decimal] = defaultdict(Decimal)
    for a in inp.prior_awards:
        if a.source == "yanshi" and a.kind == "buyer" and a.year < inp.year:
            paid_before[a.contract_id or ""] += a.amount

    for award in result.awards:
        assert award.amount >= 0
        assert award.amount == award.amount.quantize(Decimal("0.01"))
        for line in award.lines:
            assert 0 <= line.amount <= line.computed
            assert line.base is None or line.base >= 0
        if award.kind == "buyer":
            assert award.amount <= policy.buyer.per_unit_annual_cap
            assert award.amount <= sum((line.amount for line in award.lines), Decimal(0))
            for line in award.lines:
                assert line.amount <= max(Decimal(0), policy.buyer.per_contract_cap - paid_before[line.contract_id])
        elif award.kind == "seller":
            assert award.amount <= max(policy.seller.annual_cap, policy.seller.high_volume_award)
            if (
                sum((line.base for line in award.lines if line.amount), Decimal(0))
                <= policy.seller.high_volume_threshold
            ):
                assert award.amount <= policy.seller.annual_cap
        else:
            assert award.amount in {Decimal(0), *policy.institution_awards.values()}
    assert result.total == sum((a.amount for a in result.awards), Decimal(0))
    kinds = ["buyer", "seller", "institution"]
    keys = [(kinds.index(a.kind), a.recipient) for a in result.awards]
    assert keys == sorted(keys)
    assert result_to_dict(result)["total"] == f"{result.total:.2f}"


@SETTINGS
@given(inputs())
def test_bases_over_the_years_never_exceed_the_registered_amount(data: dict[str, Any]) -> None:
    for c in parse_input(data).contracts:
        bases = [contract_base(c, y).amount for y in range(2018, 2024)]
        assert all(b >= 0 for b in bases)
        assert sum(bases) <= c.technology_amount


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs())
def test_lifetime_buyer_cap_holds_when_years_are_paid_one_after_another(data: dict[str, Any]) -> None:
    """Pay 2020, 2021, 2022 in turn, each year's lines recorded as what the city paid for the contract."""
    data = {**data, "prior_awards": []}
    policy = load_policy(data["policy"])
    paid: list[dict[str, Any]] = []
    per_contract: dict[str, Decimal] = defaultdict(Decimal)
    for year in (2020, 2021, 2022):
        result = calculate(parse_input({**data, "year": year, "prior_awards": paid}))
        for award in result.awards:
            for line in award.lines if award.kind == "buyer" else ():
                per_contract[line.contract_id or ""] += line.amount
                paid.append(
                    {
                        "recipient": award.recipient,
                        "kind": "buyer",
                        "contract_id": line.contract_id,
                        "year": year,
                        "source": "yanshi",
                        "amount": f"{line.amount:.2f}",
                    }
                )
    assert all(total <= policy.buyer.per_contract_cap for total in per_contract.values())

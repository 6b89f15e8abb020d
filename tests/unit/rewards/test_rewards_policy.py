"""Policies are data: the shipped ones, a third city added as data only, schema errors, purity."""

from __future__ import annotations

import ast
import copy
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rewards_factory import BUYER, D, award, contract, payment

from techmarket.rewards import (
    PolicyError,
    available_policies,
    calculate,
    load_policy,
    parse_input,
    policy_from_dict,
)

PACKAGE = Path(__file__).resolve().parents[3] / "techmarket" / "rewards"


def _yanshi_data() -> dict[str, Any]:
    return json.loads((PACKAGE / "policies" / "yanshi-2021.json").read_text("utf-8"))


def test_shipped_policies() -> None:
    assert available_policies() == ["luoyang-2024", "yanshi-2021"]


def test_yanshi_2021_parameters_are_the_documents() -> None:
    p = load_policy("yanshi-2021")
    assert p.document["number"] == "偃政〔2021〕2号"
    assert (p.buyer.rate, p.buyer.per_contract_cap, p.buyer.per_unit_annual_cap) == (
        D("0.05"),
        D("100000.00"),
        D("1000000.00"),
    )
    assert p.buyer.contract_types is None and p.seller.contract_types is None
    assert (p.seller.rate, p.seller.annual_cap, p.seller.high_volume_threshold, p.seller.high_volume_award) == (
        D("0.01"),
        D("100000.00"),
        D("100000000.00"),
        D("200000.00"),
    )
    assert p.institution_awards == {"national": D("300000.00"), "provincial": D("100000.00"), "luoyang": D("50000.00")}
    assert (p.payer, p.exclusive_with, p.registration_years_before) == ("yanshi", {"luoyang": "洛阳市"}, 1)


def test_luoyang_2024_parameters() -> None:
    p = load_policy("luoyang-2024")
    assert p.buyer.contract_types == ("技术转让", "技术许可")
    assert (p.buyer.per_contract_cap, p.buyer.per_unit_annual_cap) == (D("200000.00"), D("1000000.00"))
    assert (p.seller.annual_cap, p.seller.high_volume_award) == (D("200000.00"), D("300000.00"))
    assert p.institution_awards == load_policy("yanshi-2021").institution_awards


def test_a_third_city_is_data_only() -> None:
    # 新安县: buyer 3%, per-contract cap 50,000; its own prior awards are source "xinan".
    data = _yanshi_data()
    data.update(id="xinan-2025", title="新安县技术合同奖励", payer={"code": "xinan", "name": "新安县"})
    data["buyer"].update(rate="0.03", per_contract_cap="50000.00")
    policy = policy_from_dict(data)
    inp = parse_input(
        {
            "year": 2021,
            "contracts": [contract(payments=[payment("2021-06-01", "1000000.00")])],
            "prior_awards": [
                {
                    "recipient": BUYER,
                    "kind": "buyer",
                    "contract_id": "HT0001",
                    "year": 2020,
                    "source": "xinan",
                    "amount": "40000.00",
                },
            ],
        },
        policy,
    )
    result = calculate(inp, policy)
    # 1,000,000 × 3% = 30,000.00; lifetime cap 50,000 − 40,000 already paid = 10,000.00
    (line,) = award(result, "buyer", BUYER).lines
    assert (line.computed, line.amount) == (D("30000.00"), D("10000.00"))
    assert result.policy == "xinan-2025"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["buyer"].pop("rate"), "缺少字段 buyer.rate"),
        (lambda d: d["buyer"].update(rate="5%"), "字段 buyer.rate 应为 0 到 1 之间的比例"),
        (lambda d: d["seller"].update(annual_cap="-1"), "字段 seller.annual_cap 应为不小于 0"),
        (lambda d: d["seller"].update(annual_cap="100000.001"), "字段 seller.annual_cap 应为不小于 0、最多两位小数"),
        (lambda d: d["buyer"].update(contract_types=["技术推广"]), '字段 buyer.contract_types 应为 "all" 或由'),
        (lambda d: d["institution"].pop("national"), "缺少字段 institution.national"),
        (lambda d: d.update(format=2), "字段 format 应为 1"),
        (lambda d: d.update(id="Yanshi 2021"), "字段 id 只能由小写字母、数字和连字符组成"),
        (lambda d: d.update(exclusive_with=[{"code": "yanshi", "name": "偃师市"}]), "不能包含本级发放方"),
        (lambda d: d["document"].update(issued_on="2021-13-01"), "字段 document.issued_on 不是 YYYY-MM-DD"),
    ],
)
def test_schema_errors_name_the_field(change: Any, message: str) -> None:
    data = copy.deepcopy(_yanshi_data())
    change(data)
    with pytest.raises(PolicyError) as err:
        policy_from_dict(data, source="draft.json")
    assert "政策文件 draft.json" in str(err.value)
    assert message in str(err.value)


def test_unknown_policy_lists_the_known_ones() -> None:
    with pytest.raises(PolicyError, match="未知的奖励政策“shanghai-2030”，可用的政策：luoyang-2024、yanshi-2021"):
        load_policy("shanghai-2030")


def test_policy_amounts_are_exact_decimals() -> None:
    p = load_policy("yanshi-2021")
    assert all(isinstance(v, Decimal) for v in (p.buyer.rate, p.seller.rate, *p.institution_awards.values()))


def test_package_is_pure_standard_library() -> None:
    """No Flask, no SQLAlchemy, no other techmarket module: only the stdlib and its own modules."""
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level in (0, 1), f"{path.name} imports from outside techmarket.rewards"
                if node.level == 1:  # a sibling module of techmarket.rewards
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names, f"{path.name} imports {name}"

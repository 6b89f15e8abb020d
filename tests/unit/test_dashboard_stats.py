"""Contract statistics as pure functions: sides, towns, party types, top parties, brokers, funnel."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from techmarket.domain import stats
from techmarket.domain.accounts import OrgKind
from techmarket.domain.contracts import ContractType
from techmarket.domain.listings import TechField
from techmarket.domain.stats import ContractFact
from techmarket.domain.targets import ContractSide

BASE = ContractFact(
    id=1,
    registered_on=date(2025, 3, 10),
    contract_type=ContractType.TRANSFER_PATENT,
    tech_field=TechField.ADVANCED_MANUFACTURING,
    contract_amount=Decimal("1000000.00"),
    technology_amount=Decimal("800000.00"),
    buyer_name="偃师市甲公司",
    buyer_credit_code="B1",
    buyer_local=True,
    seller_name="河南科技大学",
    seller_credit_code="S1",
    seller_local=False,
    buyer_kind=OrgKind.ENTERPRISE,
    seller_kind=OrgKind.UNIVERSITY,
    buyer_town="顾县镇",
)
FACTS = [
    BASE,  # 吸纳 only
    replace(BASE, id=2, registered_on=date(2025, 4, 2), contract_amount=Decimal("250000.50"),
            technology_amount=Decimal("200000.25"), buyer_name="北京乙公司", buyer_credit_code="B2", buyer_local=False,
            buyer_kind=None, buyer_town=None, seller_name="偃师市丙研究院", seller_credit_code="S2", seller_local=True,
            seller_kind=OrgKind.NEW_RD_INSTITUTION, seller_town="首阳山街道", contract_type=ContractType.CONSULTING,
            broker_id=7),  # 输出 only
    replace(BASE, id=3, registered_on=date(2026, 1, 5), contract_amount=Decimal("0.01"),
            technology_amount=Decimal("0.01"), seller_name="偃师市丁公司", seller_credit_code="S3", seller_local=True,
            seller_kind=None, seller_town=None, tech_field=TechField.AGRICULTURE, broker_id=7),  # both local
    replace(BASE, id=4, buyer_local=False, buyer_town=None, buyer_credit_code="B4", buyer_name="外地戊公司"),  # neither
]  # fmt: skip


def test_side_table_counts_each_contract_once_in_the_target_measure():
    table = stats.side_table(FACTS, ContractSide.EITHER)
    rows = {r[0].split("（")[0]: r[1:] for r in table.rows}
    assert rows["技术输出"] == [2, Decimal("250000.51"), Decimal("200000.26")]
    assert rows["技术吸纳"] == [2, Decimal("1000000.01"), Decimal("800000.01")]
    assert rows["本市单位为买方或卖方"] == [3, Decimal("1250000.51"), Decimal("1000000.26")]
    assert rows["全部登记合同"] == [4, Decimal("2250000.51"), Decimal("1800000.26")]
    assert "目标口径" in table.rows[2][0] and "本市单位为买方或卖方" in table.note


def test_by_year_and_month_fill_the_months():
    assert stats.by_year(FACTS).rows == [
        ["2025", 3, Decimal("2250000.50"), Decimal("1800000.25")],
        ["2026", 1, Decimal("0.01"), Decimal("0.01")],
    ]
    months = stats.by_month(FACTS, (2025, 2), (2025, 4))
    assert [r[0] for r in months.rows] == ["2025-02", "2025-03", "2025-04"]
    assert months.rows[0][1:] == [0, Decimal("0.00"), Decimal("0.00")]
    assert months.rows[1][1] == 2


def test_by_type_and_field_use_chinese_labels():
    types = {r[0]: r[1] for r in stats.by_contract_type(FACTS).rows}
    assert types == {"技术转让（专利权）": 3, "技术咨询": 1}
    fields = {r[0]: r[1] for r in stats.by_tech_field(FACTS).rows}
    assert fields == {"先进制造": 3, "农业": 1}


def test_by_town_uses_the_local_partys_town_and_unlinked():
    rows = {r[0]: r[1:] for r in stats.by_town(FACTS, ["首阳山街道", "顾县镇", "商城街道"]).rows}
    assert rows["首阳山街道"] == [1, Decimal("250000.50"), Decimal("200000.25"), 0, Decimal("0.00"), Decimal("0.00")]
    assert rows["顾县镇"] == [0, Decimal("0.00"), Decimal("0.00"), 2, Decimal("1000000.01"), Decimal("800000.01")]
    # contract 3's local seller is not on the platform
    assert rows["未关联"] == [1, Decimal("0.01"), Decimal("0.01"), 0, Decimal("0.00"), Decimal("0.00")]
    assert "商城街道" not in rows


def test_by_party_type():
    rows = {r[0]: r[1:] for r in stats.by_party_type(FACTS).rows}
    assert rows["高校"][:3] == [2, Decimal("2000000.00"), Decimal("1600000.00")]  # sellers of 1 and 4
    assert rows["新型研发机构"][:2] == [1, Decimal("250000.50")]
    assert rows["企业"][3:] == [3, Decimal("2000000.01"), Decimal("1600000.01")]  # buyers of 1, 3, 4
    assert rows["平台外单位"] == [1, Decimal("0.01"), Decimal("0.01"), 1, Decimal("250000.50"), Decimal("200000.25")]


def test_top_parties_rank_by_amount():
    sellers = stats.top_parties(FACTS, "seller")
    assert [r[1] for r in sellers.rows] == ["河南科技大学", "偃师市丙研究院", "偃师市丁公司"]
    assert sellers.rows[0][:4] == [1, "河南科技大学", "外地", 2]
    buyers = stats.top_parties(FACTS, "buyer", limit=1)
    assert len(buyers.rows) == 1 and buyers.rows[0][1] == "偃师市甲公司"


def test_broker_table_and_funnel():
    table = stats.broker_table(FACTS, {7: 5, 9: 2}, {7: "王经纪", 9: "李经纪"})
    assert table.rows[0] == ["王经纪", 5, 2, Decimal("250000.51"), Decimal("200000.26")]
    assert table.rows[1] == ["李经纪", 2, 0, Decimal("0.00"), Decimal("0.00")]
    funnel = stats.funnel_table(
        {"已推荐": 4, "双方已确认意向": 3, "洽谈中": 2, "已签约": 1, "未成交": 2},
        ["已推荐", "双方已确认意向", "洽谈中", "已签约"],
        "未成交",
    )
    assert [r[:2] for r in funnel.rows] == [
        ["已推荐", 12],
        ["双方已确认意向", 6],
        ["洽谈中", 3],
        ["已签约", 1],
        ["未成交", 2],
    ]
    assert funnel.rows[3][2] == Decimal("8.3")


def test_chart_data_matches_the_table():
    table = stats.by_year(FACTS)
    chart = table.chart_data()
    assert chart["labels"] == ["2025", "2026"]
    assert chart["series"][0]["data"] == ["2250000.50", "0.01"]  # strings: exact, parsed only for drawing
    assert stats.Table("x", "空", []).chart_data() is None


def test_share():
    assert stats.share(1, 3) == Decimal("33.3") and stats.share(5, 0) == Decimal("0.0")

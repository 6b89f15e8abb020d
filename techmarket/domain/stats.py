"""Statistics of registered technology contracts, as pure functions over plain facts.

The service reads one :class:`ContractFact` per counted contract (registered or terminated; revoked ones
never count) and these functions group them. Sums are Decimal (exact, the same on SQLite and PostgreSQL).
Every statistic comes out as a :class:`Table`: the page draws its chart and its table from it, and the
exports write it to .xlsx and .csv.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from techmarket.domain.accounts import OrgKind
from techmarket.domain.contracts import ContractType
from techmarket.domain.listings import TechField
from techmarket.domain.projection import Month, month_label, month_of, months_between
from techmarket.domain.targets import ContractSide, side_matches

ZERO = Decimal("0.00")
UNLINKED = "未关联"
OUTSIDE = "平台外单位"


@dataclass(frozen=True)
class ContractFact:
    id: int
    registered_on: date
    contract_type: ContractType
    tech_field: TechField
    contract_amount: Decimal  # 合同成交额
    technology_amount: Decimal  # 技术交易额: the registered one when the bureau corrected it
    buyer_name: str
    buyer_credit_code: str
    buyer_local: bool
    seller_name: str
    seller_credit_code: str
    seller_local: bool
    buyer_kind: OrgKind | None = None  # None: the party is not on the platform
    seller_kind: OrgKind | None = None
    buyer_town: str | None = None
    seller_town: str | None = None
    broker_id: int | None = None
    match_case_id: int | None = None


# --- tables ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # Chinese header (the exports use it too)
    kind: str = "text"  # text | count | money | percent


@dataclass
class Table:
    key: str  # used in URLs (exports) and element ids
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    chart: dict[str, Any] | None = None  # {"type": "bar"|"line"|"doughnut", "label": col key, "values": [col keys]}

    def column(self, key: str) -> list[Any]:
        i = [c.key for c in self.columns].index(key)
        return [row[i] for row in self.rows]

    def chart_data(self) -> dict[str, Any] | None:
        """What dashboard.js needs to draw the chart: labels and one series per value column."""
        if not self.chart or not self.rows:
            return None
        by_key = {c.key: c for c in self.columns}
        return {
            "type": self.chart["type"],
            "labels": [str(v) for v in self.column(self.chart["label"])],
            "series": [
                {"label": by_key[k].label, "data": [str(v) for v in self.column(k)], "kind": by_key[k].kind}
                for k in self.chart["values"]
            ],
        }


FIGURE_COLUMNS = [
    Column("count", "合同数（份）", "count"),
    Column("contract_amount", "成交额（元）", "money"),
    Column("technology_amount", "技术交易额（元）", "money"),
]


@dataclass
class Totals:
    count: int = 0
    contract_amount: Decimal = ZERO
    technology_amount: Decimal = ZERO

    def add(self, fact: ContractFact) -> None:
        self.count += 1
        self.contract_amount += fact.contract_amount
        self.technology_amount += fact.technology_amount

    def figures(self) -> list[Any]:
        return [self.count, self.contract_amount, self.technology_amount]


def totals(facts: Iterable[ContractFact]) -> Totals:
    out = Totals()
    for fact in facts:
        out.add(fact)
    return out


def grouped(facts: Iterable[ContractFact], key: Callable[[ContractFact], Any]) -> dict[Any, Totals]:
    out: dict[Any, Totals] = defaultdict(Totals)
    for fact in facts:
        out[key(fact)].add(fact)
    return dict(out)


def on_side(facts: Iterable[ContractFact], side: ContractSide) -> list[ContractFact]:
    return [f for f in facts if side_matches(side, f.buyer_local, f.seller_local)]


def monthly_amounts(
    facts: Iterable[ContractFact], side: ContractSide, since: date | None = None
) -> dict[Month, Decimal]:
    """成交额 per month of registration, for the contracts a target counts."""
    out: dict[Month, Decimal] = defaultdict(lambda: ZERO)
    for fact in on_side(facts, side):
        if since is None or fact.registered_on >= since:
            out[month_of(fact.registered_on)] += fact.contract_amount
    return dict(out)


# --- the statistics -------------------------------------------------------------------------------


def side_table(facts: Sequence[ContractFact], target_side: ContractSide) -> Table:
    """输出, 吸纳 and the measure the 成交额 target uses, side by side."""
    table = Table(
        "sides",
        "技术输出与技术吸纳（本市单位）",
        [Column("side", "口径"), *FIGURE_COLUMNS],
        note=f"成交额目标采用的口径：{target_side.label}。同一合同买卖双方均为本市单位时，在输出、吸纳中各计一次，在合计口径中只计一次。",
        chart={"type": "bar", "label": "side", "values": ["contract_amount", "technology_amount"]},
    )
    for side in (ContractSide.SELLER, ContractSide.BUYER, ContractSide.EITHER):
        label = side.label + ("（目标口径）" if side is target_side else "")
        table.rows.append([label, *totals(on_side(facts, side)).figures()])
    table.rows.append(["全部登记合同（含买卖双方均为外地单位）", *totals(facts).figures()])
    return table


def by_year(facts: Sequence[ContractFact]) -> Table:
    table = Table(
        "by_year",
        "按登记年度",
        [Column("year", "年度"), *FIGURE_COLUMNS],
        chart={"type": "bar", "label": "year", "values": ["contract_amount", "technology_amount"]},
    )
    groups = grouped(facts, lambda f: f.registered_on.year)
    for year in sorted(groups):
        table.rows.append([str(year), *groups[year].figures()])
    return table


def by_month(facts: Sequence[ContractFact], first: Month, last: Month) -> Table:
    table = Table(
        "by_month",
        "按登记月份",
        [Column("month", "月份"), *FIGURE_COLUMNS],
        chart={"type": "line", "label": "month", "values": ["contract_amount", "technology_amount"]},
    )
    groups = grouped(facts, lambda f: month_of(f.registered_on))
    for month in months_between(first, last):
        table.rows.append([month_label(month), *groups.get(month, Totals()).figures()])
    return table


def _enum_table(facts, key: str, title: str, label: str, members: Iterable, attr: str) -> Table:
    table = Table(
        key,
        title,
        [Column(key.removeprefix("by_"), label), *FIGURE_COLUMNS],
        chart={"type": "bar", "label": key.removeprefix("by_"), "values": ["contract_amount"]},
    )
    groups = grouped(facts, lambda f: getattr(f, attr))
    for member in members:
        if member in groups:
            table.rows.append([member.label, *groups[member].figures()])
    return table


def by_contract_type(facts: Sequence[ContractFact]) -> Table:
    return _enum_table(facts, "by_type", "按合同类型", "合同类型", ContractType, "contract_type")


def by_tech_field(facts: Sequence[ContractFact]) -> Table:
    return _enum_table(facts, "by_field", "按技术领域", "技术领域", TechField, "tech_field")


def _side_columns() -> list[Column]:
    return [
        Column("seller_count", "输出合同数（份）", "count"),
        Column("seller_amount", "输出成交额（元）", "money"),
        Column("seller_technology", "输出技术交易额（元）", "money"),
        Column("buyer_count", "吸纳合同数（份）", "count"),
        Column("buyer_amount", "吸纳成交额（元）", "money"),
        Column("buyer_technology", "吸纳技术交易额（元）", "money"),
    ]


def by_town(facts: Sequence[ContractFact], towns: Sequence[str]) -> Table:
    """Each town's local units as sellers (输出) and as buyers (吸纳).

    未关联: the local party is not on the platform (or has no town there).
    """
    table = Table(
        "by_town",
        "按镇/街道（本市单位所在地）",
        [Column("town", "镇/街道"), *_side_columns()],
        note=f"镇/街道取自平台上本市单位的登记信息；本市单位未在平台注册的合同计入“{UNLINKED}”。",
        chart={"type": "bar", "label": "town", "values": ["seller_amount", "buyer_amount"]},
    )
    sellers = grouped([f for f in facts if f.seller_local], lambda f: f.seller_town or UNLINKED)
    buyers = grouped([f for f in facts if f.buyer_local], lambda f: f.buyer_town or UNLINKED)
    for town in [*towns, UNLINKED]:
        s, b = sellers.get(town, Totals()), buyers.get(town, Totals())
        if s.count or b.count:
            table.rows.append([town, *s.figures(), *b.figures()])
    return table


PARTY_TYPES = ("企业", "高校", "科研院所", "新型研发机构", "技术转移机构", "其他单位", OUTSIDE)


def party_type(kind: OrgKind | None) -> str:
    if kind is None:
        return OUTSIDE
    return {
        OrgKind.ENTERPRISE: "企业",
        OrgKind.UNIVERSITY: "高校",
        OrgKind.INSTITUTE: "科研院所",
        OrgKind.ACADEMICIAN_WORKSTATION: "科研院所",
        OrgKind.NEW_RD_INSTITUTION: "新型研发机构",
        OrgKind.TRANSFER_INSTITUTION: "技术转移机构",
    }.get(kind, "其他单位")


def by_party_type(facts: Sequence[ContractFact]) -> Table:
    table = Table(
        "by_party",
        "按主体类型（卖方与买方）",
        [Column("party", "主体类型"), *_side_columns()],
        note=f"“{OUTSIDE}”：该方未在平台注册，类型无从判断。此表中“输出”指作为卖方、“吸纳”指作为买方，不分本地外地。",
        chart={"type": "bar", "label": "party", "values": ["seller_amount", "buyer_amount"]},
    )
    sellers = grouped(facts, lambda f: party_type(f.seller_kind))
    buyers = grouped(facts, lambda f: party_type(f.buyer_kind))
    for kind in PARTY_TYPES:
        s, b = sellers.get(kind, Totals()), buyers.get(kind, Totals())
        if s.count or b.count:
            table.rows.append([kind, *s.figures(), *b.figures()])
    return table


def top_parties(facts: Sequence[ContractFact], side: str, limit: int = 10) -> Table:
    """The largest buyers or sellers by 成交额 (grouped by credit code; ties by name)."""
    is_buyer = side == "buyer"
    table = Table(
        f"top_{side}s",
        f"成交额前{limit}名{'买方（技术吸纳方）' if is_buyer else '卖方（技术输出方）'}",
        [Column("rank", "名次", "count"), Column("name", "单位名称"), Column("local", "本市/外地"), *FIGURE_COLUMNS],
        chart={"type": "bar", "label": "name", "values": ["contract_amount"]},
    )
    names: dict[str, tuple[str, bool]] = {}
    for f in facts:
        code = f.buyer_credit_code if is_buyer else f.seller_credit_code
        names.setdefault(code, (f.buyer_name, f.buyer_local) if is_buyer else (f.seller_name, f.seller_local))
    groups = grouped(facts, lambda f: f.buyer_credit_code if is_buyer else f.seller_credit_code)
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1].contract_amount, names[kv[0]][0]))[:limit]
    for rank, (code, t) in enumerate(ranked, start=1):
        name, local = names[code]
        table.rows.append([rank, name, "本市" if local else "外地", *t.figures()])
    return table


def broker_table(facts: Sequence[ContractFact], cases_by_broker: dict[int, int], names: dict[int, str]) -> Table:
    """Each broker's match cases, signed (registered) contracts and their value."""
    table = Table(
        "brokers",
        "技术经纪人业绩",
        [
            Column("broker", "技术经纪人"),
            Column("cases", "对接项目数", "count"),
            Column("count", "登记合同数（份）", "count"),
            Column("contract_amount", "成交额（元）", "money"),
            Column("technology_amount", "技术交易额（元）", "money"),
        ],
        chart={"type": "bar", "label": "broker", "values": ["contract_amount"]},
    )
    groups = grouped([f for f in facts if f.broker_id is not None], lambda f: f.broker_id)
    ids = set(groups) | set(cases_by_broker)
    rows = []
    for broker_id in ids:
        t = groups.get(broker_id, Totals())
        rows.append([names.get(broker_id, f"经纪人#{broker_id}"), cases_by_broker.get(broker_id, 0), *t.figures()])
    rows.sort(key=lambda r: (-r[3], -r[1], r[0]))
    table.rows = rows
    return table


def funnel_table(counts: dict[str, int], stages: Sequence[str], lost: str | None = None) -> Table:
    """The matching funnel: how many cases reached each stage (a case at a later stage passed the earlier ones).

    Cases that ended without a deal (``lost``) count as recommended only and have a row of their own.
    """
    table = Table(
        "funnel",
        "供需对接漏斗",
        [Column("stage", "阶段"), Column("cases", "项目数", "count"), Column("share", "占推荐数比例（%）", "percent")],
        note="每个项目计入其已到达的各个阶段；“未成交”的项目只计入“已推荐”，并单列一行。",
        chart={"type": "bar", "label": "stage", "values": ["cases"]},
    )
    reached = []
    running = 0
    for stage in reversed(stages):
        running += counts.get(stage, 0)
        reached.append([stage, running])
    reached.reverse()
    lost_count = counts.get(lost, 0) if lost else 0
    if reached:
        reached[0][1] += lost_count
    base = reached[0][1] if reached else 0
    for stage, n in reached:
        table.rows.append([stage, n, share(n, base)])
    if lost:
        table.rows.append([lost, lost_count, share(lost_count, base)])
    return table


def share(part: int | Decimal, whole: int | Decimal) -> Decimal:
    """Percentage with one decimal; 0 when the whole is 0."""
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))

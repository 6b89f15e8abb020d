"""The policy's targets (建设目标) as data, and how far along each one is, as pure rules.

A target measures either registered contracts' 成交额 (summed since the target's period started) or a
count of registry recognitions (categories and levels listed on the target). Which contracts count for
the city's 技术合同成交额: those with a local unit on either side, each contract once (``ContractSide.EITHER``);
the dashboard shows the seller-side (输出) and buyer-side (吸纳) totals beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from techmarket.domain.projection import Month, Projection, month_of, project
from techmarket.domain.registry import EntryCategory, Level


class Metric(StrEnum):
    CONTRACT_AMOUNT = "contract_amount"  # 技术合同成交额（累计）
    REGISTRY_COUNT = "registry_count"  # 名录中的认定数量

    @property
    def label(self) -> str:
        return {"contract_amount": "技术合同成交额（累计）", "registry_count": "名录认定数量"}[self.value]


class ContractSide(StrEnum):
    EITHER = "either"  # a local unit is buyer or seller (each contract once)
    SELLER = "seller"  # 输出: the seller is local
    BUYER = "buyer"  # 吸纳: the buyer is local

    @property
    def label(self) -> str:
        return SIDE_LABELS[self]


SIDE_LABELS = {
    ContractSide.EITHER: "本市单位为买方或卖方（每份合同计一次）",
    ContractSide.SELLER: "技术输出（本市单位为卖方）",
    ContractSide.BUYER: "技术吸纳（本市单位为买方）",
}


class CountMode(StrEnum):
    UNITS = "units"  # distinct units (a 高新技术企业 that is also a 科技型中小企业 counts once)
    RECOGNITIONS = "recognitions"  # every recognition (each platform is its own)

    @property
    def label(self) -> str:
        return {"units": "按单位计（同一单位多项认定计一次）", "recognitions": "按认定计（每个平台计一个）"}[self.value]


def side_matches(side: ContractSide, buyer_local: bool, seller_local: bool) -> bool:
    if side is ContractSide.SELLER:
        return seller_local
    if side is ContractSide.BUYER:
        return buyer_local
    return buyer_local or seller_local


@dataclass(frozen=True)
class Recognition:
    """What a target reads from a registry entry."""

    unit: str  # credit code, else the name
    category: EntryCategory
    level: Level
    recognized_year: int
    revoked_on: date | None = None


def counted(
    recognitions: Iterable[Recognition],
    categories: Iterable[EntryCategory],
    levels: Iterable[Level],
    mode: CountMode,
    as_of: date,
) -> int:
    """How many recognitions (or units) of those categories and levels stand on ``as_of``."""
    wanted_categories, wanted_levels = frozenset(categories), frozenset(levels)
    hits = [
        r
        for r in recognitions
        if r.category in wanted_categories
        and r.level in wanted_levels
        and r.recognized_year <= as_of.year
        and (r.revoked_on is None or r.revoked_on > as_of)
    ]
    if mode is CountMode.UNITS:
        return len({r.unit for r in hits})
    return len(hits)


def new_by_month(
    recognitions: Iterable[Recognition],
    categories: Iterable[EntryCategory],
    levels: Iterable[Level],
    mode: CountMode,
    first_year: int,
    last_year: int,
) -> dict[Month, Decimal]:
    """Growth of the count per year, booked in December (recognitions are known by year only)."""
    out: dict[Month, Decimal] = {}
    previous = counted(recognitions, categories, levels, mode, date(first_year - 1, 12, 31))
    recognitions = list(recognitions)
    for year in range(first_year, last_year + 1):
        now = counted(recognitions, categories, levels, mode, date(year, 12, 31))
        if now != previous:
            out[(year, 12)] = Decimal(now - previous)
        previous = now
    return out


@dataclass(frozen=True)
class Progress:
    actual: Decimal
    target: Decimal
    deadline: date
    projection: Projection

    @property
    def ratio(self) -> Decimal:
        if self.target <= 0:
            return Decimal("1")
        return self.actual / self.target

    @property
    def percent(self) -> Decimal:
        """Share of the target reached, to one decimal (may exceed 100)."""
        return (self.ratio * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def bar_percent(self) -> int:
        """Width of the progress bar: 0–100."""
        return max(0, min(100, int(self.ratio * 100)))

    @property
    def reached(self) -> bool:
        return self.actual >= self.target

    @property
    def remaining(self) -> Decimal:
        return max(Decimal("0"), self.target - self.actual)

    def status(self, today: date) -> str:
        """达成 / 按当前进度可达成 / 按当前进度难以达成 / 已到期未达成 / 暂无数据."""
        if self.reached:
            return "已达成"
        if today > self.deadline:
            return "已到期未达成"
        if self.projection.on_track is None:
            return "暂无足够数据预测"
        return "按当前进度可按期达成" if self.projection.on_track else "按当前进度难以按期达成"


def progress(
    *,
    actual: Decimal,
    target: Decimal,
    deadline: date,
    monthly: dict[Month, Decimal],
    today: date,
    start: date | None = None,
) -> Progress:
    return Progress(
        actual=actual,
        target=target,
        deadline=deadline,
        projection=project(actual=actual, target=target, values=monthly, today=today, deadline=deadline, start=start),
    )


def parse_target_value(raw: str | None, metric: Metric) -> Decimal:
    """A target figure from the form: 元 (two decimals at most) or a whole count; > 0."""
    text = (raw or "").strip().replace(",", "").replace("，", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("请填写目标数值（数字）。") from None
    if not value.is_finite() or value <= 0:
        raise ValueError("目标数值应大于0。")
    if metric is Metric.REGISTRY_COUNT and value != value.to_integral_value():
        raise ValueError("数量目标应为整数。")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("金额最多保留两位小数（分）。")
    if value >= Decimal("1e12"):
        raise ValueError("目标数值过大。")
    return value.quantize(Decimal("1")) if metric is Metric.REGISTRY_COUNT else value.quantize(Decimal("0.01"))


def deadline_month(deadline: date) -> Month:
    return month_of(deadline)

"""Technology achievements (科技成果) and needs (技术需求): vocabularies and the lifecycle, as pure rules."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum, StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry a Chinese label (``labels`` maps member → label)."""

    @property
    def label(self) -> str:
        return type(self).labels()[self]

    @classmethod
    def labels(cls) -> dict:
        return LABELS[cls]

    @classmethod
    def from_label(cls, label: str):
        for member, text in cls.labels().items():
            if text == label:
                return member
        raise ValueError(f"未知的{cls.__doc__}：{label}")


class TechField(LabelledEnum):
    """技术领域"""

    ELECTRONIC_INFO = "electronic_info"
    AEROSPACE = "aerospace"
    ADVANCED_MANUFACTURING = "advanced_manufacturing"
    BIOMEDICINE = "biomedicine"
    NEW_MATERIALS = "new_materials"
    NEW_ENERGY = "new_energy"
    ENVIRONMENT = "environment"
    NUCLEAR = "nuclear"
    AGRICULTURE = "agriculture"
    TRANSPORT = "transport"
    URBAN = "urban"


class Maturity(LabelledEnum):
    """成熟度"""

    LAB = "lab"
    SMALL_TEST = "small_test"
    PILOT = "pilot"
    SMALL_BATCH = "small_batch"
    INDUSTRIAL = "industrial"


class IPType(LabelledEnum):
    """知识产权类型"""

    PATENT = "patent"
    KNOW_HOW = "know_how"
    SOFTWARE = "software"
    PLANT_VARIETY = "plant_variety"
    NONE = "none"


class Cooperation(LabelledEnum):
    """合作方式"""

    TRANSFER = "transfer"
    LICENSE = "license"
    EQUITY = "equity"
    JOINT_DEVELOPMENT = "joint_development"
    SERVICE = "service"

    @property
    def bit(self) -> int:
        return 1 << list(Cooperation).index(self)


class ListingStatus(LabelledEnum):
    """状态"""

    DRAFT = "draft"
    PENDING = "pending"
    PUBLISHED = "published"
    DEALT = "dealt"
    CLOSED = "closed"
    EXPIRED = "expired"


LABELS: dict[type[Enum], dict] = {
    TechField: {
        TechField.ELECTRONIC_INFO: "电子信息",
        TechField.AEROSPACE: "航空航天",
        TechField.ADVANCED_MANUFACTURING: "先进制造",
        TechField.BIOMEDICINE: "生物、医药和医疗器械",
        TechField.NEW_MATERIALS: "新材料及其应用",
        TechField.NEW_ENERGY: "新能源与高效节能",
        TechField.ENVIRONMENT: "环境保护与资源综合利用",
        TechField.NUCLEAR: "核应用",
        TechField.AGRICULTURE: "农业",
        TechField.TRANSPORT: "现代交通",
        TechField.URBAN: "城市建设与社会发展",
    },
    Maturity: {
        Maturity.LAB: "实验室",
        Maturity.SMALL_TEST: "小试",
        Maturity.PILOT: "中试",
        Maturity.SMALL_BATCH: "小批量",
        Maturity.INDUSTRIAL: "产业化",
    },
    IPType: {
        IPType.PATENT: "专利",
        IPType.KNOW_HOW: "技术秘密",
        IPType.SOFTWARE: "软件著作权",
        IPType.PLANT_VARIETY: "植物新品种",
        IPType.NONE: "未涉及",
    },
    Cooperation: {
        Cooperation.TRANSFER: "转让",
        Cooperation.LICENSE: "许可",
        Cooperation.EQUITY: "作价入股",
        Cooperation.JOINT_DEVELOPMENT: "合作开发",
        Cooperation.SERVICE: "技术服务",
    },
    ListingStatus: {
        ListingStatus.DRAFT: "草稿",
        ListingStatus.PENDING: "待审核",
        ListingStatus.PUBLISHED: "已发布",
        ListingStatus.DEALT: "已成交",
        ListingStatus.CLOSED: "已关闭",
        ListingStatus.EXPIRED: "已过期",
    },
}

#: TRL ranges that are consistent with each maturity stage.
TRL_BY_MATURITY = {
    Maturity.LAB: range(1, 5),
    Maturity.SMALL_TEST: range(3, 6),
    Maturity.PILOT: range(5, 8),
    Maturity.SMALL_BATCH: range(6, 9),
    Maturity.INDUSTRIAL: range(7, 10),
}


def cooperation_mask(modes: list[Cooperation] | tuple[Cooperation, ...]) -> int:
    mask = 0
    for mode in modes:
        mask |= mode.bit
    return mask


def cooperation_from_mask(mask: int) -> list[Cooperation]:
    return [mode for mode in Cooperation if mask & mode.bit]


# --- lifecycle -------------------------------------------------------------------------------------

#: action -> (states it may start from, state it leads to, who may take it)
TRANSITIONS: dict[str, tuple[frozenset[ListingStatus], ListingStatus, str]] = {
    "submit": (frozenset({ListingStatus.DRAFT}), ListingStatus.PENDING, "owner"),
    "withdraw": (frozenset({ListingStatus.PENDING}), ListingStatus.DRAFT, "owner"),
    "approve": (frozenset({ListingStatus.PENDING}), ListingStatus.PUBLISHED, "bureau"),
    "reject": (frozenset({ListingStatus.PENDING}), ListingStatus.DRAFT, "bureau"),
    "mark_dealt": (frozenset({ListingStatus.PUBLISHED}), ListingStatus.DEALT, "owner"),
    "close": (
        frozenset({ListingStatus.DRAFT, ListingStatus.PENDING, ListingStatus.PUBLISHED, ListingStatus.EXPIRED}),
        ListingStatus.CLOSED,
        "owner",
    ),
    "expire": (frozenset({ListingStatus.PUBLISHED}), ListingStatus.EXPIRED, "system"),
    "renew": (frozenset({ListingStatus.PUBLISHED, ListingStatus.EXPIRED}), ListingStatus.PUBLISHED, "owner"),
}
ACTION_LABELS = {
    "submit": "提交审核",
    "withdraw": "撤回",
    "approve": "审核通过",
    "reject": "驳回",
    "mark_dealt": "标记为已成交",
    "close": "关闭",
    "expire": "过期",
    "renew": "续期",
}
EDITABLE = frozenset({ListingStatus.DRAFT, ListingStatus.PENDING, ListingStatus.PUBLISHED, ListingStatus.EXPIRED})


class TransitionError(ValueError):
    """An action that the listing's current state does not allow (message in Chinese)."""


def next_status(current: ListingStatus, action: str) -> ListingStatus:
    if action not in TRANSITIONS:
        raise TransitionError(f"未知操作：{action}")
    sources, target, _ = TRANSITIONS[action]
    if current not in sources:
        raise TransitionError(f"当前状态为“{current.label}”，不能{ACTION_LABELS[action]}。")
    return target


def effective_status(status: ListingStatus, expires_on: date | None, today: date) -> ListingStatus:
    """A published listing past its expiry date is expired even before the expiry job has run."""
    if status == ListingStatus.PUBLISHED and expires_on is not None and expires_on < today:
        return ListingStatus.EXPIRED
    return status


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- money ----------------------------------------------------------------------------------------

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000.00")  # 10亿元: above this a listing price is surely a typo


class AmountError(ValueError):
    """An amount that is not a valid price or budget (message in Chinese)."""


def parse_amount(raw: str | Decimal | None, what: str = "金额") -> Decimal | None:
    """Yuan with at most two decimals, > 0 and ≤ 10亿; empty means 面议 (None)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip().replace(",", "").replace("，", "")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise AmountError(f"{what}应为数字（单位：元），例如 500000 或 500000.00。") from exc
    if not value.is_finite():
        raise AmountError(f"{what}应为数字（单位：元）。")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise AmountError(f"{what}最多保留两位小数（精确到分）。")
    if value <= 0:
        raise AmountError(f"{what}必须大于0；如需面议请留空。")
    if value > MAX_AMOUNT:
        raise AmountError(f"{what}超过10亿元，请检查是否多输入了位数（单位：元）。")
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(value: Decimal | None) -> str:
    """¥1,234,567.00 style for pages; None is 面议."""
    if value is None:
        return "面议"
    if value >= 10000:
        wan = (value / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
        return f"{wan:f}万元"
    return f"{value:,.2f}元"

"""Plain values in, plain values out: what the calculator reads and what it returns.

The platform builds a RewardInput from its database rows (or parse_input builds one from JSON) and
stores the Award and AwardLine values it gets back; nothing here knows about either.
Money is Decimal yuan with at most two decimals; dates are datetime.date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

DEFAULT_POLICY_ID = "yanshi-2021"

MAIN_CONTRACT_TYPES = ("技术开发", "技术转让", "技术许可", "技术咨询", "技术服务")
CONTRACT_STATUSES = ("registered", "terminated", "revoked")
STATUS_NAMES = {"registered": "已登记", "terminated": "已终止", "revoked": "已撤销"}

# Highest first: the order decides "the highest level recognised in a year".
INSTITUTION_LEVELS = ("national", "provincial", "luoyang")
LEVEL_NAMES = {"national": "国家级", "provincial": "省级", "luoyang": "洛阳市级"}

AWARD_KINDS = ("buyer", "seller", "institution")  # also the order of awards in a result
KIND_NAMES = {
    "buyer": "技术吸纳方（买方）奖励",
    "seller": "技术输出方（卖方）奖励",
    "institution": "技术转移示范机构奖励",
}


def main_contract_type(contract_type: str) -> str | None:
    """'技术转让（专利权）' -> '技术转让'; None when the type is none of the five."""
    for main in MAIN_CONTRACT_TYPES:
        if contract_type.startswith(main):
            return main
    return None


@dataclass(frozen=True)
class Party:
    name: str
    credit_code: str
    local: bool


@dataclass(frozen=True)
class Payment:
    paid_on: date
    amount: Decimal
    # 本次实现技术交易额 as stated on the payment; None: pro rata 技术交易额 ÷ 成交额.
    technology_amount: Decimal | None
    # Both a transfer voucher (转账凭证) and an invoice (发票) are on file.
    evidence: bool


@dataclass(frozen=True)
class Contract:
    id: str
    type: str
    buyer: Party
    seller: Party
    contract_amount: Decimal  # 成交额
    technology_amount: Decimal  # 登记的技术交易额
    registered_on: date
    status: str  # registered | terminated | revoked
    subsidized: bool  # 已享受财政资金补贴
    payments: tuple[Payment, ...] = ()


@dataclass(frozen=True)
class Institution:
    """One recognition of a technology-transfer demonstration institution (技术转移示范机构)."""

    name: str
    credit_code: str
    local: bool
    level: str  # national | provincial | luoyang
    recognized_on: date


@dataclass(frozen=True)
class PriorAward:
    """A reward already paid: by this city (feeds the lifetime cap) or by a higher level (excludes)."""

    recipient: str  # credit code
    kind: str  # buyer | seller | institution
    contract_id: str | None  # required for buyer awards
    year: int  # the reward year it was for
    source: str  # a policy's payer code ("yanshi") or one it is exclusive with ("luoyang")
    amount: Decimal


@dataclass(frozen=True)
class Exclusion:
    """A contract line the bureau excluded on review, with its written reason."""

    contract_id: str
    kind: str  # buyer | seller
    reason: str


@dataclass(frozen=True)
class RewardInput:
    year: int  # the reward year Y (上年度); the bureau pays in Y + 1
    contracts: tuple[Contract, ...] = ()
    institutions: tuple[Institution, ...] = ()
    prior_awards: tuple[PriorAward, ...] = ()
    policy: str = DEFAULT_POLICY_ID
    exclusions: tuple[Exclusion, ...] = ()


@dataclass(frozen=True)
class AwardLine:
    """One contract (or, for institutions, one recognition) behind an award."""

    kind: str
    contract_id: str | None
    base: Decimal | None  # the contract's technology base for the year; None for institutions
    rate: Decimal | None
    computed: Decimal  # rate × base rounded (or the level's amount); 0 when excluded
    # After per-contract caps and exclusions, before the unit's annual cap.
    amount: Decimal
    note: str  # Chinese, checkable by hand


@dataclass(frozen=True)
class Award:
    recipient: str  # credit code
    name: str
    kind: str
    amount: Decimal
    lines: tuple[AwardLine, ...] = field(default_factory=tuple)
    explanation: str = ""


@dataclass(frozen=True)
class RewardResult:
    policy: str
    year: int
    awards: tuple[Award, ...]
    total: Decimal

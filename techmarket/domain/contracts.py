"""Technology contracts (技术合同): vocabularies, the registration workflow and the money rules, as pure rules.

Plain values in, plain values out; the services apply these rules to rows, the routes show the Chinese
messages. Money is Decimal yuan with at most two decimals (分), never float.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from techmarket.domain.listings import FEN, AmountError, parse_amount

__all__ = [
    "FEN",
    "ActionError",
    "AmountError",
    "ContractStatus",
    "ContractType",
    "EvidenceKind",
    "PlanCategory",
    "check_contract_amounts",
    "check_contract_dates",
    "check_payment",
    "check_registration",
    "next_status",
    "normalize_registration_no",
    "require_amount",
]


class ContractType(StrEnum):
    """合同类型, as on the national registration form (training and brokerage are registered as services)."""

    DEVELOPMENT_COMMISSIONED = "development_commissioned"
    DEVELOPMENT_COOPERATIVE = "development_cooperative"
    TRANSFER_PATENT = "transfer_patent"
    TRANSFER_PATENT_APPLICATION = "transfer_patent_application"
    TRANSFER_KNOW_HOW = "transfer_know_how"
    TRANSFER_OTHER = "transfer_other"
    LICENSE_PATENT = "license_patent"
    LICENSE_KNOW_HOW = "license_know_how"
    LICENSE_OTHER = "license_other"
    CONSULTING = "consulting"
    SERVICE = "service"
    SERVICE_TRAINING = "service_training"
    SERVICE_BROKERAGE = "service_brokerage"

    @property
    def label(self) -> str:
        return CONTRACT_TYPE_LABELS[self]

    @property
    def main_label(self) -> str:
        """The main type (技术开发 … 技术服务) the reward policies read."""
        return self.label.split("（", 1)[0]


CONTRACT_TYPE_LABELS = {
    ContractType.DEVELOPMENT_COMMISSIONED: "技术开发（委托）",
    ContractType.DEVELOPMENT_COOPERATIVE: "技术开发（合作）",
    ContractType.TRANSFER_PATENT: "技术转让（专利权）",
    ContractType.TRANSFER_PATENT_APPLICATION: "技术转让（专利申请权）",
    ContractType.TRANSFER_KNOW_HOW: "技术转让（技术秘密）",
    ContractType.TRANSFER_OTHER: "技术转让（其他）",
    ContractType.LICENSE_PATENT: "技术许可（专利实施许可）",
    ContractType.LICENSE_KNOW_HOW: "技术许可（技术秘密许可）",
    ContractType.LICENSE_OTHER: "技术许可（其他）",
    ContractType.CONSULTING: "技术咨询",
    ContractType.SERVICE: "技术服务",
    ContractType.SERVICE_TRAINING: "技术服务（技术培训）",
    ContractType.SERVICE_BROKERAGE: "技术服务（技术中介）",
}


class PlanCategory(StrEnum):
    """计划类别: whether the contract comes out of a government-funded programme, and at which level."""

    NONE = "none"
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    COUNTY = "county"
    OTHER = "other"

    @property
    def label(self) -> str:
        return PLAN_CATEGORY_LABELS[self]


PLAN_CATEGORY_LABELS = {
    PlanCategory.NONE: "非计划项目",
    PlanCategory.NATIONAL: "国家级计划",
    PlanCategory.PROVINCIAL: "省级计划",
    PlanCategory.MUNICIPAL: "市级计划",
    PlanCategory.COUNTY: "县（市、区）级计划",
    PlanCategory.OTHER: "其他计划",
}


class ContractStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    REGISTERED = "registered"
    TERMINATED = "terminated"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return CONTRACT_STATUS_LABELS[self]


CONTRACT_STATUS_LABELS = {
    ContractStatus.DRAFT: "草稿",
    ContractStatus.SUBMITTED: "已提交",
    ContractStatus.RETURNED: "退回",
    ContractStatus.REGISTERED: "已登记",
    ContractStatus.TERMINATED: "已终止",
    ContractStatus.REVOKED: "已撤销",
}


class EvidenceKind(StrEnum):
    """What an uploaded file proves. Vouchers and invoices belong to a payment, the others to the contract."""

    CONTRACT = "contract"
    CERTIFICATE = "certificate"
    VOUCHER = "voucher"
    INVOICE = "invoice"

    @property
    def label(self) -> str:
        return EVIDENCE_KIND_LABELS[self]

    @property
    def per_payment(self) -> bool:
        return self in (EvidenceKind.VOUCHER, EvidenceKind.INVOICE)


EVIDENCE_KIND_LABELS = {
    EvidenceKind.CONTRACT: "合同文本",
    EvidenceKind.CERTIFICATE: "登记证明（外地登记）",
    EvidenceKind.VOUCHER: "转账凭证",
    EvidenceKind.INVOICE: "发票",
}

# --- workflow -------------------------------------------------------------------------------------

S = ContractStatus
#: action -> (states it may start from, state it leads to, who may take it)
TRANSITIONS: dict[str, tuple[frozenset[ContractStatus], ContractStatus, str]] = {
    "submit": (frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED, "seller side"),
    "register": (frozenset({S.SUBMITTED}), S.REGISTERED, "bureau"),
    "return": (frozenset({S.SUBMITTED}), S.RETURNED, "bureau"),
    "terminate": (frozenset({S.REGISTERED}), S.TERMINATED, "bureau"),
    "revoke": (frozenset({S.REGISTERED, S.TERMINATED}), S.REVOKED, "bureau"),
}
ACTION_LABELS = {
    "submit": "提交登记",
    "register": "登记",
    "return": "退回",
    "terminate": "终止",
    "revoke": "撤销登记",
}
#: The contract's own fields change only before the bureau has it; afterwards only payments and status.
EDITABLE = frozenset({S.DRAFT, S.RETURNED})
#: New payments (and their evidence) may be recorded in every state but a revoked one.
PAYABLE = frozenset({S.DRAFT, S.SUBMITTED, S.RETURNED, S.REGISTERED, S.TERMINATED})
#: States the reward calculator reads.
COUNTED = frozenset({S.REGISTERED, S.TERMINATED, S.REVOKED})


class ActionError(ValueError):
    """An action the contract's current state does not allow, or a refused value (message in Chinese)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def next_status(current: ContractStatus, action: str) -> ContractStatus:
    if action not in TRANSITIONS:
        raise ActionError(f"未知操作：{action}")
    sources, target, _ = TRANSITIONS[action]
    if current not in sources:
        raise ActionError(f"合同当前状态为“{current.label}”，不能{ACTION_LABELS[action]}。")
    return target


def submission_problems(*, has_contract_file: bool, registered_elsewhere: bool, has_certificate: bool) -> list[str]:
    """What is missing before the bureau can review a contract (Chinese, for the page)."""
    problems = []
    if not has_contract_file:
        problems.append("请先上传合同文本（PDF或图片）再提交登记。")
    if registered_elsewhere and not has_certificate:
        problems.append("已在外地登记的合同，请上传登记证明。")
    return problems


# --- money and dates ------------------------------------------------------------------------------


def require_amount(raw: str | Decimal | None, what: str, field: str | None = None) -> Decimal:
    """A required amount: yuan, > 0, at most two decimals (``parse_amount`` treats empty as 面议)."""
    try:
        value = parse_amount(raw, what)
    except AmountError as exc:
        raise ActionError(str(exc).replace("；如需面议请留空", ""), field) from exc
    if value is None:
        raise ActionError(f"请填写{what}（单位：元）。", field)
    return value


def optional_amount(raw: str | Decimal | None, what: str, field: str | None = None) -> Decimal | None:
    try:
        return parse_amount(raw, what)
    except AmountError as exc:
        raise ActionError(str(exc).replace("如需面议请留空", "不填则按比例计算"), field) from exc


def check_contract_amounts(contract_amount: Decimal, technology_amount: Decimal) -> None:
    """技术交易额 is the total minus non-technical costs, so it can never exceed 合同成交额."""
    if technology_amount > contract_amount:
        raise ActionError(
            f"技术交易额（{technology_amount}元）不能大于合同成交额（{contract_amount}元）。", "technology_amount"
        )


def check_contract_dates(signed_on: date, valid_from: date | None, valid_until: date | None, today: date) -> None:
    if signed_on > today:
        raise ActionError("签订日期不能晚于今天。", "signed_on")
    if valid_from and valid_until and valid_until < valid_from:
        raise ActionError("有效期截止日期不能早于起始日期。", "valid_until")
    if valid_until and valid_until < signed_on:
        raise ActionError("有效期截止日期不能早于签订日期。", "valid_until")


def check_registration(
    *,
    declared_technology_amount: Decimal,
    registered_technology_amount: Decimal,
    signed_on: date,
    registered_on: date,
    today: date,
) -> None:
    """The registrar may correct 技术交易额 downward only; the date lies between signing and today."""
    if registered_technology_amount > declared_technology_amount:
        raise ActionError(
            f"认定的技术交易额只能等于或低于申报的技术交易额（{declared_technology_amount}元）。",
            "technology_amount",
        )
    if registered_on > today:
        raise ActionError("登记日期不能晚于今天。", "registered_on")
    if registered_on < signed_on:
        raise ActionError("登记日期不能早于合同签订日期。", "registered_on")


@dataclass(frozen=True)
class PaymentCheck:
    """A payment that passed; ``over_total`` flags one that takes the payments beyond 成交额 (confirmed)."""

    over_total: bool
    paid_total: Decimal


def check_payment(
    *,
    amount: Decimal,
    technology_amount: Decimal | None,
    paid_on: date,
    signed_on: date,
    today: date,
    contract_amount: Decimal,
    earlier_payments: Iterable[Decimal],
    confirmed_over_total: bool,
    terminated_on: date | None = None,
) -> PaymentCheck:
    if paid_on > today:
        raise ActionError("付款日期不能晚于今天。", "paid_on")
    if paid_on < signed_on:
        raise ActionError(f"付款日期不能早于合同签订日期（{signed_on.isoformat()}）。", "paid_on")
    if terminated_on is not None and paid_on > terminated_on:
        raise ActionError(f"合同已于{terminated_on.isoformat()}终止，之后的付款不能计入。", "paid_on")
    if technology_amount is not None and technology_amount > amount:
        raise ActionError("本次实现技术交易额不能大于本次付款金额。", "technology_amount")
    total = sum(earlier_payments, Decimal("0.00")) + amount
    over = total > contract_amount
    if over and not confirmed_over_total:
        raise ActionError(
            f"加上本笔后累计付款{total}元，超过合同成交额{contract_amount}元。"
            "如确属实际付款（例如合同变更），请勾选“确认超出成交额”后再保存，该笔付款将被标记供科技局核查。",
            "confirm_over_total",
        )
    return PaymentCheck(over_total=over, paid_total=total)


REGISTRATION_NO_RE = re.compile(r"^[0-9A-Z][0-9A-Z\-]{5,39}$")


def normalize_registration_no(raw: str | None) -> str:
    """登记编号: letters, digits and hyphens, 6–40 characters (formats differ between registries)."""
    value = (raw or "").strip().upper().replace(" ", "")
    if not value:
        raise ActionError("请填写登记编号。", "registration_no")
    if not REGISTRATION_NO_RE.match(value):
        raise ActionError("登记编号应为6–40位字母、数字或连字符，例如 2026410381000012。", "registration_no")
    return value

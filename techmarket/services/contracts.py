"""Technology contracts: drafting, submission, the bureau's registration review, payments and evidence.

Every change writes an audit entry on the contract (object_type "contract"), with old → new values, so
one query gives a contract's whole history. Services flush and never commit; the route commits once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from techmarket import permissions
from techmarket.domain import contracts as rules
from techmarket.domain.accounts import OrgKind, Role
from techmarket.domain.contracts import ActionError, ContractStatus, ContractType, EvidenceKind, PlanCategory
from techmarket.domain.credit_code import CreditCodeError, normalize_credit_code
from techmarket.domain.listings import IPType, TechField
from techmarket.models import AuditEntry, Contract, EvidenceFile, Organisation, Payment, User
from techmarket.models.types import utcnow
from techmarket.rewards import model as reward_model
from techmarket.services import audit
from techmarket.services.accounts import ServiceError
from techmarket.uploads import StagedFile

OBJECT = "contract"


@contextmanager
def _rules() -> Iterator[None]:
    """A refused domain rule becomes a ServiceError on the same field."""
    try:
        yield
    except ActionError as exc:
        raise ServiceError(exc.message, exc.field) from exc


def _record(session: Session, action: str, actor: User | None, contract: Contract, ip: str | None, **detail: Any):
    return audit.record(
        session,
        action,
        actor_id=actor.id if actor else None,
        object_type=OBJECT,
        object_id=contract.id,
        ip=ip,
        **{k: audit.plain(v) for k, v in detail.items()},
    )


@dataclass(frozen=True)
class PartyData:
    name: str
    credit_code: str
    region: str = ""
    local: bool = False


@dataclass(frozen=True)
class ContractData:
    title: str
    contract_type: ContractType
    buyer: PartyData
    seller: PartyData
    signed_on: date
    contract_amount: Decimal
    technology_amount: Decimal
    tech_field: TechField
    ip_type: IPType
    valid_from: date | None = None
    valid_until: date | None = None
    plan_category: PlanCategory = PlanCategory.NONE
    subsidized: bool = False
    institution_name: str = ""
    institution_credit_code: str | None = None
    registered_elsewhere: bool = False
    external_registry: str = ""
    external_registration_no: str | None = None
    external_registered_on: date | None = None


def _credit_code(raw: str, field: str) -> str:
    try:
        return normalize_credit_code(raw)
    except CreditCodeError as exc:
        raise ServiceError(str(exc), field) from exc


def _platform_org(session: Session, credit_code: str) -> Organisation | None:
    """A party on the platform is found by its 统一社会信用代码 (never the bureau itself)."""
    org = session.scalar(select(Organisation).where(Organisation.credit_code == credit_code))
    return None if org is None or org.kind == OrgKind.BUREAU else org


def _check(data: ContractData, today: date) -> ContractData:
    """Every rule of the form again (the form checks them too): a service is never trusted to its caller."""
    if not data.title.strip():
        raise ServiceError("请填写合同名称。", "title")
    buyer_code = _credit_code(data.buyer.credit_code, "buyer_credit_code")
    seller_code = _credit_code(data.seller.credit_code, "seller_credit_code")
    if buyer_code == seller_code:
        raise ServiceError("买方和卖方不能是同一单位（统一社会信用代码相同）。", "seller_credit_code")
    institution_code = None
    if data.institution_credit_code:
        institution_code = _credit_code(data.institution_credit_code, "institution_credit_code")
    with _rules():
        contract_amount = rules.require_amount(data.contract_amount, "合同成交额", "contract_amount")
        technology_amount = rules.require_amount(data.technology_amount, "技术交易额", "technology_amount")
        rules.check_contract_amounts(contract_amount, technology_amount)
        rules.check_contract_dates(data.signed_on, data.valid_from, data.valid_until, today)
        external_no = None
        if data.registered_elsewhere:
            external_no = rules.normalize_registration_no(data.external_registration_no)
            if data.external_registered_on is None:
                raise ActionError("请填写外地登记的登记日期。", "external_registered_on")
            if data.external_registered_on > today or data.external_registered_on < data.signed_on:
                raise ActionError("外地登记日期应在合同签订日期与今天之间。", "external_registered_on")
    return replace(
        data,
        title=data.title.strip(),
        buyer=PartyData(data.buyer.name.strip(), buyer_code, data.buyer.region.strip(), data.buyer.local),
        seller=PartyData(data.seller.name.strip(), seller_code, data.seller.region.strip(), data.seller.local),
        contract_amount=contract_amount,
        technology_amount=technology_amount,
        institution_name=data.institution_name.strip(),
        institution_credit_code=institution_code,
        external_registration_no=external_no,
        external_registered_on=data.external_registered_on if data.registered_elsewhere else None,
        external_registry=data.external_registry.strip() if data.registered_elsewhere else "",
    )


#: Contract columns the form sets (parties are handled separately).
SIMPLE_FIELDS = (
    "title",
    "contract_type",
    "signed_on",
    "valid_from",
    "valid_until",
    "contract_amount",
    "technology_amount",
    "tech_field",
    "ip_type",
    "plan_category",
    "subsidized",
    "institution_name",
    "institution_credit_code",
    "registered_elsewhere",
    "external_registry",
    "external_registration_no",
    "external_registered_on",
)


def _apply(session: Session, contract: Contract, data: ContractData) -> dict[str, list[Any]]:
    """Set the contract's columns from checked data; returns {column: [old, new]} for what changed."""
    values: dict[str, Any] = {name: getattr(data, name) for name in SIMPLE_FIELDS}
    for side in ("buyer", "seller"):
        party: PartyData = getattr(data, side)
        org = _platform_org(session, party.credit_code)
        values[f"{side}_org_id"] = org.id if org else None
        values[f"{side}_name"] = party.name
        values[f"{side}_credit_code"] = party.credit_code
        # A unit on the platform: whether it is local is what the bureau verified, not what the form says.
        values[f"{side}_region"] = party.region or (org.town or "" if org else "")
        values[f"{side}_local"] = org.local if org else party.local
    return audit.apply_changes(contract, values)


def _check_actor_is_party(actor: User, contract: Contract) -> None:
    """A member drafts only contracts their own unit is a party to (a broker drafts for the parties)."""
    if actor.role == Role.BROKER:
        return
    if actor.org_id is None or actor.org_id not in (contract.buyer_org_id, contract.seller_org_id):
        raise ServiceError("本单位必须是合同的买方或卖方：请核对买方或卖方的统一社会信用代码。", "buyer_credit_code")


def find_by_token(session: Session, form_token: str) -> Contract | None:
    return session.scalar(select(Contract).where(Contract.form_token == form_token))


def create_contract(
    session: Session,
    actor: User,
    data: ContractData,
    *,
    form_token: str,
    today: date,
    match_case: Any = None,
    ip: str | None = None,
) -> Contract:
    """A new draft. The caller checks ``find_by_token`` first; the UNIQUE token catches a concurrent double.

    ``match_case`` is the broker pipeline's case the deal came from (the caller checked the actor may see
    it): the contract links to it, and the case's broker becomes the contract's broker.
    """
    data = _check(data, today)
    contract = Contract(form_token=form_token, created_by_id=actor.id, status=ContractStatus.DRAFT)
    _apply(session, contract, data)
    if match_case is not None:
        contract.match_case_id = match_case.id
        contract.broker_id = match_case.broker_id
    if actor.role == Role.BROKER:
        contract.broker_id = actor.id
        if not contract.institution_name and actor.org is not None:
            contract.institution_name = actor.org.name
            contract.institution_credit_code = actor.org.credit_code
    _check_actor_is_party(actor, contract)
    session.add(contract)
    session.flush()
    if match_case is not None and match_case.contract_id is None:
        match_case.contract_id = contract.id  # the case links to the contract its deal became
    _record(
        session,
        "contract_create",
        actor,
        contract,
        ip,
        title=contract.title,
        buyer=contract.buyer_name,
        seller=contract.seller_name,
        contract_amount=contract.contract_amount,
        technology_amount=contract.technology_amount,
        match_case_id=contract.match_case_id,
    )
    return contract


def update_contract(
    session: Session,
    actor: User,
    contract: Contract,
    data: ContractData,
    *,
    expected_version: int,
    today: date,
    ip: str | None = None,
) -> dict[str, list[Any]]:
    if contract.version != expected_version:
        raise ServiceError("该合同已被他人修改，请刷新页面后重新编辑（您填写的内容仍保留在表单中）。")
    if contract.status not in rules.EDITABLE:
        raise ServiceError(f"合同当前状态为“{contract.status.label}”，不能修改；只能补充付款记录。")
    data = _check(data, today)
    changes = _apply(session, contract, data)
    _check_actor_is_party(actor, contract)
    session.flush()
    _record(session, "contract_update", actor, contract, ip, changes=changes)
    return changes


def lock(session: Session, contract_id: int) -> Contract | None:
    """The contract row, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE)."""
    stmt = (
        select(Contract).where(Contract.id == contract_id).with_for_update().execution_options(populate_existing=True)
    )
    return session.scalar(stmt)


def _transition(session: Session, actor: User, contract: Contract, action: str, ip: str | None, **detail: Any):
    old = contract.status
    with _rules():
        contract.status = rules.next_status(old, action)
    session.flush()
    _record(session, f"contract_{action}", actor, contract, ip, old=old, new=contract.status, **detail)


def submit(session: Session, actor: User, contract: Contract, *, ip: str | None = None) -> None:
    with _rules():
        rules.next_status(contract.status, "submit")
    kinds = {f.kind for f in contract.contract_files()}
    problems = rules.submission_problems(
        has_contract_file=EvidenceKind.CONTRACT in kinds,
        registered_elsewhere=contract.registered_elsewhere,
        has_certificate=EvidenceKind.CERTIFICATE in kinds,
    )
    if problems:
        raise ServiceError(" ".join(problems))
    contract.submitted_at = utcnow()
    _transition(session, actor, contract, "submit", ip)


def registration_no_taken(session: Session, registration_no: str, contract_id: int) -> bool:
    stmt = select(Contract.id).where(Contract.registration_no == registration_no, Contract.id != contract_id)
    return session.scalar(stmt) is not None


def register(
    session: Session,
    actor: User,
    contract: Contract,
    *,
    registration_no: str,
    registered_on: date,
    technology_amount: Decimal | None,
    today: date,
    ip: str | None = None,
) -> None:
    """已登记: the bureau assigns 登记编号 and may correct 技术交易额 downward."""
    with _rules():
        rules.next_status(contract.status, "register")
        number = rules.normalize_registration_no(registration_no)
        amount = (
            contract.technology_amount
            if technology_amount is None
            else rules.require_amount(technology_amount, "认定技术交易额", "technology_amount")
        )
        rules.check_registration(
            declared_technology_amount=contract.technology_amount,
            registered_technology_amount=amount,
            signed_on=contract.signed_on,
            registered_on=registered_on,
            today=today,
        )
    if registration_no_taken(session, number, contract.id):
        raise ServiceError(f"登记编号 {number} 已被另一份合同使用，请核对。", "registration_no")
    contract.registration_no = number
    contract.registered_on = registered_on
    contract.registered_technology_amount = amount
    contract.registered_by_id = actor.id
    contract.return_reason = None
    _transition(
        session,
        actor,
        contract,
        "register",
        ip,
        registration_no=number,
        registered_on=registered_on,
        declared_technology_amount=contract.technology_amount,
        registered_technology_amount=amount,
    )


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(f"{what}时必须填写原因。", "reason")
    return reason


def return_contract(session: Session, actor: User, contract: Contract, reason: str, *, ip: str | None = None) -> None:
    with _rules():
        rules.next_status(contract.status, "return")
    contract.return_reason = _reason(reason, "退回")
    _transition(session, actor, contract, "return", ip, reason=contract.return_reason)


def terminate(
    session: Session,
    actor: User,
    contract: Contract,
    *,
    terminated_on: date | None,
    reason: str,
    today: date,
    ip: str | None = None,
) -> None:
    """已终止: payments made up to the termination date still count."""
    with _rules():
        rules.next_status(contract.status, "terminate")
    reason = _reason(reason, "终止")
    if terminated_on is None:
        raise ServiceError("请填写终止日期。", "terminated_on")
    if terminated_on > today or terminated_on < contract.signed_on:
        raise ServiceError("终止日期应在合同签订日期与今天之间。", "terminated_on")
    late = [p for p in contract.payments if p.paid_on > terminated_on]
    if late:
        raise ServiceError(f"已有{len(late)}笔付款晚于该终止日期，请核对终止日期。", "terminated_on")
    contract.terminated_on = terminated_on
    contract.status_reason = reason
    _transition(session, actor, contract, "terminate", ip, terminated_on=terminated_on, reason=reason)


def revoke(session: Session, actor: User, contract: Contract, reason: str, *, ip: str | None = None) -> None:
    """已撤销: the registration is withdrawn and nothing of the contract counts any more."""
    with _rules():
        rules.next_status(contract.status, "revoke")
    contract.status_reason = _reason(reason, "撤销登记")
    _transition(session, actor, contract, "revoke", ip, reason=contract.status_reason)


def change_status(
    session: Session,
    actor: User,
    contract: Contract,
    action: str,
    *,
    reason: str,
    terminated_on: date | None,
    today: date,
    ip: str | None = None,
) -> None:
    if action == "terminate":
        terminate(session, actor, contract, terminated_on=terminated_on, reason=reason, today=today, ip=ip)
    elif action == "revoke":
        revoke(session, actor, contract, reason, ip=ip)
    else:
        raise ServiceError("未知操作。", "action")


# --- payments and evidence ----------------------------------------------------------------------


def find_payment_by_token(session: Session, form_token: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.form_token == form_token))


def add_payment(
    session: Session,
    actor: User,
    contract: Contract,
    *,
    paid_on: date,
    amount: Decimal,
    technology_amount: Decimal | None,
    confirm_over_total: bool,
    today: date,
    note: str = "",
    form_token: str | None = None,
    ip: str | None = None,
) -> Payment:
    if contract.status not in rules.PAYABLE:
        raise ServiceError(f"合同当前状态为“{contract.status.label}”，不能再录入付款。")
    with _rules():
        amount = rules.require_amount(amount, "付款金额", "amount")
        if technology_amount is not None:
            technology_amount = rules.require_amount(technology_amount, "本次实现技术交易额", "technology_amount")
        result = rules.check_payment(
            amount=amount,
            technology_amount=technology_amount,
            paid_on=paid_on,
            signed_on=contract.signed_on,
            today=today,
            contract_amount=contract.contract_amount,
            earlier_payments=[p.amount for p in contract.payments],
            confirmed_over_total=confirm_over_total,
            terminated_on=contract.terminated_on if contract.status == ContractStatus.TERMINATED else None,
        )
    payment = Payment(
        contract=contract,
        paid_on=paid_on,
        amount=amount,
        technology_amount=technology_amount,
        over_total=result.over_total,
        note=(note or "").strip()[:200],
        form_token=form_token,
        recorded_by_id=actor.id,
    )
    session.add(payment)
    session.flush()
    _record(
        session,
        "payment_add",
        actor,
        contract,
        ip,
        payment_id=payment.id,
        paid_on=paid_on,
        amount=amount,
        technology_amount=technology_amount,
        over_total=result.over_total,
        paid_total=result.paid_total,
    )
    return payment


def add_evidence(
    session: Session,
    actor: User,
    contract: Contract,
    kind: EvidenceKind,
    staged: StagedFile,
    *,
    payment: Payment | None = None,
    ip: str | None = None,
) -> EvidenceFile:
    """Record a staged upload. Vouchers and invoices belong to one of the contract's payments."""
    if kind.per_payment:
        if payment is None or payment.contract_id != contract.id:
            raise ServiceError("转账凭证和发票必须对应本合同的一笔付款，请选择付款。", "payment_id")
        if contract.status not in rules.PAYABLE:
            raise ServiceError(f"合同当前状态为“{contract.status.label}”，不能再补充付款凭证。")
    else:
        payment = None
        if contract.status not in rules.EDITABLE:
            raise ServiceError(f"合同当前状态为“{contract.status.label}”，合同文本和登记证明不能再更改。", "kind")
    evidence = EvidenceFile(
        contract=contract,
        payment=payment,
        kind=kind,
        stored_name=staged.stored_name,
        original_name=staged.original_name,
        content_type=staged.content_type,
        size=staged.size,
        sha256=staged.sha256,
        uploaded_by_id=actor.id,
    )
    session.add(evidence)
    session.flush()
    _record(
        session,
        "evidence_add",
        actor,
        contract,
        ip,
        file_id=evidence.id,
        kind=kind,
        payment_id=payment.id if payment else None,
        name=staged.original_name,
        size=staged.size,
        sha256=staged.sha256,
    )
    return evidence


def record_download(session: Session, actor: User, evidence: EvidenceFile, *, ip: str | None = None) -> None:
    _record(session, "evidence_download", actor, evidence.contract, ip, file_id=evidence.id, kind=evidence.kind)


# --- reading ------------------------------------------------------------------------------------


def visible_contracts(user: User, status: ContractStatus | None = None) -> Select:
    """The contracts the list page shows this user: all for the bureau, else their own unit's and broker's."""
    stmt = select(Contract).order_by(Contract.id.desc())
    if not permissions.is_bureau(user):
        conditions = [Contract.broker_id == user.id]
        if user.org_id is not None:
            conditions += [Contract.buyer_org_id == user.org_id, Contract.seller_org_id == user.org_id]
        stmt = stmt.where(or_(*conditions))
    if status is not None:
        stmt = stmt.where(Contract.status == status)
    return stmt


def history(session: Session, contract_id: int) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.object_type == OBJECT, AuditEntry.object_id == str(contract_id))
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))


def to_reward_contract(contract: Contract) -> reward_model.Contract:
    """The reward calculator's plain input for a registered, terminated or revoked contract.

    ``id`` is the 登记编号 (合同编号 in the calculator's terms); a payment counts as evidenced when both a
    transfer voucher and an invoice are on file.
    """
    if contract.status not in rules.COUNTED or contract.registration_no is None or contract.registered_on is None:
        raise ValueError(f"合同 {contract.id} 尚未登记，不能参与奖补计算。")

    def party(side: str) -> reward_model.Party:
        return reward_model.Party(
            name=getattr(contract, f"{side}_name"),
            credit_code=getattr(contract, f"{side}_credit_code"),
            local=bool(getattr(contract, f"{side}_local")),
        )

    return reward_model.Contract(
        id=contract.registration_no,
        type=contract.contract_type.label,
        buyer=party("buyer"),
        seller=party("seller"),
        contract_amount=contract.contract_amount,
        technology_amount=contract.registered_technology_amount or contract.technology_amount,
        registered_on=contract.registered_on,
        status=contract.status.value,
        subsidized=contract.subsidized,
        payments=tuple(
            reward_model.Payment(
                paid_on=p.paid_on, amount=p.amount, technology_amount=p.technology_amount, evidence=p.evidenced
            )
            for p in contract.payments
        ),
    )

"""Shared by the contract pages: the blueprint, the access check that answers 404, the detail page."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, render_template, request
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from techmarket import permissions
from techmarket.access import acting_user, client_ip
from techmarket.contracts.forms import ConfirmForm, EvidenceForm, ReviewForm, StatusForm
from techmarket.domain.contracts import EDITABLE, PAYABLE, ContractStatus
from techmarket.domain.listings import format_yuan
from techmarket.extensions import db
from techmarket.models import Contract, User
from techmarket.services import audit
from techmarket.services import contracts as svc
from techmarket.services.accounts import ServiceError

bp = Blueprint("contracts", __name__, url_prefix="/contracts")
CITY_TZ = ZoneInfo("Asia/Shanghai")
HISTORY_LABELS = {
    "contract_create": "录入草稿",
    "contract_update": "修改",
    "contract_submit": "提交登记",
    "contract_register": "登记",
    "contract_return": "退回",
    "contract_terminate": "终止",
    "contract_revoke": "撤销登记",
    "payment_add": "录入付款",
    "evidence_add": "上传材料",
    "evidence_download": "下载材料",
}


def today() -> date:
    """Dates on contracts are the city's calendar dates (UTC+8), not the server's."""
    return datetime.now(CITY_TZ).date()


@bp.app_template_filter("yuan")
def _yuan(value) -> str:
    return format_yuan(value) if value is not None else "—"


@bp.app_template_filter("yuan_exact")
def _yuan_exact(value) -> str:
    return f"{value:,.2f}元" if value is not None else "—"


# --- loading with the access check -------------------------------------------------------------


def hide(what: str) -> None:
    """Record the refusal (in its own transaction) and answer 404: the contract's existence stays secret."""
    user = acting_user()
    db.session.rollback()
    audit.record(
        db.session,
        "forbidden",
        actor_id=user.id if user else None,
        ip=client_ip(),
        what=what,
        path=request.path[:200],
        method=request.method,
        status=404,
    )
    db.session.commit()
    abort(404)


def load_contract(contract_id: int, *, for_update: bool = False) -> Contract:
    contract = svc.lock(db.session, contract_id) if for_update else db.session.get(Contract, contract_id)
    if contract is None:
        abort(404)
    if not permissions.can_view_contract(current_user, contract):
        hide("view_contract")
    return contract


def render_detail(contract: Contract, status: int = 200, **forms) -> tuple[str, int]:
    user = current_user
    evidence_form = forms.get("evidence_form") or EvidenceForm(formdata=None)
    payment_choices(evidence_form, contract)
    review_form = forms.get("review_form") or ReviewForm(formdata=None)
    if not review_form.is_submitted() and contract.status == ContractStatus.SUBMITTED:
        review_form.registration_no.data = contract.external_registration_no or ""
        review_form.registered_on.data = contract.external_registered_on or today()
        review_form.technology_amount.data = str(contract.technology_amount)
    history = svc.history(db.session, contract.id) if permissions.is_bureau(user) else None
    return render_template(
        "contracts/detail.html",
        contract=contract,
        confirm_form=ConfirmForm(formdata=None),
        evidence_form=evidence_form,
        review_form=review_form,
        status_form=forms.get("status_form") or StatusForm(formdata=None),
        can_edit=permissions.can_edit_contract(user, contract) and contract.status in EDITABLE,
        can_submit=permissions.can_submit_contract(user, contract) and contract.status in EDITABLE,
        can_pay=permissions.can_record_payment(user, contract) and contract.status in PAYABLE,
        can_review=permissions.can_review_contract(user) and contract.status == ContractStatus.SUBMITTED,
        can_change_status=permissions.can_review_contract(user)
        and contract.status in (ContractStatus.REGISTERED, ContractStatus.TERMINATED),
        history=history,
        history_labels=HISTORY_LABELS,
        users=_users_by_id(contract, history or []),
        open_panel=forms.get("open_panel"),
    ), status


def _users_by_id(contract: Contract, history: list) -> dict[int, User]:
    ids = {f.uploaded_by_id for f in contract.files} | {p.recorded_by_id for p in contract.payments}
    ids |= {e.actor_id for e in history}
    ids |= {contract.created_by_id, contract.registered_by_id}
    ids.discard(None)
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def payment_choices(form: EvidenceForm, contract: Contract) -> None:
    form.payment_id.choices = [SelectChoice("", "（合同文本、登记证明不选）")] + [
        SelectChoice(str(p.id), f"{p.paid_on.isoformat()} {p.amount:,.2f}元") for p in contract.payments
    ]


def conflict(contract: Contract, exc: ServiceError) -> tuple[str, int]:
    db.session.rollback()
    flash(exc.message, "warning")
    db.session.refresh(contract)
    return render_detail(contract, 409)

"""Technology contracts: list, draft, edit, submit, and the bureau's review and status changes.

Every contract URL answers 404 to anyone who may not see the contract (its existence is not revealed),
and records the refusal in the audit log (``common.load_contract``). Payments, evidence uploads and
downloads are in ``evidence.py``, on the same blueprint.
"""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug import Response

from techmarket import permissions
from techmarket.access import client_ip, parse_id, require
from techmarket.contracts import evidence as _evidence  # noqa: F401 - its routes live on the same blueprint
from techmarket.contracts.common import bp, conflict, load_contract, render_detail, today
from techmarket.contracts.forms import ConfirmForm, ContractForm, ReviewForm, StatusForm, amount_of
from techmarket.domain.accounts import Role
from techmarket.domain.contracts import EDITABLE, ContractStatus, ContractType, PlanCategory
from techmarket.domain.listings import IPType, TechField
from techmarket.extensions import db
from techmarket.forms_common import add_service_error
from techmarket.models import Contract, MatchCase
from techmarket.services import contracts as svc
from techmarket.services.accounts import ServiceError

# --- list, create, edit -----------------------------------------------------------------------

PER_PAGE = 20


@bp.route("/")
@login_required
def index() -> str:
    status_arg = request.args.get("status", "")
    status = ContractStatus(status_arg) if status_arg in {s.value for s in ContractStatus} else None
    page = db.paginate(svc.visible_contracts(current_user, status), per_page=PER_PAGE, error_out=False)
    return render_template(
        "contracts/index.html",
        page=page,
        status=status.value if status else "",
        statuses=list(ContractStatus),
        can_create=permissions.can_create_contract(current_user),
    )


def _party(form: ContractForm, side: str) -> svc.PartyData:
    return svc.PartyData(
        name=getattr(form, f"{side}_name").data or "",
        credit_code=getattr(form, f"{side}_credit_code").data or "",
        region=getattr(form, f"{side}_region").data or "",
        local=bool(getattr(form, f"{side}_local").data),
    )


def _contract_data(form: ContractForm) -> svc.ContractData:
    return svc.ContractData(
        title=form.title.data or "",
        contract_type=ContractType(form.contract_type.data),
        buyer=_party(form, "buyer"),
        seller=_party(form, "seller"),
        signed_on=form.signed_on.data,
        valid_from=form.valid_from.data,
        valid_until=form.valid_until.data,
        contract_amount=amount_of(form.contract_amount),
        technology_amount=amount_of(form.technology_amount),
        tech_field=TechField(form.tech_field.data),
        ip_type=IPType(form.ip_type.data),
        plan_category=PlanCategory(form.plan_category.data),
        subsidized=bool(form.subsidized.data),
        institution_name=form.institution_name.data or "",
        institution_credit_code=form.institution_credit_code.data or None,
        registered_elsewhere=bool(form.registered_elsewhere.data),
        external_registry=form.external_registry.data or "",
        external_registration_no=form.external_registration_no.data or None,
        external_registered_on=form.external_registered_on.data,
    )


def _prefill_own_side(form: ContractForm) -> None:
    """A member's own unit is filled in on the side it usually takes (enterprises buy, institutes sell)."""
    org = current_user.org
    if org is None or current_user.role not in (Role.ENTERPRISE, Role.INSTITUTE):
        return
    side = "seller" if org.kind.is_seller else "buyer"
    getattr(form, f"{side}_name").data = org.name
    getattr(form, f"{side}_credit_code").data = org.credit_code
    getattr(form, f"{side}_region").data = org.town or ""
    getattr(form, f"{side}_local").data = org.local


def _visible_case(raw: str | None) -> MatchCase | None:
    """The 对接项目 named in the request, if this user may see it (otherwise it is silently ignored)."""
    case_id = parse_id(raw)
    if case_id is None:
        return None
    case = db.session.get(MatchCase, case_id)
    return case if case is not None and permissions.can_view_case(current_user, case) else None


def _prefill_from_case(form: ContractForm, case: MatchCase) -> None:
    """A contract from a signed case: the need's enterprise buys, the achievement's unit sells."""
    for side, org in (("buyer", case.need.org), ("seller", case.achievement.org)):
        getattr(form, f"{side}_name").data = org.name
        getattr(form, f"{side}_credit_code").data = org.credit_code
        getattr(form, f"{side}_region").data = org.town or ""
        getattr(form, f"{side}_local").data = org.local
    form.title.data = case.achievement.title
    form.tech_field.data = case.achievement.field.value
    form.match_case.data = str(case.id)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response | tuple[str, int]:
    require(permissions.can_create_contract(current_user), "create_contract")
    form = ContractForm()
    if not form.is_submitted():
        form.form_token.data = secrets.token_urlsafe(24)
        form.plan_category.data = PlanCategory.NONE.value
        _prefill_own_side(form)
        if (case := _visible_case(request.args.get("case"))) is not None:
            _prefill_from_case(form, case)
        return render_template("contracts/form.html", form=form, contract=None)
    token = (form.form_token.data or "")[:64]
    if token and (existing := svc.find_by_token(db.session, token)) is not None:
        # The same form sent twice (double click, reload): one row, and the user lands on it.
        if permissions.can_view_contract(current_user, existing):
            flash("该合同已保存，请勿重复提交。", "info")
            return redirect(url_for("contracts.detail", contract_id=existing.id))
        abort(409)
    if form.validate() and token:
        try:
            contract = svc.create_contract(
                db.session,
                current_user,
                _contract_data(form),
                form_token=token,
                today=today(),
                match_case=_visible_case(form.match_case.data),
                ip=client_ip(),
            )
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            add_service_error(form, exc)
        except IntegrityError:
            db.session.rollback()
            existing = svc.find_by_token(db.session, token)
            if existing is None:
                raise
            flash("该合同已保存，请勿重复提交。", "info")
            return redirect(url_for("contracts.detail", contract_id=existing.id))
        else:
            flash("合同草稿已保存。请上传合同文本，然后由卖方（或经纪人）提交登记。", "success")
            return redirect(url_for("contracts.detail", contract_id=contract.id))
    elif not token:
        flash("表单已失效，请刷新页面后重新填写。", "danger")
    return render_template("contracts/form.html", form=form, contract=None), 422


@bp.route("/<int:contract_id>")
@login_required
def detail(contract_id: int) -> tuple[str, int]:
    return render_detail(load_contract(contract_id))


def _fill(form: ContractForm, contract: Contract) -> None:
    for name in svc.SIMPLE_FIELDS:
        field = getattr(form, name)
        value = getattr(contract, name)
        field.data = value.value if hasattr(value, "value") else ("" if value is None else value)
        if name in ("valid_from", "valid_until", "external_registered_on", "signed_on"):
            field.data = value
        if name in ("contract_amount", "technology_amount"):
            field.data = str(value)
    for side in ("buyer", "seller"):
        for part in ("name", "credit_code", "region", "local"):
            getattr(form, f"{side}_{part}").data = getattr(contract, f"{side}_{part}")
    form.version.data = str(contract.version)


@bp.route("/<int:contract_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contract_id: int) -> str | Response | tuple[str, int]:
    contract = load_contract(contract_id, for_update=request.method == "POST")
    require(permissions.can_edit_contract(current_user, contract), "edit_contract")
    if contract.status not in EDITABLE:
        flash(f"合同当前状态为“{contract.status.label}”，不能修改；只能补充付款记录。", "warning")
        return render_detail(contract, 409)
    form = ContractForm()
    if not form.is_submitted():
        _fill(form, contract)
        return render_template("contracts/form.html", form=form, contract=contract)
    if form.validate():
        expected = parse_id(form.version.data) or -1
        try:
            svc.update_contract(
                db.session,
                current_user,
                contract,
                _contract_data(form),
                expected_version=expected,
                today=today(),
                ip=client_ip(),
            )
            db.session.commit()
        except (ServiceError, StaleDataError) as exc:
            db.session.rollback()
            if isinstance(exc, StaleDataError) or not exc.field:
                message = exc.message if isinstance(exc, ServiceError) else "该合同已被他人修改，请刷新后重试。"
                flash(message, "warning")
                return render_template("contracts/form.html", form=form, contract=contract), 409
            add_service_error(form, exc)
        else:
            flash("合同已保存。", "success")
            return redirect(url_for("contracts.detail", contract_id=contract.id))
    return render_template("contracts/form.html", form=form, contract=contract), 422


# --- workflow ---------------------------------------------------------------------------------


@bp.route("/<int:contract_id>/submit", methods=["POST"])
@login_required
def submit(contract_id: int) -> Response | tuple[str, int]:
    contract = load_contract(contract_id, for_update=True)
    require(permissions.can_submit_contract(current_user, contract), "submit_contract")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        svc.submit(db.session, current_user, contract, ip=client_ip())
    except ServiceError as exc:
        return conflict(contract, exc)
    db.session.commit()
    flash("已提交市科技局登记审核。", "success")
    return redirect(url_for("contracts.detail", contract_id=contract.id))


@bp.route("/<int:contract_id>/review", methods=["POST"])
@login_required
def review(contract_id: int) -> Response | tuple[str, int]:
    contract = load_contract(contract_id, for_update=True)
    require(permissions.can_review_contract(current_user), "review_contract")
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_detail(contract, 422, review_form=form, open_panel="review")
    try:
        if form.decision.data == "register":
            svc.register(
                db.session,
                current_user,
                contract,
                registration_no=form.registration_no.data or "",
                registered_on=form.registered_on.data,
                technology_amount=amount_of(form.technology_amount),
                today=today(),
                ip=client_ip(),
            )
        else:
            svc.return_contract(db.session, current_user, contract, form.reason.data or "", ip=client_ip())
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        db.session.refresh(contract)
        if exc.field:
            add_service_error(form, exc)
            return render_detail(contract, 422, review_form=form, open_panel="review")
        flash(exc.message, "warning")
        return render_detail(contract, 409)
    except IntegrityError:
        # Another clerk took the same 登记编号 in the same instant: the UNIQUE constraint decides.
        db.session.rollback()
        db.session.refresh(contract)
        form.registration_no.errors = [*form.registration_no.errors, "该登记编号已被另一份合同使用，请核对。"]
        return render_detail(contract, 409, review_form=form, open_panel="review")
    flash("已登记。" if form.decision.data == "register" else "已退回，提交方将看到退回原因。", "success")
    return redirect(url_for("contracts.detail", contract_id=contract.id))


@bp.route("/<int:contract_id>/status", methods=["POST"])
@login_required
def change_status(contract_id: int) -> Response | tuple[str, int]:
    contract = load_contract(contract_id, for_update=True)
    require(permissions.can_review_contract(current_user), "change_contract_status")
    form = StatusForm()
    if not form.validate_on_submit():
        return render_detail(contract, 422, status_form=form, open_panel="status")
    try:
        svc.change_status(
            db.session,
            current_user,
            contract,
            form.action.data,
            reason=form.reason.data or "",
            terminated_on=form.terminated_on.data,
            today=today(),
            ip=client_ip(),
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        db.session.refresh(contract)
        if exc.field:
            add_service_error(form, exc)
            return render_detail(contract, 422, status_form=form, open_panel="status")
        flash(exc.message, "warning")
        return render_detail(contract, 409)
    flash(f"合同状态已改为“{contract.status.label}”。", "success")
    return redirect(url_for("contracts.detail", contract_id=contract.id))

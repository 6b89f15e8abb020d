"""Payments, evidence uploads and downloads. Files are staged under a temporary name, the database commit
happens once, and only then are the files moved into place; whatever fails, no temporary file stays.
"""

from __future__ import annotations

import secrets
import time

import click
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug import Response

from techmarket import permissions, uploads
from techmarket.access import client_ip, require
from techmarket.contracts.common import bp, load_contract, payment_choices, render_detail, today
from techmarket.contracts.forms import EvidenceForm, PaymentForm, amount_of
from techmarket.domain.contracts import PAYABLE, EvidenceKind
from techmarket.extensions import db
from techmarket.forms_common import add_service_error
from techmarket.models import Contract, EvidenceFile, Payment
from techmarket.services import contracts as svc
from techmarket.services.accounts import ServiceError
from techmarket.uploads import StagedFile, UploadError


@bp.cli.command("sweep-uploads")
@click.option("--hours", default=6, show_default=True, help="Only .part files older than this.")
def sweep_uploads(hours: int) -> None:
    """Move in or delete the temporary upload files a crash left behind (run daily from cron)."""

    def is_recorded(stored_name: str) -> bool:
        return db.session.scalar(select(EvidenceFile.id).where(EvidenceFile.stored_name == stored_name)) is not None

    moved, deleted = uploads.sweep(
        current_app.config["UPLOAD_FOLDER"], is_recorded, older_than=hours * 3600, now=time.time()
    )
    click.echo(f"已补全 {moved} 个文件，删除 {deleted} 个未入库的临时文件。")


# --- files ------------------------------------------------------------------------------------


def _stage(field) -> StagedFile | None:
    """Stage the field's upload, or put the Chinese refusal on the field (and raise UploadError)."""
    storage = field.data
    if not storage:
        return None
    try:
        return uploads.stage(
            storage.stream,
            storage.filename,
            current_app.config["UPLOAD_FOLDER"],
            current_app.config["UPLOAD_LIMIT_BYTES"],
        )
    except UploadError as exc:
        field.errors = [*field.errors, exc.message]
        raise


def _discard(staged: list[StagedFile]) -> None:
    for item in staged:
        uploads.discard(item)


def _commit_with_files(staged: list[StagedFile]) -> None:
    """One commit; the files move into place only once the rows that name them exist."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise  # the caller's ``finally`` deletes the temporary files
    for item in staged:
        uploads.promote(item)


# --- payments and evidence --------------------------------------------------------------------


@bp.route("/<int:contract_id>/payments/new", methods=["GET", "POST"])
@login_required
def payment_new(contract_id: int) -> str | Response | tuple[str, int]:
    contract = load_contract(contract_id, for_update=request.method == "POST")
    require(permissions.can_record_payment(current_user, contract), "record_payment")
    if contract.status not in PAYABLE:
        flash(f"合同当前状态为“{contract.status.label}”，不能再录入付款。", "warning")
        return render_detail(contract, 409)
    form = PaymentForm()
    if not form.is_submitted():
        form.form_token.data = secrets.token_urlsafe(24)
        return render_template("contracts/payment.html", form=form, contract=contract)
    token = (form.form_token.data or "")[:64] or None
    if token and (existing := svc.find_payment_by_token(db.session, token)) is not None:
        if existing.contract_id == contract.id:
            flash("该笔付款已保存，请勿重复提交。", "info")
            return redirect(url_for("contracts.detail", contract_id=contract.id, _anchor="payments"))
        abort(409)
    staged: list[StagedFile] = []
    try:
        return _record_payment(contract, form, token, staged)
    finally:
        _discard(staged)  # whatever went wrong, no temporary file stays behind (after promote: nothing left)


def _record_payment(
    contract: Contract, form: PaymentForm, token: str | None, staged: list[StagedFile]
) -> Response | tuple[str, int]:
    if form.validate():
        try:
            for field in (form.voucher, form.invoice):
                if (item := _stage(field)) is not None:
                    staged.append(item)
            payment = svc.add_payment(
                db.session,
                current_user,
                contract,
                paid_on=form.paid_on.data,
                amount=amount_of(form.amount),
                technology_amount=amount_of(form.technology_amount),
                confirm_over_total=bool(form.confirm_over_total.data),
                today=today(),
                note=form.note.data or "",
                form_token=token,
                ip=client_ip(),
            )
            kinds = [
                k for k, f in ((EvidenceKind.VOUCHER, form.voucher), (EvidenceKind.INVOICE, form.invoice)) if f.data
            ]
            for kind, item in zip(kinds, staged, strict=True):
                svc.add_evidence(db.session, current_user, contract, kind, item, payment=payment, ip=client_ip())
            _commit_with_files(staged)
        except UploadError:
            db.session.rollback()
        except ServiceError as exc:
            db.session.rollback()
            add_service_error(form, exc)
        except IntegrityError:
            db.session.rollback()
            flash("该笔付款已保存，请勿重复提交。", "info")
            return redirect(url_for("contracts.detail", contract_id=contract.id, _anchor="payments"))
        else:
            message = "付款已记录。"
            if payment.over_total:
                message += "累计付款已超过合同成交额，该笔付款已标记，供科技局核查。"
            if not payment.evidenced:
                message += "同时具备转账凭证和发票的付款才计入奖补，请补充上传。"
            flash(message, "success" if payment.evidenced and not payment.over_total else "warning")
            return redirect(url_for("contracts.detail", contract_id=contract.id, _anchor="payments"))
    db.session.refresh(contract)
    return render_template("contracts/payment.html", form=form, contract=contract), 422


@bp.route("/<int:contract_id>/files", methods=["POST"])
@login_required
def upload(contract_id: int) -> Response | tuple[str, int]:
    contract = load_contract(contract_id, for_update=True)
    require(permissions.can_record_payment(current_user, contract), "upload_evidence")
    form = EvidenceForm()
    payment_choices(form, contract)
    if not form.validate():
        return render_detail(contract, 422, evidence_form=form, open_panel="evidence")
    staged: list[StagedFile] = []
    try:
        return _record_upload(contract, form, staged)
    finally:
        _discard(staged)


def _record_upload(contract: Contract, form: EvidenceForm, staged: list[StagedFile]) -> Response | tuple[str, int]:
    try:
        item = _stage(form.file)
        if item is None:  # FileRequired already refused an empty field
            abort(400)
        staged.append(item)
        payment = None
        if form.payment_id.data:
            payment = db.session.get(Payment, int(form.payment_id.data))
        svc.add_evidence(
            db.session, current_user, contract, EvidenceKind(form.kind.data), item, payment=payment, ip=client_ip()
        )
        _commit_with_files(staged)
    except UploadError:
        db.session.rollback()
        return render_detail(contract, 422, evidence_form=form, open_panel="evidence")
    except ServiceError as exc:
        db.session.rollback()
        db.session.refresh(contract)
        add_service_error(form, exc)
        return render_detail(contract, 422, evidence_form=form, open_panel="evidence")
    flash(f"已上传：{item.original_name}。", "success")
    return redirect(url_for("contracts.detail", contract_id=contract.id, _anchor="files"))


@bp.route("/<int:contract_id>/files/<int:file_id>")
@login_required
def download(contract_id: int, file_id: int) -> Response:
    contract = load_contract(contract_id)
    evidence = db.session.get(EvidenceFile, file_id)
    if evidence is None or evidence.contract_id != contract.id:
        abort(404)
    path = uploads.open_path(current_app.config["UPLOAD_FOLDER"], evidence.stored_name)
    if path is None:
        current_app.logger.error("evidence file %s missing on disk", evidence.id)
        abort(404)
    svc.record_download(db.session, current_user, evidence, ip=client_ip())
    db.session.commit()
    response = send_file(
        path,
        mimetype=evidence.content_type,
        as_attachment=True,
        download_name=evidence.original_name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

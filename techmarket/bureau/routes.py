"""The bureau's verification queue and audit log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug import Response

from techmarket import permissions
from techmarket.access import bureau_required, client_ip, get_or_404, require
from techmarket.bureau.forms import DecisionForm
from techmarket.domain.accounts import Role, Verification
from techmarket.extensions import db
from techmarket.models import AuditEntry, Organisation, User
from techmarket.services import accounts
from techmarket.services.accounts import ServiceError

bp = Blueprint("bureau", __name__, url_prefix="/bureau")


def _queue(form: DecisionForm | None = None, target: tuple[str, int] | None = None, status: int = 200):
    orgs = db.session.scalars(
        select(Organisation).where(Organisation.status == Verification.PENDING).order_by(Organisation.created_at)
    ).all()
    brokers = db.session.scalars(
        select(User)
        .where(User.role == Role.BROKER, User.broker_status == Verification.PENDING)
        .order_by(User.created_at)
    ).all()
    return render_template(
        "bureau/verifications.html",
        orgs=orgs,
        brokers=brokers,
        form=form or DecisionForm(formdata=None),
        failed=form,
        target=target,
    ), status


@bp.route("/verifications")
@bureau_required
def verifications() -> tuple[str, int]:
    return _queue()


def _decide(kind: str, obj_id: int) -> Response | tuple[str, int]:
    if kind == "org":
        target = get_or_404(Organisation, obj_id)
        require(permissions.can_verify_org(current_user, target), "verify_org")
        name = target.name
    else:
        target = get_or_404(User, obj_id)
        require(permissions.can_verify_broker(current_user, target), "verify_broker")
        name = target.display_name
    form = DecisionForm()
    if not form.validate_on_submit():
        return _queue(form, (kind, obj_id), 422)
    approve = form.decision.data == "approve"
    decide = accounts.decide_org if kind == "org" else accounts.decide_broker
    try:
        decide(db.session, current_user, target, approve, form.reason.data or "", ip=client_ip())
    except ServiceError as exc:
        db.session.rollback()
        if exc.field == "reason":
            form.reason.errors = [*form.reason.errors, exc.message]
            return _queue(form, (kind, obj_id), 422)
        flash(exc.message, "warning")
        return _queue(status=409)
    db.session.commit()
    flash(f"已{'通过' if approve else '驳回'}：{name}。", "success")
    return redirect(url_for("bureau.verifications"))


@bp.route("/orgs/<int:org_id>/decision", methods=["POST"])
@bureau_required
def decide_org(org_id: int) -> Response | tuple[str, int]:
    return _decide("org", org_id)


@bp.route("/brokers/<int:user_id>/decision", methods=["POST"])
@bureau_required
def decide_broker(user_id: int) -> Response | tuple[str, int]:
    return _decide("broker", user_id)


@bp.route("/audit")
@bureau_required
def audit_log() -> str:
    action = request.args.get("action", "")
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action == action[:64])
    page = db.paginate(stmt, per_page=50, error_out=False)
    actors = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_({e.actor_id for e in page.items if e.actor_id})))
    }
    return render_template("bureau/audit.html", page=page, actors=actors, action=action)

"""Home page and each user's workbench."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from techmarket import permissions
from techmarket.domain.accounts import OrgKind, Verification
from techmarket.extensions import db
from techmarket.models import Organisation, User
from techmarket.services.listings import Filters, search

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> str:
    verified = Organisation.status == Verification.VERIFIED
    counts = dict(
        db.session.execute(select(Organisation.kind, func.count()).where(verified).group_by(Organisation.kind)).all()
    )
    latest = db.session.scalars(
        select(Organisation)
        .where(verified, Organisation.kind != OrgKind.BUREAU)
        .order_by(Organisation.verified_at.desc().nulls_last(), Organisation.id.desc())
        .limit(8)
    ).all()
    stats = {
        "enterprises": counts.get(OrgKind.ENTERPRISE, 0),
        "sellers": sum(n for kind, n in counts.items() if kind.is_seller),
        "brokers": db.session.scalar(
            select(func.count()).select_from(User).where(User.broker_status == Verification.VERIFIED)
        ),
    }
    empty = Filters()
    newest = {kind: search(db.session, kind, empty, date.today(), 1, 6).items for kind in ("achievement", "need")}
    return render_template("main/index.html", stats=stats, latest=latest, newest=newest)


@bp.route("/dashboard")
@login_required
def dashboard() -> str:
    org = current_user.org
    pending = None
    if permissions.is_bureau(current_user):
        pending = {
            "orgs": db.session.scalar(
                select(func.count()).select_from(Organisation).where(Organisation.status == Verification.PENDING)
            ),
            "brokers": db.session.scalar(
                select(func.count()).select_from(User).where(User.broker_status == Verification.PENDING)
            ),
        }
    return render_template(
        "main/dashboard.html",
        org=org,
        pending=pending,
        publish_refusal=permissions.publish_refusal_reason(current_user, org),
    )

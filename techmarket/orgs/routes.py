"""The public directory of verified organisations and each organisation's profile."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug import Response

from techmarket import permissions
from techmarket.access import acting_user, client_ip, get_or_404, parse_id, require
from techmarket.auth.forms import OrgProfileForm
from techmarket.domain.accounts import ORG_KIND_LABELS, OrgKind, Verification
from techmarket.domain.listings import ListingStatus
from techmarket.domain.regions import TOWNS_AND_SUBDISTRICTS
from techmarket.extensions import db
from techmarket.forms_common import add_service_error
from techmarket.models import Need, Organisation
from techmarket.services import accounts
from techmarket.services.accounts import OrgData, ServiceError
from techmarket.services.listings import MODELS

bp = Blueprint("orgs", __name__, url_prefix="/orgs")
PUBLIC_STATES = (ListingStatus.PUBLISHED, ListingStatus.DEALT)
PER_PAGE = 20
DIRECTORY_KINDS = [k for k in OrgKind if k is not OrgKind.BUREAU]


@bp.route("/")
def directory() -> str:
    kind = request.args.get("kind", "")
    town = request.args.get("town", "")
    stmt = select(Organisation).where(Organisation.status == Verification.VERIFIED, Organisation.kind != OrgKind.BUREAU)
    if kind in {k.value for k in DIRECTORY_KINDS}:
        stmt = stmt.where(Organisation.kind == OrgKind(kind))
    else:
        kind = ""
    if town in TOWNS_AND_SUBDISTRICTS:
        stmt = stmt.where(Organisation.town == town)
    else:
        town = ""
    page = db.paginate(stmt.order_by(Organisation.name), per_page=PER_PAGE, error_out=False)
    return render_template(
        "orgs/directory.html",
        page=page,
        kind=kind,
        town=town,
        kinds=[(k.value, ORG_KIND_LABELS[k]) for k in DIRECTORY_KINDS],
        towns=TOWNS_AND_SUBDISTRICTS,
    )


@bp.route("/<int:org_id>")
def profile(org_id: int) -> str:
    org = get_or_404(Organisation, org_id)
    if not permissions.can_view_org(acting_user(), org):
        abort(404)  # an unverified unit's existence is not public
    user = acting_user()
    insider = permissions.is_member(user, org) or permissions.is_bureau(user)
    listings = {}
    for kind, model in MODELS.items():
        stmt = select(model).where(model.org_id == org.id)
        if not insider:  # the public sees what is published, and never an anonymous need
            stmt = stmt.where(model.status.in_(PUBLIC_STATES))
            if model is Need:
                stmt = stmt.where(Need.anonymous.is_(False))
        listings[kind] = db.session.scalars(stmt.order_by(model.id.desc()).limit(100)).all()
    return render_template(
        "orgs/profile.html",
        org=org,
        listings=listings,
        today=date.today(),
        can_edit=permissions.can_edit_org(acting_user(), org),
        can_verify=permissions.can_verify_org(acting_user(), org) and org.status == Verification.PENDING,
        show_members=permissions.is_member(acting_user(), org) or permissions.is_bureau(acting_user()),
    )


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit(org_id: int) -> str | Response | tuple[str, int]:
    org = get_or_404(Organisation, org_id)
    require(permissions.can_edit_org(current_user, org), "edit_org")
    form = OrgProfileForm()
    if not form.is_submitted():
        form.org_name.data = org.name
        form.credit_code.data = org.credit_code
        form.local.data = org.local
        form.town.data = org.town or ""
        form.address.data = org.address
        form.contact_name.data = org.contact_name
        form.contact_phone.data = org.contact_phone
        form.description.data = org.description
        form.version.data = str(org.version)
    elif form.validate():
        data = OrgData(
            name=form.org_name.data.strip(),
            kind=org.kind,
            credit_code=form.credit_code.data,
            local=bool(form.local.data),
            town=form.town.data or None,
            address=(form.address.data or "").strip(),
            contact_name=(form.contact_name.data or "").strip(),
            contact_phone=form.contact_phone.data or "",
            description=(form.description.data or "").strip(),
        )
        try:
            expected = parse_id(form.version.data) or -1
            accounts.update_org(db.session, current_user, org, data, expected, ip=client_ip())
            db.session.commit()
        except (ServiceError, StaleDataError) as exc:
            db.session.rollback()
            if isinstance(exc, StaleDataError):
                exc = ServiceError("该单位信息已被他人修改，请刷新页面后重新编辑（您填写的内容仍保留在表单中）。")
            add_service_error(form, exc)
            return render_template("orgs/edit.html", form=form, org=org), 409
        flash(
            "单位信息已保存。" + ("单位信息已提交科技局重新审核。" if org.status == Verification.PENDING else ""),
            "success",
        )
        return redirect(url_for("orgs.profile", org_id=org.id))
    status = 422 if form.is_submitted() else 200
    return render_template("orgs/edit.html", form=form, org=org), status

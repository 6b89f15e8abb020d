"""Browse, search, post, edit and review technology achievements and needs.

One set of views serves both sides: ``<kind>`` in the URL is ``achievements`` or ``needs``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug import Response

from techmarket import matchindex, permissions
from techmarket.access import acting_user, bureau_required, client_ip, get_or_404, parse_id, require
from techmarket.domain.accounts import ORG_KIND_LABELS, OrgKind
from techmarket.domain.cases import strength
from techmarket.domain.listings import (
    ACTION_LABELS,
    TRANSITIONS,
    AmountError,
    Cooperation,
    IPType,
    ListingStatus,
    Maturity,
    TechField,
    parse_amount,
)
from techmarket.domain.regions import TOWNS_AND_SUBDISTRICTS
from techmarket.extensions import db
from techmarket.forms_common import add_service_error
from techmarket.listings.forms import AchievementForm, GrantForm, NeedForm, ReasonForm, RenewForm
from techmarket.models import Achievement, AuditEntry, Need, NeedAccess, Organisation
from techmarket.search import query_terms
from techmarket.services import listings as svc
from techmarket.services.accounts import ServiceError
from techmarket.services.cases import notify_new_recommendations

bp = Blueprint("listings", __name__)
KIND_URL = "<any(achievements, needs):kind>"
SLUG_TO_KIND = {"achievements": "achievement", "needs": "need"}
KIND_LABEL = {"achievement": "科技成果", "need": "技术需求"}
PER_PAGE = 20
OWNER_ACTIONS = ("submit", "withdraw", "close", "mark_dealt", "renew")


def today() -> date:
    return current_app.config.get("TODAY") or date.today()


def _kind(slug: str) -> str:
    return SLUG_TO_KIND[slug]


def _load(slug: str, listing_id: int) -> Achievement | Need:
    return get_or_404(svc.MODELS[_kind(slug)], listing_id)


def _enum_arg(enum_cls, name: str):
    value = request.args.get(name, "")
    return enum_cls(value) if value in {m.value for m in enum_cls} else None


def _amount_arg(name: str, errors: list[str]):
    try:
        return parse_amount(request.args.get(name) or None, "金额")
    except AmountError as exc:
        errors.append(str(exc))
        return None


@bp.route(f"/{KIND_URL}/")
def browse(kind: str) -> tuple[str, int]:
    k = _kind(kind)
    errors: list[str] = []
    q = (request.args.get("q") or "").strip()[:100]
    filters = svc.Filters(
        q=q,
        field=_enum_arg(TechField, "field"),
        maturity=_enum_arg(Maturity, "maturity"),
        cooperation=_enum_arg(Cooperation, "cooperation"),
        owner_kind=_enum_arg(OrgKind, "owner_kind"),
        town=request.args.get("town") if request.args.get("town") in TOWNS_AND_SUBDISTRICTS else None,
        min_amount=_amount_arg("min", errors),
        max_amount=_amount_arg("max", errors),
        pilot_base=request.args.get("pilot_base") == "1",
        sort="deadline" if request.args.get("sort") == "deadline" else "newest",
    )
    filters.terms = query_terms(q) if q else []
    if q and not filters.terms:
        errors.append("搜索词中没有可检索的内容，请换用更具体的词语，例如“轴承”“耐火材料”。")
    page = svc.search(db.session, k, filters, today(), request.args.get("page", 1, type=int), PER_PAGE)
    owner_kinds = (
        [OrgKind.ENTERPRISE] if k == "need" else sorted((o for o in OrgKind if o.is_seller), key=list(OrgKind).index)
    )
    return render_template(
        "listings/browse.html",
        kind=k,
        slug=kind,
        label=KIND_LABEL[k],
        page=page,
        filters=filters,
        errors=errors,
        fields=list(TechField),
        maturities=list(Maturity),
        cooperations=list(Cooperation),
        owner_kinds=[(o.value, ORG_KIND_LABELS[o]) for o in owner_kinds],
        towns=TOWNS_AND_SUBDISTRICTS,
        args=request.args,
    ), (400 if errors else 200)


def _grants(listing: Achievement | Need):
    return svc.grants(db.session, listing) if isinstance(listing, Need) else (frozenset(), frozenset())


@bp.route(f"/{KIND_URL}/<int:listing_id>")
def detail(kind: str, listing_id: int) -> str:
    listing = _load(kind, listing_id)
    user = acting_user()
    if not permissions.can_view_listing(user, listing):
        abort(404)
    grants = _grants(listing)
    owner = permissions.owns_listing(user, listing)
    history = []
    access = []
    if owner or permissions.is_bureau(user):
        history = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == listing.kind, AuditEntry.object_id == str(listing.id))
            .order_by(AuditEntry.id.desc())
            .limit(50)
        ).all()
        if isinstance(listing, Need):
            access = db.session.execute(
                select(NeedAccess, Organisation)
                .join(Organisation, NeedAccess.org_id == Organisation.id)
                .where(NeedAccess.need_id == listing.id)
            ).all()
    status = listing.current_status(today())
    recommendations, interest = _recommendations(listing, status, user, grants)
    return render_template(
        "listings/detail.html",
        listing=listing,
        kind=listing.kind,
        slug=kind,
        label=KIND_LABEL[listing.kind],
        status=status,
        owner=owner,
        history=history,
        access=access,
        can_edit=permissions.can_edit_listing(user, listing),
        can_review=permissions.can_review_listing(user) and listing.status == ListingStatus.PENDING,
        confidential=isinstance(listing, Need) and permissions.can_read_confidential(user, listing, grants),
        show_poster=not isinstance(listing, Need) or permissions.can_see_poster(user, listing, grants),
        actions=[a for a in OWNER_ACTIONS if status in TRANSITIONS[a][0]] if owner else [],
        action_labels=ACTION_LABELS,
        review_form=ReasonForm(formdata=None),
        renew_form=RenewForm(formdata=None),
        grant_form=GrantForm(formdata=None),
        recommendations=recommendations,
        interest=interest,
        shared_terms=sorted({t for _, m, _ in recommendations for t in m.terms}),
    )


def _recommendations(listing: Achievement | Need, status: ListingStatus, user, grants):
    """The other side's best matches (above the no-match threshold) and this user's “我感兴趣” options."""
    if status != ListingStatus.PUBLISHED:
        return [], []
    idx = matchindex.get(db.session, Path(current_app.config["MATCHING_DIR"]), today())
    other = Achievement if isinstance(listing, Need) else Need
    matches = matchindex.recommend(idx, listing.kind, listing, top=5)
    rows = {r.id: r for r in db.session.scalars(select(other).where(other.id.in_([int(m.id) for m in matches])))}
    threshold = matchindex.threshold(idx)
    recommendations = [(rows[int(m.id)], m, strength(m.score, threshold)) for m in matches if int(m.id) in rows]
    interest = []
    if user is not None and user.org_id is not None and permissions.can_create_listing(user, other.kind):
        interest = db.session.scalars(
            select(other)
            .where(other.org_id == user.org_id, other.status == ListingStatus.PUBLISHED)
            .order_by(other.id.desc())
        ).all()
    return recommendations, interest


def _form_for(kind: str, formdata=None, obj=None):
    cls = AchievementForm if kind == "achievement" else NeedForm
    kwargs = (
        {"today": today(), "check_deadline": obj is None or obj.deadline != _posted_deadline()}
        if kind == "need"
        else {}
    )
    form = cls(**kwargs) if formdata is None else cls(formdata=formdata, **kwargs)
    return form


def _posted_deadline():
    raw = request.form.get("deadline")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _data(kind: str, form) -> svc.AchievementData | svc.NeedData:
    coop = [Cooperation(c) for c in form.cooperation.data]
    if kind == "achievement":
        return svc.AchievementData(
            title=form.title.data.strip(),
            summary=form.summary.data.strip(),
            description=form.description.data.strip(),
            field=TechField(form.field.data),
            keywords=form.keyword_list(),
            maturity=Maturity(form.maturity.data),
            trl=form.trl.data,
            ip_type=IPType(form.ip_type.data),
            patent_numbers=form.patent_list(),
            cooperation=coop,
            price=form.amount_of("price"),
            team=(form.team.data or "").strip(),
            contact_name=(form.contact_name.data or "").strip(),
            contact_phone=form.contact_phone.data or "",
            pilot_base=bool(form.pilot_base.data),
        )
    return svc.NeedData(
        title=form.title.data.strip(),
        description=form.description.data.strip(),
        field=TechField(form.field.data),
        expected_outcome=form.expected_outcome.data.strip(),
        budget_min=form.amount_of("budget_min"),
        budget_max=form.amount_of("budget_max"),
        deadline=form.deadline.data,
        cooperation=coop,
        confidential_details=(form.confidential_details.data or "").strip(),
        anonymous=bool(form.anonymous.data),
    )


def _fill(form, listing: Achievement | Need) -> None:
    for name in form._fields:
        if name in ("csrf_token", "version"):
            continue
        value = getattr(listing, name, None)
        if name == "cooperation":
            value = [c.value for c in listing.cooperation]
        elif name == "keywords":
            value = "，".join(listing.keywords or [])
        elif name == "patent_numbers":
            value = "\n".join(listing.patent_numbers or [])
        elif hasattr(value, "value"):
            value = value.value
        elif name in ("price", "budget_min", "budget_max"):
            value = "" if value is None else f"{value:f}"
        form[name].data = value
    form.version.data = str(listing.version)


@bp.route(f"/{KIND_URL}/new", methods=["GET", "POST"])
@login_required
def create(kind: str) -> str | Response | tuple[str, int]:
    k = _kind(kind)
    require(permissions.can_create_listing(current_user, k), f"create_{k}")
    form = _form_for(k, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            listing = svc.create(db.session, current_user, k, _data(k, form), ip=client_ip())
            if request.form.get("submit_for_review"):
                svc.transition(db.session, current_user, listing, "submit", today=today(), ip=client_ip())
        except ServiceError as exc:
            db.session.rollback()
            add_service_error(form, exc)
            return render_template(
                "listings/form.html", form=form, kind=k, slug=kind, label=KIND_LABEL[k], listing=None
            ), 422
        db.session.commit()
        flash("已保存并提交市科技局审核。" if listing.status == ListingStatus.PENDING else "已保存为草稿。", "success")
        return redirect(url_for("listings.detail", kind=kind, listing_id=listing.id))
    refusal = permissions.publish_refusal_reason(current_user, current_user.org)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "listings/form.html", form=form, kind=k, slug=kind, label=KIND_LABEL[k], listing=None, refusal=refusal
    ), status


@bp.route(f"/{KIND_URL}/<int:listing_id>/edit", methods=["GET", "POST"])
@login_required
def edit(kind: str, listing_id: int) -> str | Response | tuple[str, int]:
    listing = _load(kind, listing_id)
    if not permissions.can_view_listing(current_user, listing):
        abort(404)
    require(permissions.can_edit_listing(current_user, listing), "edit_listing")
    k = listing.kind
    if request.method == "GET":
        form = _form_for(k)
        _fill(form, listing)
        return render_template("listings/form.html", form=form, kind=k, slug=kind, label=KIND_LABEL[k], listing=listing)
    form = _form_for(k, request.form, obj=listing)
    if form.validate():
        try:
            expected = parse_id(form.version.data) or -1
            changes = svc.update(db.session, current_user, listing, _data(k, form), expected, ip=client_ip())
            db.session.commit()
        except (ServiceError, StaleDataError) as exc:
            db.session.rollback()
            if isinstance(exc, StaleDataError):
                exc = ServiceError("该信息已被他人修改，请刷新页面查看最新内容后再编辑（您填写的内容仍保留在表单中）。")
            add_service_error(form, exc)
            return render_template(
                "listings/form.html", form=form, kind=k, slug=kind, label=KIND_LABEL[k], listing=listing
            ), 409
        flash("已保存修改。" if changes else "内容没有变化。", "success")
        return redirect(url_for("listings.detail", kind=kind, listing_id=listing.id))
    return render_template(
        "listings/form.html", form=form, kind=k, slug=kind, label=KIND_LABEL[k], listing=listing
    ), 422


@bp.route(f"/{KIND_URL}/<int:listing_id>/action", methods=["POST"])
@login_required
def owner_action(kind: str, listing_id: int) -> Response | tuple[str, int]:
    listing = _load(kind, listing_id)
    if not permissions.can_view_listing(current_user, listing):
        abort(404)
    require(
        permissions.owns_listing(current_user, listing) and permissions.can_create_listing(current_user, listing.kind),
        "listing_action",
    )
    action = request.form.get("action", "")
    if action not in OWNER_ACTIONS:
        abort(400)
    renew = RenewForm()
    if action == "renew" and not renew.validate():
        flash("新的截止日期格式不正确（年-月-日）。", "danger")
        return detail(kind, listing.id), 422
    try:
        svc.transition(
            db.session,
            current_user,
            listing,
            action,
            today=today(),
            new_deadline=renew.deadline.data,
            validity_months=current_app.config.get("ACHIEVEMENT_VALIDITY_MONTHS", 12),
            ip=client_ip(),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return detail(kind, listing.id), 409
    db.session.commit()
    flash(f"已{ACTION_LABELS[action]}。", "success")
    return redirect(url_for("listings.detail", kind=kind, listing_id=listing.id))


@bp.route(f"/{KIND_URL}/<int:listing_id>/review", methods=["POST"])
@bureau_required
def review(kind: str, listing_id: int) -> Response | tuple[str, int]:
    listing = _load(kind, listing_id)
    form = ReasonForm()
    if not form.validate():
        flash("请选择审核结果。", "danger")
        return review_queue(), 422
    action = "approve" if form.decision.data == "approve" else "reject"
    try:
        svc.transition(
            db.session,
            current_user,
            listing,
            action,
            today=today(),
            reason=form.reason.data or "",
            validity_months=current_app.config.get("ACHIEVEMENT_VALIDITY_MONTHS", 12),
            ip=client_ip(),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return review_queue(), 422 if exc.field == "reason" else 409
    if action == "approve":
        idx = matchindex.get(db.session, Path(current_app.config["MATCHING_DIR"]), today())
        notify_new_recommendations(db.session, idx, listing)
    db.session.commit()
    flash(f"已{ACTION_LABELS[action]}：{listing.title}", "success")
    return redirect(url_for("listings.review_queue"))


@bp.route("/bureau/listings")
@bureau_required
def review_queue() -> str:
    pending = {
        k: db.session.scalars(select(m).where(m.status == ListingStatus.PENDING).order_by(m.updated_at)).all()
        for k, m in svc.MODELS.items()
    }
    return render_template("listings/review.html", pending=pending, form=ReasonForm(formdata=None), labels=KIND_LABEL)


@bp.route("/my/listings")
@login_required
def mine() -> str:
    rows = {}
    if current_user.org_id is not None:
        for k, m in svc.MODELS.items():
            rows[k] = db.session.scalars(
                select(m).where(m.org_id == current_user.org_id).order_by(m.updated_at.desc())
            ).all()
    return render_template(
        "listings/mine.html",
        rows=rows,
        labels=KIND_LABEL,
        today=today(),
        can_create={k: permissions.can_create_listing(current_user, k) for k in svc.MODELS},
    )


@bp.route("/needs/<int:listing_id>/access", methods=["POST"])
@login_required
def grant(listing_id: int) -> Response | tuple[str, int]:
    need = get_or_404(Need, listing_id)
    require(permissions.owns_listing(current_user, need), "grant_need_access")
    form = GrantForm()
    try:
        if not form.validate():
            raise ServiceError("请填写对方单位的统一社会信用代码。")
        svc.grant_access(db.session, current_user, need, form.credit_code.data.strip().upper(), ip=client_ip())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return detail("needs", need.id), 422
    db.session.commit()
    flash("已授权该单位查看保密信息。", "success")
    return redirect(url_for("listings.detail", kind="needs", listing_id=need.id))


@bp.route("/needs/<int:listing_id>/access/<int:access_id>/revoke", methods=["POST"])
@login_required
def revoke(listing_id: int, access_id: int) -> Response | tuple[str, int]:
    need = get_or_404(Need, listing_id)
    require(permissions.owns_listing(current_user, need), "revoke_need_access")
    try:
        svc.revoke_access(db.session, current_user, need, access_id, ip=client_ip())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return detail("needs", need.id), 422
    db.session.commit()
    flash("已撤销授权。", "success")
    return redirect(url_for("listings.detail", kind="needs", listing_id=need.id))

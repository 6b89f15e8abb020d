"""The broker's queue, match cases (对接项目), notifications, and the bureau's view of the pipeline."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_, select, update
from werkzeug import Response

from techmarket import matchindex, permissions
from techmarket.access import bureau_required, client_ip, get_or_404, require
from techmarket.cases.forms import AnswerForm, EntryForm, InviteForm, MessageForm, PairForm, StatusForm
from techmarket.domain.accounts import Role, Verification
from techmarket.domain.cases import FUNNEL, CaseStatus, EventKind, Side, funnel_counts, is_stale, strength
from techmarket.domain.listings import TechField
from techmarket.domain.regions import TOWNS_AND_SUBDISTRICTS
from techmarket.extensions import db
from techmarket.models import Achievement, CaseEvent, MatchCase, Need, Notification, User
from techmarket.models.types import utcnow
from techmarket.services import cases as svc
from techmarket.services.accounts import ServiceError

bp = Blueprint("cases", __name__)
QUEUE_SIZE = 60


def today() -> date:
    return current_app.config.get("TODAY") or date.today()


def matching_dir() -> Path:
    return Path(current_app.config["MATCHING_DIR"])


def index() -> matchindex.Index:
    return matchindex.get(db.session, matching_dir(), today())


# --- broker queue ---------------------------------------------------------------------------------------


@bp.route("/broker/queue")
@login_required
def queue() -> str:
    require(permissions.can_claim_pairs(current_user), "broker_queue")
    field = request.args.get("field", "")
    town = request.args.get("town", "")
    idx = index()
    needs = db.session.scalars(select(Need).where(Need.id.in_([int(i) for i in idx.stamps.get("need", {})]))).all()
    if field in {f.value for f in TechField}:
        needs = [n for n in needs if n.field.value == field]
    if town in TOWNS_AND_SUBDISTRICTS:
        needs = [n for n in needs if n.org.town == town]
    taken = svc.taken_pairs(db.session, current_user.id)
    pairs = [(n, m) for n, m in matchindex.candidate_pairs(idx, needs) if (n.id, int(m.id)) not in taken]
    pairs.sort(key=lambda p: -p[1].score)
    pairs = pairs[:QUEUE_SIZE]
    achievements = {
        a.id: a
        for a in db.session.scalars(select(Achievement).where(Achievement.id.in_({int(m.id) for _, m in pairs})))
    }
    threshold = matchindex.threshold(idx)
    rows = [
        (n, achievements[int(m.id)], m, strength(m.score, threshold)) for n, m in pairs if int(m.id) in achievements
    ]
    return render_template(
        "cases/queue.html",
        rows=rows,
        fields=list(TechField),
        towns=TOWNS_AND_SUBDISTRICTS,
        field=field,
        town=town,
        form=PairForm(formdata=None),
    )


def _pair(form: PairForm) -> tuple[Need, Achievement]:
    if not form.validate():
        abort(400)
    return get_or_404(Need, form.need_id.data), get_or_404(Achievement, form.achievement_id.data)


@bp.route("/broker/claim", methods=["POST"])
@login_required
def claim() -> Response | tuple[str, int]:
    require(permissions.can_claim_pairs(current_user), "claim_pair")
    need, achievement = _pair(PairForm())
    score = None
    for match in matchindex.recommend(index(), "need", need, top=20):
        if int(match.id) == achievement.id:
            score = match.score
    try:
        case = svc.claim(db.session, current_user, need, achievement, score, today=today(), ip=client_ip())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return queue(), 409
    db.session.commit()
    flash("已认领该配对，已通知双方。", "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/broker/dismiss", methods=["POST"])
@login_required
def dismiss() -> Response:
    require(permissions.can_claim_pairs(current_user), "dismiss_pair")
    need, achievement = _pair(PairForm())
    svc.dismiss(db.session, current_user, need.id, achievement.id)
    db.session.commit()
    flash("已忽略该配对。", "info")
    return redirect(url_for("cases.queue", **{k: v for k, v in request.args.items() if k in ("field", "town")}))


# --- cases ----------------------------------------------------------------------------------------------


@bp.route("/cases/")
@login_required
def my_cases() -> str:
    stmt = select(MatchCase).order_by(MatchCase.last_activity_at.desc())
    if not permissions.is_bureau(current_user):
        conditions = [MatchCase.broker_id == current_user.id]
        if current_user.org_id is not None:
            conditions += [
                MatchCase.need_id.in_(select(Need.id).where(Need.org_id == current_user.org_id)),
                MatchCase.achievement_id.in_(select(Achievement.id).where(Achievement.org_id == current_user.org_id)),
            ]
        stmt = stmt.where(or_(*conditions))
    status = request.args.get("status", "")
    if status in {s.value for s in CaseStatus}:
        stmt = stmt.where(MatchCase.status == CaseStatus(status))
    cases = db.session.scalars(stmt.limit(500)).all()
    now = utcnow()
    return render_template(
        "cases/list.html",
        cases=cases,
        now=now,
        is_stale=is_stale,
        statuses=list(CaseStatus),
        status=status,
        today=today(),
    )


@bp.route("/cases/<int:case_id>")
@login_required
def detail(case_id: int) -> str:
    case = get_or_404(MatchCase, case_id)
    if not permissions.can_view_case(current_user, case):
        abort(404)  # a case's existence is not revealed to outsiders
    side = permissions.case_side(current_user, case)
    answered = {a.side for a in case.acceptances}
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    brokers = []
    if case.broker_id is None and side is not None:
        brokers = db.session.scalars(
            select(User)
            .where(User.role == Role.BROKER, User.broker_status == Verification.VERIFIED)
            .order_by(User.display_name)
        ).all()
    contract_url = None
    if case.status == CaseStatus.SIGNED and case.contract_id is None and "contracts.new" in current_app.view_functions:
        contract_url = url_for("contracts.new", case=case.id)
    return render_template(
        "cases/detail.html",
        case=case,
        side=side,
        events=events,
        brokers=brokers,
        revealed=svc.contacts_revealed(case),
        can_answer=side is not None and Side(side) not in answered and case.status == CaseStatus.RECOMMENDED,
        can_work=permissions.can_work_case(current_user, case),
        can_message=permissions.can_message_case(current_user, case),
        answer_form=AnswerForm(formdata=None),
        entry_form=EntryForm(formdata=None),
        message_form=MessageForm(formdata=None),
        status_form=StatusForm(formdata=None),
        invite_form=InviteForm(formdata=None),
        contract_url=contract_url,
        stale=is_stale(case.status, case.last_activity_at, utcnow()),
        EventKind=EventKind,
    )


def _case_for(case_id: int, predicate, what: str) -> MatchCase:
    case = get_or_404(MatchCase, case_id)
    if not permissions.can_view_case(current_user, case):
        abort(404)
    require(predicate(current_user, case), what)
    return case


def _back(case: MatchCase, exc: ServiceError | None = None, status: int = 409) -> Response | tuple[str, int]:
    if exc is not None:
        db.session.rollback()
        flash(exc.message, "danger")
        return detail(case.id), status
    db.session.commit()
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/cases/start", methods=["POST"])
@login_required
def start() -> Response | tuple[str, int]:
    require(current_user.role in (Role.ENTERPRISE, Role.INSTITUTE), "start_case")
    need, achievement = _pair(PairForm())
    for listing in (need, achievement):
        if not permissions.can_view_listing(current_user, listing):
            abort(404)
    require(permissions.can_start_case(current_user, need, achievement), "start_case")
    try:
        case = svc.start(db.session, current_user, need, achievement, today=today(), ip=client_ip())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(request.referrer or url_for("cases.my_cases"))
    db.session.commit()
    flash("已发起对接，已通知对方。对方确认意向后，双方可以看到彼此的联系方式。", "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/cases/<int:case_id>/answer", methods=["POST"])
@login_required
def answer(case_id: int) -> Response | tuple[str, int]:
    case = _case_for(case_id, lambda u, c: permissions.case_side(u, c) is not None, "case_answer")
    form = AnswerForm()
    if not form.validate():
        return _back(case, ServiceError("请选择答复。"), 422)
    try:
        svc.answer(
            db.session,
            current_user,
            case,
            Side(permissions.case_side(current_user, case)),
            form.decision.data == "accept",
            form.reason.data or "",
            ip=client_ip(),
        )
    except ServiceError as exc:
        return _back(case, exc, 422 if exc.field else 409)
    return _back(case)


@bp.route("/cases/<int:case_id>/entry", methods=["POST"])
@login_required
def entry(case_id: int) -> Response | tuple[str, int]:
    case = _case_for(case_id, permissions.can_work_case, "case_entry")
    form = EntryForm()
    if not form.validate():
        errors = "；".join(e for errs in form.errors.values() for e in errs)
        return _back(case, ServiceError(f"记录未保存：{errors}"), 422)
    data = svc.EntryData(
        kind=EventKind(form.kind.data),
        text=form.text.data.strip(),
        occurred_on=form.occurred_on.data,
        next_action=(form.next_action.data or "").strip() or None,
        next_action_due=form.next_action_due.data,
    )
    try:
        svc.record(db.session, current_user, case, data, ip=client_ip())
    except ServiceError as exc:
        return _back(case, exc)
    return _back(case)


@bp.route("/cases/<int:case_id>/message", methods=["POST"])
@login_required
def message(case_id: int) -> Response | tuple[str, int]:
    case = _case_for(case_id, permissions.can_message_case, "case_message")
    form = MessageForm()
    if not form.validate():
        return _back(case, ServiceError("请填写留言内容（不超过2000字）。"), 422)
    svc.message(db.session, current_user, case, form.text.data.strip(), ip=client_ip())
    return _back(case)


@bp.route("/cases/<int:case_id>/status", methods=["POST"])
@login_required
def status(case_id: int) -> Response | tuple[str, int]:
    case = _case_for(case_id, permissions.can_work_case, "case_status")
    form = StatusForm()
    if not form.validate():
        return _back(case, ServiceError("请选择新状态。"), 422)
    try:
        svc.change_status(
            db.session, current_user, case, CaseStatus(form.status.data), form.reason.data or "", ip=client_ip()
        )
    except ServiceError as exc:
        return _back(case, exc, 422 if exc.field else 409)
    return _back(case)


@bp.route("/cases/<int:case_id>/invite", methods=["POST"])
@login_required
def invite(case_id: int) -> Response | tuple[str, int]:
    case = _case_for(case_id, lambda u, c: permissions.case_side(u, c) is not None, "case_invite")
    form = InviteForm()
    broker = db.session.get(User, form.broker_id.data) if form.validate() else None
    if broker is None:
        return _back(case, ServiceError("请选择技术经纪人。"), 422)
    try:
        svc.invite_broker(db.session, current_user, case, broker, ip=client_ip())
    except ServiceError as exc:
        return _back(case, exc, 422)
    return _back(case)


# --- notifications --------------------------------------------------------------------------------------


@bp.route("/notifications")
@login_required
def notifications() -> str:
    items = db.session.scalars(
        select(Notification).where(Notification.user_id == current_user.id).order_by(Notification.id.desc()).limit(100)
    ).all()
    return render_template("cases/notifications.html", items=items)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read() -> Response:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return redirect(url_for("cases.notifications"))


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def notification_settings() -> str | Response:
    from techmarket.models import NotificationOptOut

    if request.method == "POST":
        from techmarket.forms_common import BaseForm

        if not BaseForm().validate():
            abort(400)
        enabled = {k for k in svc.NOTIFICATION_KINDS if request.form.get(k) == "1"}
        svc.set_preferences(db.session, current_user, enabled)
        db.session.commit()
        flash("通知设置已保存。", "success")
        return redirect(url_for("cases.notification_settings"))
    off = set(db.session.scalars(select(NotificationOptOut.kind).where(NotificationOptOut.user_id == current_user.id)))
    return render_template("cases/settings.html", kinds=svc.NOTIFICATION_KINDS, off=off)


# --- bureau ---------------------------------------------------------------------------------------------


@bp.route("/bureau/cases")
@bureau_required
def bureau_overview() -> str:
    cases = db.session.scalars(select(MatchCase).order_by(MatchCase.created_at.desc())).all()
    now = utcnow()
    by_broker: dict[str, list[CaseStatus]] = defaultdict(list)
    by_field: dict[str, list[CaseStatus]] = defaultdict(list)
    by_month: dict[str, list[CaseStatus]] = defaultdict(list)
    for c in cases:
        by_broker[c.broker.display_name if c.broker else "（无经纪人）"].append(c.status)
        by_field[c.need.field.label].append(c.status)
        by_month[c.created_at.strftime("%Y-%m")].append(c.status)

    def table(groups: dict[str, list[CaseStatus]]) -> list[tuple[str, dict[CaseStatus, int], int]]:
        return [(k, funnel_counts(v), Counter(v)[CaseStatus.FAILED]) for k, v in sorted(groups.items())]

    stale = [c for c in cases if is_stale(c.status, c.last_activity_at, now)]
    return render_template(
        "cases/bureau.html",
        cases=cases,
        total=funnel_counts([c.status for c in cases]),
        funnel=FUNNEL,
        by_broker=table(by_broker),
        by_field=table(by_field),
        by_month=table(by_month),
        stale=stale,
        failed=Counter(c.status for c in cases)[CaseStatus.FAILED],
    )

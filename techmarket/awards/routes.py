"""The bureau's reward rounds (奖补兑现) and each unit's view of its own awards."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from techmarket.access import bureau_required, client_ip, get_or_404
from techmarket.awards.forms import ExcludeForm, OpenRoundForm, PriorAwardForm
from techmarket.domain.credit_code import CreditCodeError, normalize_credit_code
from techmarket.domain.listings import AmountError, parse_amount
from techmarket.domain.stats import Column, Table
from techmarket.exports import CSV_MIME, XLSX_MIME, table_to_csv, tables_to_xlsx
from techmarket.extensions import db
from techmarket.forms_common import add_service_error
from techmarket.models import RewardRound, RoundAdjustment
from techmarket.rewards import load_policy
from techmarket.services import awards as svc
from techmarket.services.accounts import ServiceError

bp = Blueprint("awards", __name__)


def today() -> date:
    return current_app.config.get("TODAY") or date.today()


def _page(
    round_: RewardRound, status: int = 200, exclude: ExcludeForm | None = None, prior: PriorAwardForm | None = None
) -> tuple[str, int]:
    previous = db.session.get(RewardRound, round_.previous_id) if round_.previous_id else None
    return render_template(
        "awards/round.html",
        round=round_,
        policy=load_policy(round_.policy_id),
        previous=previous,
        differences=svc.differences(round_, previous),
        kinds=svc.AWARD_KIND_LABELS,
        exclude_form=exclude or ExcludeForm(formdata=None),
        prior_form=prior or PriorAwardForm(formdata=None),
    ), status


@bp.route("/bureau/rewards/", methods=["GET", "POST"])
@bureau_required
def rounds() -> str | Response | tuple[str, int]:
    form = OpenRoundForm()
    if form.validate_on_submit():
        try:
            round_ = svc.open_round(
                db.session, current_user, form.year.data, form.policy_id.data, today=today(), ip=client_ip()
            )
        except ServiceError as exc:
            db.session.rollback()
            add_service_error(form, exc)
        else:
            db.session.commit()
            flash(f"已生成第{round_.id}轮（{round_.year}年度）奖补计算，请核对后审批。", "success")
            return redirect(url_for("awards.round_detail", round_id=round_.id))
    elif not form.is_submitted():
        form.year.data = today().year - 1
    items = db.session.scalars(select(RewardRound).order_by(RewardRound.year.desc(), RewardRound.id.desc())).all()
    return render_template("awards/rounds.html", form=form, rounds=items), (422 if form.is_submitted() else 200)


@bp.route("/bureau/rewards/<int:round_id>")
@bureau_required
def round_detail(round_id: int) -> tuple[str, int]:
    return _page(get_or_404(RewardRound, round_id))


def _done(round_: RewardRound, message: str) -> Response:
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("awards.round_detail", round_id=round_.id))


def _refused(round_: RewardRound, exc: ServiceError | StaleDataError, **forms) -> tuple[str, int]:
    db.session.rollback()
    if isinstance(exc, StaleDataError):
        exc = ServiceError("该轮次刚被其他人修改，请刷新后再试。")
    flash(exc.message, "danger")
    return _page(db.session.get(RewardRound, round_.id), 409 if not exc.field else 422, **forms)


@bp.route("/bureau/rewards/<int:round_id>/recompute", methods=["POST"])
@bureau_required
def recompute(round_id: int) -> Response | tuple[str, int]:
    round_ = get_or_404(RewardRound, round_id)
    try:
        svc.recompute(db.session, current_user, round_, ip=client_ip())
        return _done(round_, "已按最新的合同与认定数据重新计算。")
    except (ServiceError, StaleDataError) as exc:
        return _refused(round_, exc)


@bp.route("/bureau/rewards/<int:round_id>/exclude", methods=["POST"])
@bureau_required
def exclude(round_id: int) -> Response | tuple[str, int]:
    round_ = get_or_404(RewardRound, round_id)
    form = ExcludeForm()
    if not form.validate():
        return _page(round_, 422, exclude=form)
    adjustment = RoundAdjustment(
        kind="exclude",
        award_kind=form.award_kind.data,
        contract_id=form.contract_id.data.strip(),
        reason=form.reason.data.strip(),
    )
    try:
        svc.adjust(db.session, current_user, round_, adjustment, ip=client_ip())
        return _done(round_, "已排除该合同的奖励并重新计算。")
    except (ServiceError, StaleDataError) as exc:
        return _refused(round_, exc, exclude=form)


@bp.route("/bureau/rewards/<int:round_id>/prior", methods=["POST"])
@bureau_required
def prior_award(round_id: int) -> Response | tuple[str, int]:
    round_ = get_or_404(RewardRound, round_id)
    form = PriorAwardForm()
    ok = form.validate()
    amount = code = None
    try:
        amount = parse_amount(form.amount.data, "金额")
    except AmountError as exc:
        form.amount.errors = [*form.amount.errors, str(exc)]
        ok = False
    try:
        code = normalize_credit_code(form.recipient.data or "")
    except CreditCodeError as exc:
        form.recipient.errors = [*form.recipient.errors, str(exc)]
        ok = False
    if form.award_kind.data == "buyer" and not (form.contract_id.data or "").strip():
        form.contract_id.errors = [*form.contract_id.errors, "买方奖励按合同发放，请填写合同登记编号。"]
        ok = False
    if not ok:
        return _page(round_, 422, prior=form)
    adjustment = RoundAdjustment(
        kind="prior_award",
        award_kind=form.award_kind.data,
        recipient=code,
        contract_id=(form.contract_id.data or "").strip() or None,
        prior_year=form.prior_year.data,
        amount=amount,
        reason=form.reason.data.strip(),
    )
    try:
        svc.adjust(db.session, current_user, round_, adjustment, ip=client_ip())
        return _done(round_, "已记录洛阳市已发放的同类奖励并重新计算。")
    except (ServiceError, StaleDataError) as exc:
        return _refused(round_, exc, prior=form)


@bp.route("/bureau/rewards/<int:round_id>/adjustments/<int:adjustment_id>/delete", methods=["POST"])
@bureau_required
def remove_adjustment(round_id: int, adjustment_id: int) -> Response | tuple[str, int]:
    round_ = get_or_404(RewardRound, round_id)
    try:
        svc.remove_adjustment(db.session, current_user, round_, adjustment_id, ip=client_ip())
        return _done(round_, "已撤销该调整并重新计算。")
    except (ServiceError, StaleDataError) as exc:
        return _refused(round_, exc)


@bp.route("/bureau/rewards/<int:round_id>/approve", methods=["POST"])
@bureau_required
def approve(round_id: int) -> Response | tuple[str, int]:
    round_ = get_or_404(RewardRound, round_id)
    try:
        svc.approve(db.session, current_user, round_id, ip=client_ip())
        return _done(round_, "已审批。本轮奖补结果已冻结，可导出报送财政部门。")
    except (ServiceError, StaleDataError) as exc:
        return _refused(round_, exc)


def _export_table(round_: RewardRound) -> Table:
    columns = [
        Column("name", "单位名称"),
        Column("code", "统一社会信用代码"),
        Column("kind", "奖励类型"),
        Column("base", "本年度技术交易额基数（元）", "money"),
        Column("amount", "奖励金额（元）", "money"),
        Column("lines", "合同明细"),
        Column("explanation", "计算说明"),
    ]
    note = f"{round_.year}年度，政策 {round_.policy_id}，第{round_.id}轮，状态：{round_.status_label}，合计 {round_.total} 元。"
    return Table(f"round_{round_.id}", f"{round_.year}年度技术转移奖补", columns, svc.export_rows(round_), note=note)


@bp.route("/bureau/rewards/<int:round_id>/export.<any(xlsx, csv):fmt>")
@bureau_required
def export(round_id: int, fmt: str) -> Response:
    round_ = get_or_404(RewardRound, round_id)
    table = _export_table(round_)
    body, mime = (tables_to_xlsx([table]), XLSX_MIME) if fmt == "xlsx" else (table_to_csv(table), CSV_MIME)
    filename = f"reward-round-{round_.id}-{round_.year}.{fmt}"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/my/rewards")
@login_required
def my_rewards() -> str:
    """A unit's own awards and explanations, from approved rounds only."""
    if current_user.org is None:
        abort(404)
    awards = svc.unit_awards(db.session, current_user.org.credit_code)
    return render_template("awards/mine.html", awards=awards, kinds=svc.AWARD_KIND_LABELS)

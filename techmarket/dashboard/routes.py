"""The bureau's dashboard: targets and their progress, statistics, the innovation registry, the policy tasks.

Bureau staff only (``bureau_required`` on every view). Every table on these pages can be downloaded as
.xlsx (Chinese headers) and .csv from ``/bureau/dashboard/export/<table>.<xlsx|csv>``.
"""

from __future__ import annotations

import io
import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug import Response

from techmarket import exports, uploads
from techmarket.access import bureau_required, client_ip, get_or_404
from techmarket.dashboard.forms import EntryForm, ImportForm, ReportForm, RevokeForm, TargetForm
from techmarket.domain.regions import TOWNS_AND_SUBDISTRICTS
from techmarket.domain.registry import EntryCategory, EntryError, Level, check_entry, parse_sheet
from techmarket.domain.stats import Table
from techmarket.domain.targets import Metric, parse_target_value
from techmarket.domain.tasks import Quarter, chinese_number, unreported
from techmarket.extensions import db
from techmarket.forms_common import add_service_error
from techmarket.models import PolicyTask, RegistryEntry, Target, TaskReportFile
from techmarket.services import audit
from techmarket.services import dashboard as svc
from techmarket.services import registry as registry_svc
from techmarket.services.accounts import ServiceError
from techmarket.uploads import StagedFile, UploadError

bp = Blueprint("dashboard", __name__, url_prefix="/bureau/dashboard")
CITY_TZ = ZoneInfo("Asia/Shanghai")
PLAN = "yanshi-2021"
PER_PAGE = 50


def today() -> date:
    """The city's calendar date (UTC+8)."""
    return datetime.now(CITY_TZ).date()


@bp.app_template_filter("figure")
def figure(value: object, kind: str = "text") -> str:
    """Table cells: money with thousands separators and two decimals, counts as integers; blank stays blank."""
    if value is None or value == "":
        return ""
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "count":
        return f"{value:,}"
    if kind == "percent":
        return f"{value}%"
    return str(value)


@bp.app_template_filter("chinese_number")
def _chinese_number(n: int) -> str:
    return chinese_number(n)


def _year_arg() -> int | None:
    raw = request.args.get("year", "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1985 <= int(raw) <= 2100:
        abort(400)
    return int(raw)


# --- overview and statistics ----------------------------------------------------------------------


@bp.route("/")
@bureau_required
def index() -> str:
    now = today()
    views = svc.targets(db.session, now)
    tasks = db.session.scalars(select(PolicyTask).where(PolicyTask.plan == PLAN).order_by(PolicyTask.number)).all()
    last = registry_svc.last_reports(db.session, PLAN)
    missing = unreported([t.id for t in tasks], last, now)
    return render_template(
        "dashboard/index.html",
        views=views,
        summary=svc.targets_table(views, now),
        today=now,
        quarter=Quarter.of(now),
        tasks_missing=len(missing),
        tasks_total=len(tasks),
    )


@bp.route("/stats")
@bureau_required
def statistics() -> str:
    now = today()
    year = _year_arg()
    result = svc.statistics(db.session, now, year)
    return render_template("dashboard/stats.html", result=result, year=year, today=now, cases_pending=svc.CASES_PENDING)


def _export_tables(key: str, fmt: str) -> list[Table]:
    """The tables behind one export: one table, or (.xlsx only) a set of them, one sheet each."""
    now = today()
    if key in ("statistics", "targets") or key.startswith("target_"):
        if key == "statistics":
            return svc.statistics(db.session, now, _year_arg()).all_tables()
        views = svc.targets(db.session, now)
        if key == "targets":
            trends = [t for v in views for t in (v.yearly, v.monthly) if t] if fmt == "xlsx" else []
            return [svc.targets_table(views, now), *trends]
        return [t for v in views for t in (v.yearly, v.monthly) if t and t.key == key]
    if key == "registry":
        entries = db.session.scalars(registry_svc.registry_query(**_registry_filters())).all()
        return [svc.registry_table(entries)]
    if key == "tasks":
        return [_tasks_table(now)]
    table = svc.statistics(db.session, now, _year_arg()).table(key)
    return [table] if table else []


@bp.route("/export/<key>.<any(xlsx, csv):fmt>")
@bureau_required
def export(key: str, fmt: str) -> Response:
    tables = _export_tables(key[:60], fmt)
    if not tables or (fmt == "csv" and len(tables) != 1):
        abort(404)
    stamp = today().strftime("%Y%m%d")
    year = request.args.get("year", "")
    name = f"{tables[0].title if len(tables) == 1 else '统计数据'}{'-' + year if year.isdigit() else ''}-{stamp}"
    name = name.replace("/", "／").replace(" ", "")
    if fmt == "xlsx":
        data, mime = exports.tables_to_xlsx(tables), exports.XLSX_MIME
    else:
        data, mime = exports.table_to_csv(tables[0]), exports.CSV_MIME
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=f"{name}.{fmt}")


# --- targets --------------------------------------------------------------------------------------


@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@bureau_required
def edit_target(target_id: int) -> Response | tuple[str, int] | str:
    target = get_or_404(Target, target_id)
    form = TargetForm(obj=None if request.method == "POST" else target)
    if request.method == "GET":
        form.version.data = str(target.version)
        form.target_value.data = (
            str(int(target.target_value)) if target.metric is Metric.REGISTRY_COUNT else f"{target.target_value:f}"
        )
        return render_template("dashboard/target_form.html", form=form, target=target)
    if not form.validate_on_submit():
        return render_template("dashboard/target_form.html", form=form, target=target), 422
    try:
        value = parse_target_value(form.target_value.data, target.metric)
    except ValueError as exc:
        form.target_value.errors = [*form.target_value.errors, str(exc)]
        return render_template("dashboard/target_form.html", form=form, target=target), 422
    if form.version.data != str(target.version):
        flash("该目标已被他人修改，请核对最新数值后再保存（您填写的内容仍保留在下方）。", "warning")
        return render_template("dashboard/target_form.html", form=form, target=target), 409
    change = registry_svc.TargetChange(
        name=form.name.data.strip(),
        target_value=value,
        period_start=form.period_start.data,
        deadline=form.deadline.data,
        note=(form.note.data or "").strip(),
    )
    try:
        changes = registry_svc.update_target(db.session, current_user, target, change, ip=client_ip())
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        add_service_error(form, exc)
        return render_template("dashboard/target_form.html", form=form, target=target), 422
    except StaleDataError:
        db.session.rollback()
        flash("该目标已被他人修改，请核对最新数值后再保存（您填写的内容仍保留在下方）。", "warning")
        return render_template("dashboard/target_form.html", form=form, target=target), 409
    flash(f"已保存目标：{target.name}。" if changes else "没有修改任何内容。", "success" if changes else "info")
    return redirect(url_for("dashboard.index", _anchor=f"target-{target.id}"))


# --- the innovation registry ----------------------------------------------------------------------


def _registry_filters() -> dict[str, str]:
    return {
        "category": request.args.get("category", "")[:32],
        "level": request.args.get("level", "")[:32],
        "q": request.args.get("q", "").strip()[:50],
        "town": request.args.get("town", "")[:20],
    }


@bp.route("/registry")
@bureau_required
def registry() -> str:
    return _registry_page()[0]


def _registry_page(revoke_form: RevokeForm | None = None, revoke_id: int | None = None, status: int = 200):
    filters = _registry_filters()
    page_no = request.args.get("page", 1, type=int) or 1
    page = db.paginate(registry_svc.registry_query(**filters), page=max(1, page_no), per_page=PER_PAGE, error_out=False)
    return render_template(
        "dashboard/registry.html",
        page=page,
        filters=filters,
        counts=registry_svc.category_counts(db.session),
        categories=list(EntryCategory),
        levels=list(Level),
        towns=TOWNS_AND_SUBDISTRICTS,
        missing_code=registry_svc.institutions_missing_code(db.session),
        links=registry_svc.platform_links(db.session, page.items),
        revoke_form=revoke_form or RevokeForm(formdata=None),
        revoke_id=revoke_id,
    ), status


def _entry_values(form: EntryForm) -> dict:
    return {
        "name": form.name.data,
        "unit_name": form.unit_name.data,
        "credit_code": form.credit_code.data,
        "category": EntryCategory(form.category.data),
        "level": Level(form.level.data),
        "recognized_year": form.recognized_year.data,
        "recognized_on": form.recognized_on.data,
        "certificate_no": form.certificate_no.data,
        "town": form.town.data,
        "local": "是" if form.local.data else "否",
        "note": form.note.data,
    }


@bp.route("/registry/new", methods=["GET", "POST"])
@bureau_required
def new_entry() -> Response | tuple[str, int] | str:
    form = EntryForm()
    if request.method == "GET":
        return render_template("dashboard/entry_form.html", form=form)
    if not form.validate_on_submit():
        return render_template("dashboard/entry_form.html", form=form), 422
    try:
        data = check_entry(_entry_values(form), today())
        entry = registry_svc.add_entry(db.session, current_user, data, ip=client_ip())
        db.session.commit()
    except (EntryError, ServiceError) as exc:
        db.session.rollback()
        add_service_error(form, exc)
        return render_template("dashboard/entry_form.html", form=form), 422
    except IntegrityError:
        db.session.rollback()
        flash("该认定已在名录中，请勿重复提交。", "info")
        return redirect(url_for("dashboard.registry"))
    flash(f"已登记：{entry.name}（{entry.level.label}{entry.category.label}，{entry.recognized_year}年）。", "success")
    return redirect(url_for("dashboard.registry"))


@bp.route("/registry/<int:entry_id>/edit", methods=["GET", "POST"])
@bureau_required
def edit_entry(entry_id: int) -> Response | tuple[str, int] | str:
    entry = get_or_404(RegistryEntry, entry_id)
    if request.method == "GET":
        form = EntryForm(obj=entry)
        form.category.data, form.level.data = entry.category.value, entry.level.value
        form.recognized_year.data = str(entry.recognized_year)
        form.town.data = entry.town or ""
        return render_template("dashboard/entry_form.html", form=form, entry=entry)
    form = EntryForm()
    if not form.validate_on_submit():
        return render_template("dashboard/entry_form.html", form=form, entry=entry), 422
    try:
        data = check_entry(_entry_values(form), today())
        changes = registry_svc.update_entry(db.session, current_user, entry, data, ip=client_ip())
        db.session.commit()
    except (EntryError, ServiceError) as exc:
        db.session.rollback()
        add_service_error(form, exc)
        return render_template("dashboard/entry_form.html", form=form, entry=entry), 422
    except IntegrityError:
        db.session.rollback()
        flash("名录中已有相同的认定，未保存修改。", "warning")
        return render_template("dashboard/entry_form.html", form=form, entry=entry), 409
    flash(f"已保存：{entry.name}。" if changes else "没有修改任何内容。", "success" if changes else "info")
    return redirect(url_for("dashboard.registry"))


@bp.route("/registry/<int:entry_id>/revoke", methods=["POST"])
@bureau_required
def revoke_entry(entry_id: int) -> Response | tuple[str, int]:
    entry = get_or_404(RegistryEntry, entry_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        return _registry_page(form, entry.id, 422)
    try:
        registry_svc.revoke_entry(db.session, current_user, entry, form.revoked_on.data, ip=client_ip())
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return _registry_page(status=409)
    flash(f"已将“{entry.name}”的{entry.category.label}认定标记为撤销或失效。", "success")
    return redirect(url_for("dashboard.registry"))


@bp.route("/registry/template.xlsx")
@bureau_required
def registry_template() -> Response:
    return send_file(
        io.BytesIO(exports.registry_template()),
        mimetype=exports.XLSX_MIME,
        as_attachment=True,
        download_name="创新主体与平台名录导入模板.xlsx",
    )


@bp.route("/registry/import", methods=["GET", "POST"])
@bureau_required
def import_registry() -> Response | tuple[str, int] | str:
    form = ImportForm()
    if request.method == "GET":
        return render_template("dashboard/import.html", form=form, result=None)
    if not form.validate_on_submit():
        return render_template("dashboard/import.html", form=form, result=None), 422
    upload = form.file.data
    try:
        rows = exports.read_xlsx_rows(upload.stream)
    except exports.SheetReadError as exc:
        form.file.errors = [*form.file.errors, exc.message]
        return render_template("dashboard/import.html", form=form, result=None), 422
    result = parse_sheet(rows, today(), registry_svc.existing_identities(db.session))
    if result.header_error:
        form.file.errors = [*form.file.errors, result.header_error]
        return render_template("dashboard/import.html", form=form, result=None), 422
    if result.errors and not (form.valid_only.data and result.entries):
        return render_template("dashboard/import.html", form=form, result=result), 422
    filename = uploads.clean_filename(upload.filename)
    try:
        entries = registry_svc.import_entries(
            db.session,
            current_user,
            result.entries,
            filename=filename,
            skipped_rows=[e.row for e in result.errors],
            ip=client_ip(),
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash("导入时发现名录中已有相同的认定（可能刚被他人录入），未导入任何数据，请重新导入。", "warning")
        return render_template("dashboard/import.html", form=form, result=None), 409
    message = f"已从“{filename}”导入{len(entries)}条认定记录。"
    if result.errors:
        message += f"跳过有错误的{len(result.errors)}行：" + "、".join(str(e.row) for e in result.errors) + "。"
    flash(message, "success")
    return redirect(url_for("dashboard.registry"))


# --- policy tasks ---------------------------------------------------------------------------------


def _tasks_table(now: date) -> Table:
    tasks = db.session.scalars(select(PolicyTask).where(PolicyTask.plan == PLAN).order_by(PolicyTask.number)).all()
    last = registry_svc.last_reports(db.session, PLAN)
    return svc.tasks_table(tasks, last, now)


@bp.route("/tasks")
@bureau_required
def tasks() -> str:
    now = today()
    rows = db.session.scalars(select(PolicyTask).where(PolicyTask.plan == PLAN).order_by(PolicyTask.number)).all()
    last = registry_svc.last_reports(db.session, PLAN)
    missing = set(unreported([t.id for t in rows], last, now))
    return render_template(
        "dashboard/tasks.html", tasks=rows, last=last, missing=missing, quarter=Quarter.of(now), today=now
    )


def _task_page(task: PolicyTask, form: ReportForm, status: int = 200) -> tuple[str, int]:
    return render_template("dashboard/task.html", task=task, form=form, quarter=Quarter.of(today())), status


@bp.route("/tasks/<int:task_id>")
@bureau_required
def task(task_id: int) -> tuple[str, int]:
    item = get_or_404(PolicyTask, task_id)
    form = ReportForm(formdata=None)
    form.form_token.data = secrets.token_urlsafe(24)
    form.reported_on.data = today()
    return _task_page(item, form)


@bp.route("/tasks/<int:task_id>/reports", methods=["POST"])
@bureau_required
def add_report(task_id: int) -> Response | tuple[str, int]:
    item = get_or_404(PolicyTask, task_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return _task_page(item, form, 422)
    token = (form.form_token.data or "")[:64] or None
    if token and registry_svc.find_report_by_token(db.session, token):
        flash("该进展报告已保存，请勿重复提交。", "info")
        return redirect(url_for("dashboard.task", task_id=item.id))
    staged: list[StagedFile] = []
    try:
        try:
            for storage in form.files.data or []:
                if storage and storage.filename:
                    staged.append(
                        uploads.stage(
                            storage.stream,
                            storage.filename,
                            current_app.config["UPLOAD_FOLDER"],
                            current_app.config["UPLOAD_LIMIT_BYTES"],
                        )
                    )
            registry_svc.add_report(
                db.session,
                current_user,
                item,
                registry_svc.ReportData(
                    reported_on=form.reported_on.data,
                    text=form.text.data.strip(),
                    department=(form.department.data or "").strip(),
                ),
                staged,
                form_token=token,
                today=today(),
                ip=client_ip(),
            )
            db.session.commit()
        except UploadError as exc:
            db.session.rollback()
            form.files.errors = [*form.files.errors, exc.message]
            return _task_page(item, form, 422)
        except ServiceError as exc:
            db.session.rollback()
            add_service_error(form, exc)
            return _task_page(item, form, 422)
        except IntegrityError:
            db.session.rollback()
            flash("该进展报告已保存，请勿重复提交。", "info")
            return redirect(url_for("dashboard.task", task_id=item.id))
        for s in staged:
            uploads.promote(s)
        staged = []
    finally:
        for s in staged:
            uploads.discard(s)
    flash("进展报告已保存。", "success")
    return redirect(url_for("dashboard.task", task_id=item.id))


@bp.route("/tasks/files/<int:file_id>")
@bureau_required
def task_file(file_id: int) -> Response:
    item = get_or_404(TaskReportFile, file_id)
    path = uploads.open_path(current_app.config["UPLOAD_FOLDER"], item.stored_name)
    if path is None:
        abort(404)
    audit.record(
        db.session,
        "task_file_download",
        actor_id=current_user.id,
        object_type="policy_task_report_file",
        object_id=item.id,
        ip=client_ip(),
    )
    db.session.commit()
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.original_name)

"""Sign in, sign out, register, change password."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug import Response

from techmarket.access import client_ip
from techmarket.auth.forms import LoginForm, PasswordChangeForm, RegistrationForm
from techmarket.domain.accounts import OrgKind
from techmarket.extensions import db, limiter, login_account_key
from techmarket.forms_common import add_service_error
from techmarket.services import accounts
from techmarket.services.accounts import OrgData, ServiceError, UserData

bp = Blueprint("auth", __name__)
INVALID = 422


def _failed_attempt(response: Response) -> bool:
    """Only failed logins count toward the throttle (a successful one redirects)."""
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=login_account_key,
    methods=["POST"],
    deduct_when=_failed_attempt,
    error_message="该账号登录失败次数过多，请稍后再试。",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed_attempt,
    error_message="登录尝试过于频繁，请稍后再试。",
)
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.username.data, form.password.data, ip=client_ip())
        db.session.commit()
        if user is not None:
            session.clear()  # a fresh session: nothing from before sign-in survives (fixation)
            login_user(user)
            session.permanent = True
            session["login_at"] = time.time()
            return redirect(_safe_next(request.args.get("next")))
        form.password.data = ""
        flash("账号或密码错误。", "danger")
        return render_template("auth/login.html", form=form), 401
    status = INVALID if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("您已安全退出。", "info")
    return redirect(url_for("main.index"))


def _org_data(form: RegistrationForm, kind: OrgKind) -> OrgData:
    return OrgData(
        name=form.org_name.data.strip(),
        kind=kind,
        credit_code=form.credit_code.data,
        local=bool(form.local.data),
        town=form.town.data or None,
        address=(form.address.data or "").strip(),
        contact_name=(form.contact_name.data or "").strip(),
        contact_phone=form.contact_phone.data or "",
        description=(form.description.data or "").strip(),
    )


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = RegistrationForm()
    if form.validate_on_submit():
        user_data = UserData(
            username=form.username.data,
            display_name=form.display_name.data.strip(),
            password=form.password.data,
            email=(form.email.data or "").strip(),
            phone=form.phone.data or "",
        )
        try:
            if form.account_type.data == "broker":
                org = _org_data(form, OrgKind.TRANSFER_INSTITUTION) if form.needs_org() else None
                accounts.register_broker(
                    db.session, user_data, form.broker_certificate.data.strip(), org, ip=client_ip()
                )
            else:
                kind = OrgKind.ENTERPRISE if form.account_type.data == "enterprise" else OrgKind(form.seller_kind.data)
                accounts.register_member(db.session, _org_data(form, kind), user_data, ip=client_ip())
        except ServiceError as exc:
            db.session.rollback()
            add_service_error(form, exc)
        else:
            db.session.commit()
            flash("注册成功。市科技局审核通过前，您可以登录并完善信息，但暂不能发布。请登录。", "success")
            return redirect(url_for("auth.login"))
    status = INVALID if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                db.session, current_user, form.current_password.data, form.new_password.data, ip=client_ip()
            )
        except ServiceError as exc:
            db.session.rollback()
            add_service_error(form, exc)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash("密码已修改，所有已登录的会话均已退出，请用新密码重新登录。", "success")
            return redirect(url_for("auth.login"))
    status = INVALID if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status

"""Request plumbing shared by every page: sessions, security headers, blueprints, template helpers."""

from __future__ import annotations

import json
import re
import time

from flask import Flask, Response, request, session
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.routing import IntegerConverter

from techmarket.domain.accounts import OrgKind, Role, Verification
from techmarket.domain.listings import ListingStatus, format_yuan
from techmarket.extensions import db, login_manager
from techmarket.models import User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Session cookies carry "<user id>.<session version>"; a bumped version ends old sessions."""
    user_id, _, version = session_id.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user


def _enforce_absolute_timeout() -> None:
    """Idle timeout comes from the signed cookie's age; this caps a session's whole life too."""
    started = session.get("login_at")
    if started is None:
        return
    limit_seconds = 3600 * int(_app_config("SESSION_ABSOLUTE_HOURS"))
    if time.time() - float(started) > limit_seconds:
        session.clear()


def _refuse_nul_bytes() -> tuple[str, int] | None:
    """No form or query value needs a NUL byte, and PostgreSQL text cannot hold one (the driver raises
    before the query runs, e.g. on the login name): refuse such a request up front, in Chinese (400)."""
    for values in (request.args, request.form):
        for key, items in values.lists():
            if "\x00" in key or any("\x00" in item for item in items):
                from techmarket.errors import render_error

                return render_error(400, "提交的内容含有不可见的控制字符（NUL），请删除后重试。")
    return None


def _app_config(key: str):
    from flask import current_app

    return current_app.config[key]


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if _app_config("HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user.is_authenticated or "_user_id" in session:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def _template_globals() -> dict:
    unread = 0
    if current_user.is_authenticated:
        from techmarket.services.cases import unread_count

        unread = unread_count(db.session, current_user.id)
    return {
        "unread_notifications": unread,
        "Role": Role,
        "OrgKind": OrgKind,
        "Verification": Verification,
        "ListingStatus": ListingStatus,
    }


def _key_terms(terms: list[str] | tuple[str, ...]) -> list[str]:
    """Match terms worth showing: single characters (磨, 带) explain little and mark half a page."""
    return [t for t in terms if t and len(t.strip()) >= 2]


def _highlight(text: str, terms: list[str] | tuple[str, ...]) -> Markup:
    """Escape ``text`` and wrap every occurrence of the match terms in <mark> (longest terms first)."""
    words = sorted(set(_key_terms(terms)), key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def _json_text(value: object) -> str:
    """Readable JSON for pages (Chinese kept as is; Jinja still escapes the result)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _without_page(args: dict) -> dict:
    """Query arguments to carry into pagination links (the page number is set by the link itself)."""
    return {k: v for k, v in args.items() if k not in ("page", "kind")}


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in every URL stops at the largest row id: /contracts/99999999999999999999 is a 404,
    not an integer the database driver cannot bind."""

    def __init__(self, map, *args, **kwargs) -> None:
        from techmarket.access import MAX_ID

        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    from techmarket.auth.routes import bp as auth_bp
    from techmarket.awards.routes import bp as awards_bp
    from techmarket.bureau.routes import bp as bureau_bp
    from techmarket.cases.routes import bp as cases_bp
    from techmarket.contracts.routes import bp as contracts_bp
    from techmarket.dashboard.routes import bp as dashboard_bp
    from techmarket.listings.routes import bp as listings_bp
    from techmarket.main.routes import bp as main_bp
    from techmarket.orgs.routes import bp as orgs_bp

    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录后再访问该页面。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"

    app.before_request(_enforce_absolute_timeout)
    app.before_request(_refuse_nul_bytes)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    app.add_template_filter(_json_text, "json_text")
    app.add_template_filter(format_yuan, "yuan")
    app.add_template_filter(_without_page, "without_page")
    app.add_template_filter(_highlight, "highlight")
    app.add_template_filter(_key_terms, "key_terms")

    for bp in (main_bp, auth_bp, orgs_bp, bureau_bp, listings_bp, cases_bp, awards_bp, contracts_bp, dashboard_bp):
        app.register_blueprint(bp)

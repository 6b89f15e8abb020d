"""The one place where routes turn a permission predicate into a 403 (recorded) or a 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, request
from flask_login import current_user

from techmarket import permissions
from techmarket.extensions import db
from techmarket.services import audit

M = TypeVar("M")


def acting_user() -> Any:
    return current_user if current_user.is_authenticated else None


def client_ip() -> str | None:
    return request.remote_addr


#: ids are INTEGER columns (32-bit on PostgreSQL); anything outside is no row, never a driver error
MAX_ID = 2**31 - 1


def parse_id(raw: object) -> int | None:
    """A row id from user input: ASCII digits within 1..MAX_ID, else None ("²" and "１" are digits to
    ``str.isdigit`` but not to ``int``; a 30-digit number overflows SQLite's driver)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 < raw <= MAX_ID else None
    text = str(raw or "")
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def get_or_404(model: type[M], object_id: int) -> M:
    if parse_id(object_id) is None:
        abort(404)
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def refuse(what: str) -> None:
    """Record the refusal in the audit trail (in its own transaction) and answer 403."""
    user = acting_user()
    db.session.rollback()
    audit.record(
        db.session,
        "forbidden",
        actor_id=user.id if user else None,
        ip=client_ip(),
        what=what,
        path=request.path[:200],
        method=request.method,
    )
    db.session.commit()
    abort(403)


def require(allowed: bool, what: str) -> None:
    if not allowed:
        refuse(what)


def bureau_required(view: Callable) -> Callable:
    """Signed-in bureau staff (or admin) only; anonymous visitors are sent to the login page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            from techmarket.extensions import login_manager

            return login_manager.unauthorized()
        require(permissions.is_bureau(current_user), "bureau_area")
        return view(*args, **kwargs)

    return wrapped

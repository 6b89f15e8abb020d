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


def get_or_404(model: type[M], object_id: int) -> M:
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

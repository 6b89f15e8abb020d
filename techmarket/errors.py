"""Chinese error pages; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("techmarket.errors")

MESSAGES = {
    400: ("请求无效", "提交的内容无法处理，请返回上一页检查后重试。"),
    401: ("需要登录", "请先登录后再访问该页面。"),
    403: ("无权访问", "您没有访问该页面或执行该操作的权限。如有疑问，请联系市科技局。"),
    404: ("页面不存在", "您访问的页面不存在，或者已被删除。"),
    405: ("不支持的请求方式", "该页面不支持此请求方式。"),
    409: ("操作冲突", "该内容已被他人修改，请刷新后重试。"),
    413: ("文件过大", "上传的内容超过了大小限制（单个文件不超过20 MB），请压缩或拆分后重新上传。"),
    422: ("内容有误", "提交的内容有误，请检查后重试。"),
    429: ("操作过于频繁", "您的操作过于频繁，请稍后再试。"),
    500: ("服务器内部错误", "服务器出现了问题，我们已记录该错误。请稍后再试。"),
}


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def _http_error(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    detail = None
    if code == 429:
        detail = getattr(exc, "description", None)
        if not isinstance(detail, str) or not detail or detail.isascii():
            detail = None
    return render_error(code, detail)


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    return render_error(400, "页面已过期或表单校验失败（CSRF），请刷新页面后重新提交。")


def _unexpected(exc: Exception) -> tuple[str, int]:
    log.exception("unhandled error on %s %s", request.method, request.path)
    from techmarket.extensions import db

    db.session.rollback()
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

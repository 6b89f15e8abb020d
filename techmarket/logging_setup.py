"""Structured logs in production: one JSON object per line on stderr (journald or any log shipper reads it).

Every line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``; lines written while a
request is handled also carry its ``request_id``, and each request ends with one ``request`` line
(``method``, ``path``, ``status``, ``duration_ms``). ``json.dumps`` escapes CR, LF and every other control
character, so text a user typed can never start a forged line. The request id comes from nginx's
``X-Request-ID`` header when it looks like one (``proxy_set_header X-Request-ID $request_id``), else a
fresh one, and is sent back in the response's ``X-Request-ID``.

Wired in :func:`techmarket.create_app` for ``APP_ENV=production``; development keeps Flask's plain logs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
#: attributes every LogRecord has; anything else was passed with ``extra=`` and goes into the line
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
request_log = logging.getLogger("techmarket.request")
_LINE_BREAKS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            line["exception"] = record.exc_text
        text = json.dumps(line, ensure_ascii=False, default=str)
        # json escapes CR, LF and the other C0 controls; these also end a line for some readers.
        return text.translate(_LINE_BREAKS)


class RequestContextFilter(logging.Filter):
    """Adds the current request's id to every record logged while it is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_id"):
            request_id = g.get("request_id")
            if request_id:
                record.request_id = request_id
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when the record is emitted (like logging's last resort)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr


def json_handler(stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    handler._techmarket_json = True  # type: ignore[attr-defined]  # marks ours: installing twice replaces it
    return handler


def _start_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    request_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,  # never the query string: it may carry tokens
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
    if g.get("request_id"):
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


def install_request_logging(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)


def configure_json_logging(stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    """Make the root logger write JSON lines (replacing a previous JSON handler, keeping other handlers)."""
    from flask.logging import default_handler

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_techmarket_json", False)]:
        root.removeHandler(old)
    handler = json_handler(stream)
    root.addHandler(handler)
    root.setLevel(level)
    # Flask gives the app's logger (named "techmarket", like ours) a plain handler when none exists.
    logging.getLogger("techmarket").removeHandler(default_handler)
    logging.getLogger("techmarket").setLevel(level)
    return handler


def init_app(app: Flask, stream: TextIO | None = None) -> None:
    """JSON logs and request lines when ``APP_ENV=production``; nothing otherwise."""
    if app.config.get("APP_ENV") != "production":
        return
    configure_json_logging(stream)
    install_request_logging(app)

"""Production logs are JSON lines (logging_setup) and `make serve-prod` refuses an incomplete environment."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from techmarket import logging_setup
from techmarket.logging_setup import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def _record(msg: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    record = logging.LogRecord("techmarket.audit", logging.WARNING, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_record_is_one_json_line_with_cr_lf_escaped():
    record = _record(
        "登录失败：%s", 'admin\r\n{"level": "INFO", "forged": true}\u2028', request_id="abc123", status=401
    )
    line = JsonFormatter().format(record)
    assert len(line.splitlines()) == 1 and "\r" not in line and "\u2028" not in line
    data = json.loads(line)
    assert data["message"] == '登录失败：admin\r\n{"level": "INFO", "forged": true}\u2028'
    assert data["level"] == "WARNING" and data["logger"] == "techmarket.audit"
    assert data["request_id"] == "abc123" and data["status"] == 401
    assert data["time"].endswith("Z") and "T" in data["time"]


def test_an_exception_stays_on_the_same_line():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: bad\nvalue" in json.loads(line)["exception"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, app_logger = logging.getLogger(), logging.getLogger("techmarket")
    saved = (list(root.handlers), root.level, list(app_logger.handlers), app_logger.level)
    yield
    root.handlers[:], app_logger.handlers[:] = saved[0], saved[2]
    root.setLevel(saved[1])
    app_logger.setLevel(saved[3])


def test_requests_are_logged_with_id_path_method_status_and_duration(restore_logging):
    app = Flask("logging_probe")
    app.config["APP_ENV"] = "production"
    stream = io.StringIO()
    logging_setup.init_app(app, stream)

    @app.get("/hello")
    def hello():
        logging.getLogger("techmarket.probe").info("inside\r\nthe request")
        return "ok"

    resp = app.test_client().get("/hello?token=secret", headers={"X-Request-ID": "nginx-req-0001"})
    assert resp.headers["X-Request-ID"] == "nginx-req-0001"
    forged = app.test_client().get("/hello", headers={"X-Request-ID": "bad id with spaces"})
    assert forged.headers["X-Request-ID"] != "bad id with spaces"

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    inside, request_line = lines[0], lines[1]
    assert inside["message"] == "inside\r\nthe request" and inside["request_id"] == "nginx-req-0001"
    assert request_line["logger"] == "techmarket.request"
    assert request_line["method"] == "GET" and request_line["path"] == "/hello" and request_line["status"] == 200
    assert request_line["request_id"] == "nginx-req-0001" and request_line["duration_ms"] >= 0
    assert "secret" not in stream.getvalue()
    assert lines[3]["request_id"] == forged.headers["X-Request-ID"]


def test_development_keeps_plain_logs(restore_logging):
    app = Flask("logging_probe_dev")
    app.config["APP_ENV"] = "development"
    before = list(logging.getLogger().handlers)
    logging_setup.init_app(app, io.StringIO())
    assert logging.getLogger().handlers == before
    assert not app.before_request_funcs


# --- make serve-prod --------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(
    ("unset", "message"),
    [("DATABASE_URL", "未设置 DATABASE_URL"), ("SECRET_KEY", "未设置 SECRET_KEY")],
)
def test_serve_prod_refuses_a_missing_setting_in_chinese(unset, message):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "MAKEFLAGS", "MFLAGS")}
    if unset != "DATABASE_URL":
        env["DATABASE_URL"] = "postgresql+psycopg://techmarket@127.0.0.1:5432/techmarket"
    if unset != "SECRET_KEY":
        env["SECRET_KEY"] = "k" * 48
    proc = subprocess.run(
        ["make", "--no-print-directory", "serve-prod"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode != 0
    assert message in proc.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_serve_prod_refuses_a_short_secret_key_before_migrating():
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")}
    env.update(DATABASE_URL="postgresql+psycopg://techmarket@127.0.0.1:5432/techmarket", SECRET_KEY="short")
    proc = subprocess.run(
        ["make", "--no-print-directory", "serve-prod"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode != 0
    assert "SECRET_KEY 至少需要 32 个字符" in proc.stderr

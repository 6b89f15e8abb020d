"""Configuration from the environment.

``APP_ENV`` is ``development`` (default), ``production`` or ``testing``. Production refuses to start
without a strong ``SECRET_KEY`` and switches on secure cookies, HSTS and a shared rate-limit store.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

MIN_SECRET_KEY_LENGTH = 32
UPLOAD_LIMIT_BYTES = 20 * 1024 * 1024


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app must not start."""


def _instance_secret_key(instance_path: Path) -> str:
    """Read, or create once, a random key kept in instance/ (never committed)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ
    overrides = dict(overrides or {})
    app_env = overrides.get("APP_ENV") or env.get("APP_ENV", "development")
    production = app_env == "production"

    secret_key = overrides.get("SECRET_KEY") or env.get("SECRET_KEY")
    if production:
        if not secret_key or len(secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(f"生产环境必须设置至少{MIN_SECRET_KEY_LENGTH}个字符的 SECRET_KEY 环境变量，拒绝启动。")
    elif not secret_key:
        secret_key = _instance_secret_key(instance_path)

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'techmarket.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    ratelimit_storage = env.get("RATELIMIT_STORAGE_URI") or (
        env.get("REDIS_URL", "redis://127.0.0.1:6379/0") if production else "memory://"
    )

    config: dict[str, Any] = {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": UPLOAD_LIMIT_BYTES + 1024 * 1024,  # a 20 MB file plus the form
        "UPLOAD_LIMIT_BYTES": UPLOAD_LIMIT_BYTES,
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(instance_path / "uploads"),
        "MATCHING_DIR": env.get("MATCHING_DIR") or str(instance_path / "matching"),
        # Sessions: signed cookie whose age is checked on every request (idle timeout) and whose
        # user id carries a per-user session version (server-side logout), see auth.sessions.
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=int(env.get("SESSION_IDLE_MINUTES", "30"))),
        "SESSION_ABSOLUTE_HOURS": 12,
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BOOTSTRAP_BOOTSWATCH_THEME": None,
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": False,
        "LOGIN_LIMIT_PER_ACCOUNT": env.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 5 minutes;50 per day"),
        "LOGIN_LIMIT_PER_ADDRESS": env.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 5 minutes;300 per day"),
        "HSTS": production,
        # reverse proxies (nginx) in front whose X-Forwarded-For/-Proto are trusted: client IPs for the
        # login throttle and the audit trail come from there, not from the proxy's own address
        "PROXY_HOPS": int(env.get("PROXY_HOPS", "1" if production else "0")),
        "ACHIEVEMENT_VALIDITY_MONTHS": int(env.get("ACHIEVEMENT_VALIDITY_MONTHS", "12")),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "JSON_AS_ASCII": False,
        "WTF_I18N_ENABLED": False,  # WTForms' own zh catalogue, see forms_common.BaseForm
    }
    config.update(overrides)
    return config

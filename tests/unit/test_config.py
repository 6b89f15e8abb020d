import pytest

from techmarket.config import ConfigError, build_config


def test_production_refuses_missing_or_short_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        build_config(tmp_path, {"APP_ENV": "production"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        build_config(tmp_path, {"APP_ENV": "production", "SECRET_KEY": "short-key"})


def test_production_cookies_and_shared_limiter(tmp_path, monkeypatch):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    cfg = build_config(tmp_path, {"APP_ENV": "production", "SECRET_KEY": "k" * 40})
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["SESSION_COOKIE_HTTPONLY"]
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert cfg["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert cfg["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert cfg["MAX_CONTENT_LENGTH"] > 20 * 1024 * 1024


def test_development_generates_a_secret_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = build_config(tmp_path)["SECRET_KEY"]
    second = build_config(tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_postgres_urls_use_psycopg3(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert build_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_production_trusts_one_proxy_hop_for_client_addresses(tmp_path, monkeypatch):
    from techmarket import create_app

    monkeypatch.delenv("PROXY_HOPS", raising=False)
    assert build_config(tmp_path)["PROXY_HOPS"] == 0
    cfg = build_config(tmp_path, {"APP_ENV": "production", "SECRET_KEY": "k" * 40})
    assert cfg["PROXY_HOPS"] == 1
    app = create_app(
        {
            "APP_ENV": "testing",
            "SECRET_KEY": "k" * 40,
            "PROXY_HOPS": 1,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )

    @app.route("/whoami")
    def whoami():
        from flask import request

        return request.remote_addr or ""

    client = app.test_client()
    assert client.get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"}).text == "203.0.113.9"

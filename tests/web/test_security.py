"""Headers, cookies, CSRF, safe GETs, output encoding, error pages, request size (shared/security.md)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from techmarket import create_app
from techmarket.extensions import db
from techmarket.models import AuditEntry, Organisation, User
from tests.conftest import TEST_SECRET, any_csrf_token, csrf_token, login, make_org, make_user

XSS = "<img src=x onerror=alert(1)>"


def assert_security_headers(resp, signed_in=False):
    csp = resp.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    if signed_in:
        assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "status"), [("/", 200), ("/login", 200), ("/orgs/999999", 404), ("/bureau/audit", 302), ("/logout", 405)]
)
def test_headers_on_anonymous_responses(client, path, status):
    resp = client.get(path)
    assert resp.status_code == status
    assert_security_headers(resp)


def test_headers_and_no_store_when_signed_in(client):
    login(client, "enterprise")
    for path, status in (("/dashboard", 200), ("/bureau/audit", 403), ("/orgs/999999", 404)):
        resp = client.get(path)
        assert resp.status_code == status
        assert_security_headers(resp, signed_in=True)


@pytest.fixture
def other_app(app):
    """A second app on the same database, with a route that fails, in production mode."""
    prod = create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": TEST_SECRET,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "HSTS": True,
        }
    )

    def boom():
        raise RuntimeError("secret internal detail /etc/passwd")

    prod.add_url_rule("/boom", "boom", boom)
    yield prod
    with prod.app_context():
        db.engine.dispose()


def test_500_page_is_chinese_without_traceback(other_app):
    resp = other_app.test_client().get("/boom")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "服务器内部错误" in html
    assert "Traceback" not in html and "secret internal detail" not in html
    assert_security_headers(resp)
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_production_cookie_attributes(other_app):
    client = other_app.test_client()
    resp = client.get("/login", base_url="https://localhost")
    cookies = resp.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert cookie.startswith("__Host-session=")
        attrs = {a.strip().lower() for a in cookie.split(";")[1:]}
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= attrs
        assert not any(a.startswith("domain=") for a in attrs)


def test_development_cookie_attributes(client):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def concrete(rule: str) -> str:
    """A URL for a rule: ids become 1, ``<any(a, b):kind>`` becomes its first choice."""
    return re.sub(r"<any\((\w+)[^>]*>", r"\1", re.sub(r"<int:\w+>", "1", rule))


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            yield rule


def test_every_post_without_csrf_token_is_refused(app, client):
    login(client, "admin")
    with app.app_context():
        before = [db.session.scalar(select(func.count()).select_from(m)) for m in (Organisation, User)]
    rules = list(_post_rules(app))
    assert len(rules) >= 6
    for rule in rules:
        url = concrete(rule.rule)
        resp = client.post(url, data={"decision": "approve", "username": "x", "password": "y" * 10})
        assert resp.status_code == 400, url
        assert "CSRF" in resp.get_data(as_text=True)
    with app.app_context():
        after = [db.session.scalar(select(func.count()).select_from(m)) for m in (Organisation, User)]
    assert before == after


def test_gets_change_nothing(app, client):
    login(client, "bureau")

    def counts():
        with app.app_context():
            return [db.session.scalar(select(func.count()).select_from(m)) for m in (Organisation, User)]

    before = counts()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and "static" not in rule.endpoint:
            client.get(concrete(rule.rule)).close()
    assert counts() == before


def test_user_text_is_escaped_everywhere_it_shows(app, client):
    with app.app_context():
        org = make_org(
            db.session, name=f"偃师{XSS}有限公司", description=XSS, address=XSS, contact_name=XSS, status="pending"
        )
        make_user(db.session, "enterprise", org=org, display_name=f"张{XSS}")
        db.session.commit()
        org_id = org.id
    login(client, "bureau")
    for path in (f"/orgs/{org_id}", "/bureau/verifications"):
        html = client.get(path).get_data(as_text=True)
        assert XSS not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_oversized_request_gets_413_in_chinese(app, client):
    token = csrf_token(client, "/login")
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    resp = client.post("/login", data={"username": big, "password": "p", "csrf_token": token})
    assert resp.status_code == 413
    assert "文件过大" in resp.get_data(as_text=True)


def test_refusals_are_audited_with_the_actor(app, client):
    login(client, "broker")
    assert client.get("/bureau/audit").status_code == 403
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "forbidden").order_by(AuditEntry.id.desc())
        )
        broker_id = db.session.scalar(select(User.id).where(User.username == "broker"))
    assert entry.actor_id == broker_id and entry.detail["path"] == "/bureau/audit"


def test_logout_needs_post_with_token(client):
    login(client, "enterprise")
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200
    assert client.post("/logout", data={"csrf_token": any_csrf_token(client)}).status_code == 302
    assert client.get("/dashboard").status_code == 302

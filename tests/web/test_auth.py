"""Sign-in, sessions, throttling and password changes, through the HTTP interface."""

from __future__ import annotations

import logging
import re

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from techmarket.extensions import db
from techmarket.models import AuditEntry, User
from tests.conftest import csrf_token, login, make_user, post_form

PASSWORD = "correct horse battery"


@pytest.fixture
def user(app):
    with app.app_context():
        u = make_user(db.session, "enterprise")
        db.session.commit()
        return u.username


def _post_login(client, username, password):
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client, "/login")}
    )


def test_login_success_and_generic_failure_messages(client, user):
    wrong_pw = _post_login(client, user, "wrong password here")
    no_such = _post_login(client, "nobody-" + user, "wrong password here")
    for resp in (wrong_pw, no_such):
        assert resp.status_code == 401
        assert "账号或密码错误" in resp.get_data(as_text=True)

    # The two failures are indistinguishable apart from the echoed username and the CSRF token.
    def normalised(resp, name):
        return re.sub(r'value="[^"]*"', "", resp.get_data(as_text=True).replace(name, "NAME"))

    assert normalised(wrong_pw, user) == normalised(no_such, "nobody-" + user)
    ok = _post_login(client, user, PASSWORD)
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200


def test_login_is_case_insensitive_on_username(client, user):
    assert _post_login(client, user.upper(), PASSWORD).status_code == 302


def test_open_redirect_after_login_is_refused(client, user):
    token = csrf_token(client, "/login")
    resp = client.post(
        "/login?next=//evil.example/x", data={"username": user, "password": PASSWORD, "csrf_token": token}
    )
    assert resp.headers["Location"].endswith("/dashboard")


def test_new_session_cookie_on_login(client, user):
    client.get("/login")
    before = client.get_cookie("session").value
    login(client, user, PASSWORD)
    after = client.get_cookie("session").value
    assert before != after


def test_logout_kills_the_session_on_the_server(app, client, user):
    login(client, user, PASSWORD)
    stolen = client.get_cookie("session").value
    post_form(client, "/logout", {})
    assert client.get("/dashboard").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    resp = replay.get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_password_change_kills_other_sessions(app, client, user):
    other_device = app.test_client()
    login(other_device, user, PASSWORD)
    login(client, user, PASSWORD)
    resp = post_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
        form_url="/account/password",
    )
    assert resp.status_code == 302
    assert other_device.get("/dashboard").status_code == 302
    assert client.get("/dashboard").status_code == 302
    assert _post_login(app.test_client(), user, "a brand new passphrase").status_code == 302


def test_password_change_with_wrong_current_password_keeps_input(client, user):
    login(client, user, PASSWORD)
    resp = post_form(
        client,
        "/account/password",
        {
            "current_password": "not my password",
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
        form_url="/account/password",
    )
    assert resp.status_code == 422
    assert "当前密码不正确" in resp.get_data(as_text=True)


def test_idle_timeout(app, client, user, monkeypatch):
    login(client, user, PASSWORD)
    assert client.get("/dashboard").status_code == 200
    idle = app.permanent_session_lifetime.total_seconds()
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + int(idle) + 60)
    assert client.get("/dashboard").status_code == 302


def test_failed_login_throttled_per_account(client, user):
    for _ in range(10):
        assert _post_login(client, user, "wrong password here").status_code == 401
    resp = _post_login(client, user, PASSWORD)  # even the right password waits
    assert resp.status_code == 429
    assert "登录失败次数过多" in resp.get_data(as_text=True)


def test_successful_logins_do_not_count(client, user):
    for _ in range(12):
        assert _post_login(client, user, PASSWORD).status_code == 302
        post_form(client, "/logout", {})


def test_failed_logins_throttled_per_address(client):
    for i in range(30):
        assert _post_login(client, f"someone{i}", "wrong password here").status_code == 401
    assert _post_login(client, "someone-else", "wrong password here").status_code == 429


def test_failed_and_successful_logins_are_audited(app, client, user):
    with app.app_context():
        before = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.in_(["login", "login_failed"]))
        )
    _post_login(client, user, "wrong password here")
    _post_login(client, user, PASSWORD)
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["login", "login_failed"]))
            .order_by(AuditEntry.id.desc())
            .limit(2)
        ).all()
        after = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.in_(["login", "login_failed"]))
        )
        uid = db.session.scalar(select(User.id).where(User.username == user))
    assert after == before + 2
    assert [r.action for r in rows] == ["login", "login_failed"]
    assert all(r.actor_id == uid for r in rows)


def test_crlf_in_username_cannot_forge_log_lines(client, caplog):
    caplog.set_level(logging.INFO, logger="techmarket.audit")
    _post_login(client, "eve\r\nINFO forged admin login", "wrong password here")
    lines = [r.getMessage() for r in caplog.records if r.name == "techmarket.audit"]
    assert lines and all("\n" not in m and "\r" not in m for m in lines)

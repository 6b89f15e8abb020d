"""Fixtures: one migrated and seeded database per test run (SQLite, or PostgreSQL via TEST_DATABASE_URL).

Tests never change the seeded rows; a test that writes makes its own organisations and users with
:func:`make_org` / :func:`make_user`, so tests stay independent without a fresh database each time.
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from techmarket.domain.credit_code import ALPHABET, check_character

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def database_url(tmp_dir: str) -> str:
    """SQLite in the run's temp dir, or TEST_DATABASE_URL; under pytest-xdist each worker gets its own
    PostgreSQL database, ``<name>_<worker>``, created fresh (it is the suite's own, derived from the name)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir}/test.db"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from flask_migrate import upgrade

    from techmarket import create_app, uploads
    from techmarket.extensions import db
    from techmarket.seed import load_accounts, load_contracts, load_listings, load_registry

    tmp = tmp_path_factory.mktemp("techmarket")
    app = create_app(
        {
            "APP_ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": database_url(str(tmp)),
            "RATELIMIT_STORAGE_URI": "memory://",
            "UPLOAD_FOLDER": str(tmp / "uploads"),
            "MATCHING_DIR": str(tmp / "matching"),
        }
    )
    with app.app_context():
        upgrade()
        load_accounts(db.session)
        load_listings(db.session)
        load_registry(db.session)
        _, staged = load_contracts(db.session, app.config["UPLOAD_FOLDER"], app.config["UPLOAD_LIMIT_BYTES"])
        db.session.commit()
        for item in staged:
            uploads.promote(item)
    yield app
    with app.app_context():
        db.engine.dispose()
    if os.environ.get("TEST_DATABASE_URL") and os.environ.get("PYTEST_XDIST_WORKER"):
        _drop_database(app.config["SQLALCHEMY_DATABASE_URI"], os.environ["TEST_DATABASE_URL"])


def _drop_database(url: str, admin_url: str) -> None:
    """Drop a worker's database (created by database_url) through the run's own database."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    from techmarket.extensions import limiter

    limiter.reset()
    return app.test_client()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def csrf_token(client: FlaskClient, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = _CSRF_RE.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def any_csrf_token(client: FlaskClient) -> str:
    """A token for the current session: signed-in pages carry one in the logout form, /login otherwise."""
    html = client.get("/").get_data(as_text=True)
    match = _CSRF_RE.search(html)
    if match:
        return match.group(1) or match.group(2)
    return csrf_token(client, "/login")


def login(client: FlaskClient, username: str, password: str | None = None) -> None:
    from techmarket.seed import DEMO_PASSWORD

    token = csrf_token(client, "/login")
    resp = client.post(
        "/login", data={"username": username, "password": password or DEMO_PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 302, f"login as {username} failed: {resp.status_code}"


def post_form(client: FlaskClient, url: str, data: dict, form_url: str | None = None):
    """POST like a browser: take a CSRF token from the form page (or any page) first."""
    token = csrf_token(client, form_url) if form_url else any_csrf_token(client)
    return client.post(url, data={**data, "csrf_token": token})


_counter = itertools.count(1)


def unique_credit_code(region: str = "410381") -> str:
    """A fresh valid 统一社会信用代码 (企业, 工商) in the given region."""
    n = int(uuid.uuid4().int % (31**9))
    body = ""
    for _ in range(9):
        n, r = divmod(n, 31)
        body += ALPHABET[r]
    first17 = "91" + region + body
    return first17 + check_character(first17)


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{next(_counter)}x{uuid.uuid4().hex[:8]}"


def make_org(session, kind: str = "enterprise", status: str = "verified", **kw):
    from techmarket.domain.accounts import OrgKind, Verification
    from techmarket.models import Organisation

    org = Organisation(
        name=kw.pop("name", f"测试单位{unique_name('')}"),
        kind=OrgKind(kind),
        credit_code=kw.pop("credit_code", unique_credit_code()),
        local=kw.pop("local", True),
        town=kw.pop("town", "商城街道"),
        status=Verification(status),
        **kw,
    )
    session.add(org)
    session.flush()
    return org


def make_user(session, role: str = "enterprise", org=None, password: str = "correct horse battery", **kw):
    from techmarket.domain.accounts import Role, Verification
    from techmarket.domain.hashing import hash_password
    from techmarket.models import User

    user = User(
        username=kw.pop("username", unique_name()),
        display_name=kw.pop("display_name", "测试用户"),
        password_hash=hash_password(password),
        role=Role(role),
        org=org,
        **kw,
    )
    if role == "broker" and user.broker_status is None:
        user.broker_status = Verification.VERIFIED
    session.add(user)
    session.flush()
    return user

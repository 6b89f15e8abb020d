"""Login throttling is shared by all workers when the limiter uses Redis (as production does).

Another *process* (a stand-in for a second gunicorn worker) makes ten failed attempts; this process
then sees the account locked. With per-process memory storage it would not be.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from techmarket import PROJECT_ROOT, create_app
from techmarket.extensions import db, limiter
from tests.conftest import TEST_SECRET, csrf_token, make_user

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

OTHER_WORKER = textwrap.dedent("""
    import re, sys
    from techmarket import create_app
    url, storage, prefix, secret, username = sys.argv[1:6]
    app = create_app({"APP_ENV": "testing", "SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_STORAGE_URI": storage, "RATELIMIT_KEY_PREFIX": prefix})
    client = app.test_client()
    codes = []
    for _ in range(10):
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True))
        resp = client.post("/login", data={"username": username, "password": "wrong password here",
                                           "csrf_token": token.group(1)})
        codes.append(resp.status_code)
    print(",".join(map(str, codes)))
""")


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture
def redis_url():
    if not _redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


def test_failed_logins_counted_across_processes(app, redis_url):
    with app.app_context():
        username = make_user(db.session, "enterprise").username
        db.session.commit()
    prefix = f"techmarket-test-{uuid.uuid4().hex}"
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    out = subprocess.run(
        [sys.executable, "-c", OTHER_WORKER, url, redis_url, prefix, TEST_SECRET, username],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == ",".join(["401"] * 10)

    worker = create_app(
        {
            "APP_ENV": "testing",
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": redis_url,
            "RATELIMIT_KEY_PREFIX": prefix,
        }
    )
    try:
        client = worker.test_client()
        resp = client.post(
            "/login",
            data={
                "username": username,
                "password": "correct horse battery",
                "csrf_token": csrf_token(client, "/login"),
            },
        )
        assert resp.status_code == 429
    finally:
        with worker.app_context():
            db.engine.dispose()
        limiter.init_app(app)  # the extension object is shared: bind it back to the session's app

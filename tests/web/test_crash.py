"""A gunicorn worker killed (SIGKILL) in the middle of saving a payment with its voucher and invoice.

The application runs as in production: gunicorn, two workers, on a free localhost port, against a
database of its own (a temporary SQLite file, or a new PostgreSQL database next to TEST_DATABASE_URL).
Nothing in the application is changed for the test; the kill is driven from outside:

- at a spread of moments after the whole request body was sent (while the worker parses the upload,
  writes the files to their temporary names, inserts the rows, commits, moves the files in);
- right after the first temporary ``.part`` file appears in the upload folder (mid-save);
- on PostgreSQL, deterministically between staging and commit: the test holds a row lock the payment's
  INSERT needs (``FOR UPDATE`` on the user row its foreign key points at), waits until the worker is
  blocked on it with both files staged, and kills it there.

After every kill: the payment is either saved whole (its row, both evidence rows, both files) or not
at all, and after ``flask contracts sweep-uploads --hours 0`` the upload folder holds exactly the files
the evidence rows name: no orphaned file, no ``.part``, no row without its file. The other worker (and
the one gunicorn starts in place of the dead one) keeps serving.
"""

from __future__ import annotations

import http.client
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, text
from sqlalchemy import select as sql_select

from tests.conftest import TEST_SECRET
from tests.web.test_fuzz import fresh_database

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
FILE_SIZE = 3 * 1024 * 1024  # each of the two files: big enough for the save to take a while
START_TIMEOUT = 90
GUNICORN = [str(VENV_BIN / "gunicorn"), "-w", "2", "--preload", "--timeout", "60"]
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_TOKEN_RE = re.compile(r'name="form_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_token"')

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Server:
    """gunicorn with two workers; a tiny HTTP client with a cookie jar."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.port = _free_port()
        self.env = env
        config = tmp / "gunicorn.conf.py"  # not the project's: no start-up hook, no access log
        config.write_text("")
        self.log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*GUNICORN, "-c", str(config), "-b", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.cookies: dict[str, str] = {}

    def wait_ready(self, workers: int = 2) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "gunicorn exited"
            if len(_children(self.proc.pid)) >= workers:
                try:  # without the cookie: a signed-in /login redirects
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    conn.request("GET", "/login")
                    if conn.getresponse().status == 200:
                        return
                except OSError:
                    pass
                finally:
                    conn.close()
            time.sleep(0.1)
        raise AssertionError("gunicorn did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _keep_cookies(self, headers: list[tuple[str, str]]) -> None:
        for name, value in headers:
            if name.lower() == "set-cookie":
                jar = SimpleCookie()
                jar.load(value)
                for key, morsel in jar.items():
                    self.cookies[key] = morsel.value

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={**self._cookie_header(), **(headers or {})})
            resp = conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
            self._keep_cookies(resp.getheaders())
            return resp.status, data, dict(resp.getheaders())
        finally:
            conn.close()

    def login(self, username: str, password: str) -> None:
        _, html, _ = self.request("GET", "/login")
        body = _form({"username": username, "password": password, "csrf_token": _find(_CSRF_RE, html)})
        status, _, _ = self.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, status

    def worker_serving(self, client_port: int) -> int | None:
        """The worker pid holding the server side of our connection (found through /proc/net/tcp)."""
        local = f"0100007F:{self.port:04X}"
        remote = f"0100007F:{client_port:04X}"
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            parts = line.split()
            if parts[1] == local and parts[2] == remote:
                inode = parts[9]
        if inode is None:
            return None
        for pid in _children(self.proc.pid):
            try:
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
            except OSError:
                continue
        return None


def _find(pattern: re.Pattern, html: str) -> str:
    match = pattern.search(html)
    assert match, "token not found on the page"
    return match.group(1) or match.group(2)


def _form(fields: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = f"----fuzz{uuid.uuid4().hex}"
    out = []
    for name, value in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        )
        out += [head.encode(), content, b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def _pdf(size: int) -> bytes:
    head = b"%PDF-1.4\n%" + uuid.uuid4().hex.encode() + b"\n"
    return head + b"0" * (size - len(head) - 6) + b"\n%%EOF"


# --- the server and its data ------------------------------------------------------------------


@pytest.fixture(scope="module")
def crash_env() -> Iterator[dict]:
    from flask_migrate import upgrade

    from techmarket import create_app, matchindex
    from techmarket.extensions import db
    from tests.web.contracts_factory import PASSWORD, deal

    matchindex.reset_memory()
    with tempfile.TemporaryDirectory(prefix="techmarket-crash-") as tmp_name, fresh_database(tmp_name, "crash") as url:
        tmp = Path(tmp_name)
        uploads = tmp / "uploads"
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL",)},
            "APP_ENV": "development",
            "SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": url,
            "UPLOAD_FOLDER": str(uploads),
            "MATCHING_DIR": str(tmp / "matching"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "PYTHONPATH": str(ROOT),
        }
        setup_app = create_app(
            {
                "APP_ENV": "testing",
                "TESTING": True,
                "SECRET_KEY": TEST_SECRET,
                "SQLALCHEMY_DATABASE_URI": url,
                "UPLOAD_FOLDER": str(uploads),
                "MATCHING_DIR": str(tmp / "matching"),
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        with setup_app.app_context():
            upgrade()
            p = deal(setup_app, db.session, "draft")
            db.session.commit()
            info = {"contract_id": p["contract"].id, "user_id": p["buyer"].id, "username": p["buyer"].username}
            db.session.remove()
            db.engine.dispose()
        matchindex.reset_memory()
        server = Server(env, tmp)
        try:
            server.wait_ready()
            server.login(info["username"], PASSWORD)
            yield {**info, "server": server, "url": url, "uploads": uploads, "env": env, "tmp": tmp}
        finally:
            server.stop()
            matchindex.reset_memory()


def _payment_form(server: Server, contract_id: int) -> dict[str, str]:
    status, html, _ = server.request("GET", f"/contracts/{contract_id}/payments/new")
    assert status == 200, status
    return {
        "csrf_token": _find(_CSRF_RE, html),
        "form_token": _find(_TOKEN_RE, html),
        "paid_on": (date.today() - timedelta(days=3)).isoformat(),
        "amount": "1000.00",
        "technology_amount": "",
        "note": "崩溃测试",
    }


def _state(env: dict, contract_id: int, form_token: str) -> dict:
    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            payment_id = conn.execute(
                text("SELECT id FROM contract_payment WHERE form_token = :t"), {"t": form_token}
            ).scalar()
            evidence = (
                conn.execute(text("SELECT kind FROM contract_file WHERE payment_id = :p"), {"p": payment_id})
                .scalars()
                .all()
                if payment_id
                else []
            )
            names = set(conn.execute(text("SELECT stored_name FROM contract_file")).scalars())
            audits = conn.execute(
                text("SELECT COUNT(*) FROM audit_entry WHERE action = 'payment_add' AND object_id = :c"),
                {"c": str(contract_id)},
            ).scalar()
    finally:
        engine.dispose()
    return {"payment_id": payment_id, "evidence": sorted(evidence), "names": names, "payment_audits": audits}


def _sweep(env: dict) -> str:
    out = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "contracts", "sweep-uploads", "--hours", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout


def _files_on_disk(folder: Path) -> tuple[set[str], list[Path]]:
    files = {p.relative_to(folder).as_posix() for p in folder.glob("*/*/*") if p.is_file()}
    return {f for f in files if not f.endswith(".part")}, [p for p in folder.glob("*/*/*.part")]


def _check_all_or_nothing(
    crash_env: dict, form_token: str, audits_before: int, parts_before: int = 0
) -> tuple[str, int]:
    """The payment is whole or absent. Returns the outcome and how many temporary files the kill left."""
    state = _state(crash_env["env"], crash_env["contract_id"], form_token)
    if state["payment_id"] is None:
        outcome = "not saved"
        assert state["payment_audits"] == audits_before
    else:
        outcome = "saved"
        assert state["evidence"] == ["invoice", "voucher"], state
        assert state["payment_audits"] == audits_before + 1
    return outcome, len(_files_on_disk(crash_env["uploads"])[1]) - parts_before


def _sweep_and_check_the_folder(crash_env: dict) -> str:
    """After the daily sweep the folder holds exactly the files the rows name: no orphan, no .part."""
    report = _sweep(crash_env["env"])
    state = _state(crash_env["env"], crash_env["contract_id"], "-")
    files, parts = _files_on_disk(crash_env["uploads"])
    assert not parts, f"temporary files left after the sweep: {parts}"
    assert files == state["names"], f"orphaned: {files - state['names']}; missing: {state['names'] - files}"
    return report.strip()


def _send_upload(server: Server, contract_id: int) -> tuple[socket.socket, str]:
    """Send the whole payment request (two files) on a raw socket; returns it unread, and the form token."""
    fields = _payment_form(server, contract_id)
    body, ctype = _multipart(
        fields, {"voucher": ("凭证.pdf", _pdf(FILE_SIZE)), "invoice": ("发票.pdf", _pdf(FILE_SIZE))}
    )
    head = (
        f"POST /contracts/{contract_id}/payments/new HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in server._cookie_header().items())
        + "\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(head.encode() + body)
    return sock, fields["form_token"]


def _kill_serving_worker(server: Server, sock: socket.socket) -> int | None:
    pid = server.worker_serving(sock.getsockname()[1])
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
    return pid


def _audits(crash_env: dict) -> int:
    return _state(crash_env["env"], crash_env["contract_id"], "-")["payment_audits"]


def test_worker_killed_at_moments_during_a_payment_upload(crash_env):
    server: Server = crash_env["server"]
    outcomes = []
    for delay in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4):
        audits_before = _audits(crash_env)
        parts_before = len(_files_on_disk(crash_env["uploads"])[1])
        sock, token = _send_upload(server, crash_env["contract_id"])
        time.sleep(delay)
        pid = _kill_serving_worker(server, sock)
        sock.close()
        outcomes.append((delay, pid is not None, *_check_all_or_nothing(crash_env, token, audits_before, parts_before)))
        server.wait_ready()  # gunicorn replaced the dead worker
    swept = _sweep_and_check_the_folder(crash_env)
    print(f"\n[crash] (delay s, killed, outcome, .part files left): {outcomes}; sweep: {swept}")
    assert any(killed for _, killed, _, _ in outcomes)
    # the platform still works: the same form, not interrupted, saves the payment whole
    audits_before = _audits(crash_env)
    sock, token = _send_upload(server, crash_env["contract_id"])
    sock.settimeout(60)
    reply = sock.recv(200)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 302"), reply
    assert _check_all_or_nothing(crash_env, token, audits_before) == ("saved", 0)


def test_worker_killed_as_soon_as_the_first_file_is_staged(crash_env):
    server: Server = crash_env["server"]
    audits_before = _audits(crash_env)
    sock, token = _send_upload(server, crash_env["contract_id"])
    deadline = time.monotonic() + 30
    while not list(crash_env["uploads"].glob("*/*/*.part")) and time.monotonic() < deadline:
        if select.select([sock], [], [], 0.001)[0]:  # answered already: too late, kill the idle worker anyway
            break
    pid = _kill_serving_worker(server, sock)
    sock.close()
    outcome = _check_all_or_nothing(crash_env, token, audits_before)
    swept = _sweep_and_check_the_folder(crash_env)
    print(f"\n[crash] killed {pid} at the first .part file: {outcome}; sweep: {swept}")
    server.wait_ready()


def test_worker_killed_while_blocked_between_staging_and_commit(crash_env):
    """PostgreSQL: hold the row lock the payment's INSERT needs, so the worker waits there with both
    files staged, and kill it in that state. (SQLite takes its write lock at the first statement of the
    request, so no outside lock can stop a worker between its staging and its commit.)"""
    if not crash_env["url"].startswith("postgresql"):
        pytest.skip("a row lock held from outside needs PostgreSQL")
    server: Server = crash_env["server"]
    audits_before = _audits(crash_env)
    engine = create_engine(crash_env["url"])
    try:
        with engine.connect() as locker:
            locker.execute(text('SELECT id FROM "user" WHERE id = :u FOR UPDATE'), {"u": crash_env["user_id"]})
            sock, token = _send_upload(server, crash_env["contract_id"])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                locker.execute(text("SELECT pg_stat_clear_snapshot()"))  # else the view is frozen per transaction
                waiting = locker.execute(
                    text(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO contract_payment%'"
                    )
                ).scalar()
                if waiting:
                    break
                time.sleep(0.02)
            else:
                activity = locker.execute(
                    text(
                        "SELECT state, wait_event_type, left(query, 100) FROM pg_stat_activity "
                        "WHERE datname = current_database()"
                    )
                ).all()
                raise AssertionError(f"the worker never waited on the lock: {activity}")
            parts = list(crash_env["uploads"].glob("*/*/*.part"))
            assert len(parts) == 2, parts  # both files staged, nothing committed
            pid = _kill_serving_worker(server, sock)
            assert pid is not None
            sock.close()
            locker.rollback()
    finally:
        engine.dispose()
    # the dead worker's transaction is rolled back by the server once its connection drops
    deadline = time.monotonic() + 30
    while _state(crash_env["env"], crash_env["contract_id"], token)["payment_id"] is None:
        engine = create_engine(crash_env["url"])
        try:
            with engine.connect() as conn:
                busy = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND query ILIKE 'INSERT INTO contract_payment%' AND state <> 'idle'"
                    )
                ).scalar()
        finally:
            engine.dispose()
        if not busy or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert _check_all_or_nothing(crash_env, token, audits_before) == ("not saved", 2)
    print(f"\n[crash] killed {pid} blocked before commit; sweep: {_sweep_and_check_the_folder(crash_env)}")
    server.wait_ready()


def test_no_row_without_its_file(crash_env):
    """Whatever the kills left: every evidence row's file is there, and downloads work."""
    state = _state(crash_env["env"], crash_env["contract_id"], "-")
    files, parts = _files_on_disk(crash_env["uploads"])
    assert not parts and files == state["names"]
    engine = create_engine(crash_env["url"])
    try:
        with engine.connect() as conn:
            ids = (
                conn.execute(
                    sql_select(text("id"))
                    .select_from(text("contract_file"))
                    .where(text(f"contract_id = {crash_env['contract_id']}"))
                )
                .scalars()
                .all()
            )
            assert conn.execute(sql_select(func.count()).select_from(text("contract_payment"))).scalar() >= 1
    finally:
        engine.dispose()
    server: Server = crash_env["server"]
    for file_id in ids:
        status, _, headers = server.request("GET", f"/contracts/{crash_env['contract_id']}/files/{file_id}")
        assert status == 200 and "attachment" in headers.get("Content-Disposition", "")

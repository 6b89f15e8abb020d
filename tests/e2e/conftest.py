"""End-to-end tests: the real app in a subprocess, driven by Debian's chromium through Playwright.

Isolated from the rest of the suite: the server runs in its own process against its own SQLite file
(migrated like ``flask db upgrade`` and seeded by the ``flask seed`` command, in the server process), with its own UPLOAD_FOLDER and
MATCHING_DIR in a temp dir. TEST_DATABASE_URL is deliberately ignored here: the e2e walk always uses
its own SQLite file.

When chromium or Playwright is missing the tests are skipped locally and fail under CI=true.
"""

from __future__ import annotations

import importlib.util
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from techmarket import PROJECT_ROOT

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
STARTUP_TIMEOUT = 120  # seconds for migrate + seed + bind
E2E_SECRET = "e2e-secret-key-that-is-long-enough-0123456789abcdef"

# One process (importing the app costs seconds): `flask db upgrade`, `flask seed`, then serve on a free port.
_SERVE = """
import sys
from flask_migrate import upgrade
from werkzeug.serving import make_server
from wsgi import app
with app.app_context():
    upgrade()  # what `flask db upgrade` runs
    seeded = app.test_cli_runner().invoke(args=["seed", "--quiet"])  # `flask seed`
if seeded.exit_code != 0:
    print(seeded.output, seeded.exception, file=sys.stderr)
    sys.exit(1)
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


def _missing() -> str | None:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed (pip install -r requirements.txt)"
    return None


def _require_browser() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"e2e tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"e2e tests skipped: {reason}")


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a fresh, seeded techmarket served by werkzeug in a subprocess."""
    _require_browser()
    tmp = tmp_path_factory.mktemp("e2e")
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "FLASK_APP", "FLASK_DEBUG")}
    env.update(
        APP_ENV="development",
        SECRET_KEY=E2E_SECRET,
        DATABASE_URL=f"sqlite:///{tmp / 'e2e.db'}",
        UPLOAD_FOLDER=str(tmp / "uploads"),
        MATCHING_DIR=str(tmp / "matching"),
        RATELIMIT_STORAGE_URI="memory://",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    log = open(tmp / "server.log", "w", encoding="utf-8")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], STARTUP_TIMEOUT)
        port = proc.stdout.readline().strip() if ready and proc.stdout else ""
        if not port.isdigit():
            proc.kill()
            proc.wait(timeout=5)
            pytest.fail(f"e2e server did not start:\n{(tmp / 'server.log').read_text(encoding='utf-8')}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        log.close()


@pytest.fixture(scope="session")
def browser(e2e_server: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@dataclass
class BrowserLog:
    """What the pages said: console messages, uncaught errors and 5xx responses, JavaScript dialogs (alert…)."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Content-Security-Policy" in m]


@dataclass
class Actors:
    """One browser context (own cookies) per person, signed in on first use."""

    browser: object
    base_url: str
    artifacts: Path
    log: BrowserLog
    pages: dict = field(default_factory=dict)
    shots: list[Path] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def page(self, name: str, username: str | None = None, password: str | None = None):
        if name not in self.pages:
            context = self.browser.new_context(base_url=self.base_url, locale="zh-CN", accept_downloads=True)
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.on("console", lambda m, n=name: self.log.console.append(f"[{n}] {m.type}: {m.text} @ {page.url}"))
            page.on("pageerror", lambda e, n=name: self.log.errors.append(f"[{n}] {e}"))
            page.on(
                "response",
                lambda r, n=name: r.status >= 500 and self.log.errors.append(f"[{n}] HTTP {r.status} {r.url}"),
            )

            def on_dialog(dialog, n=name) -> None:
                self.log.dialogs.append(f"[{n}] {dialog.type}: {dialog.message}")
                dialog.dismiss()

            page.on("dialog", on_dialog)
            self.pages[name] = page
            if username:
                login(page, username, password)
        return self.pages[name]

    def login(self, page, username: str, password: str | None = None) -> None:
        login(page, username, password)

    def shot(self, page, label: str) -> Path:
        path = self.artifacts / f"{len(self.shots) + 1:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path


def login(page, username: str, password: str | None = None) -> None:
    from techmarket.seed import DEMO_PASSWORD

    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password or DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"login as {username} failed: {page.content()[:2000]}"


@pytest.fixture(scope="session")
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture(scope="session")
def actors(browser, e2e_server: str, artifacts: Path, browser_log: BrowserLog) -> Iterator[Actors]:
    crew = Actors(browser=browser, base_url=e2e_server, artifacts=artifacts, log=browser_log)
    yield crew
    for page in crew.pages.values():
        page.context.close()


# Ordered steps: once one fails, the later ones of the same module are skipped instead of failing noisily.
_failed_step: dict[str, str] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and item.get_closest_marker("e2e"):
        _failed_step.setdefault(item.module.__name__, item.name)


def pytest_runtest_setup(item):
    if item.get_closest_marker("e2e"):
        failed = _failed_step.get(item.module.__name__)
        if failed:
            pytest.skip(f"an earlier step of the walk failed: {failed}")

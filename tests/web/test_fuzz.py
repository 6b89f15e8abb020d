"""Property-based fuzzing of every form and every query string (hypothesis).

The forms are taken as the real pages post them: every GET URL of the route × role matrix is fetched as
each role, every ``<form method="post">`` on the page is parsed (fields, default values, options, the
CSRF token of that session), and hypothesis mutates the values: random Unicode (control characters,
NUL, RTL marks, emoji), very long strings, negative and huge numbers, malformed dates, a missing or
wrong CSRF token, other users' ids in the URL and in the fields, extra fields (mass assignment), files
that are not what they claim. GET routes get fuzzed query strings.

The bar: no response is a 5xx, and a refused request (4xx) changes no row. Rows are compared through a
fingerprint of every table (row count plus a hash of the contents) except the audit trail (refusals are
audited on purpose) and the derived search index (its row count is compared).

The fuzz runs against its own freshly migrated and seeded database (SQLite in a temporary folder, or a
new PostgreSQL database next to TEST_DATABASE_URL, dropped afterwards), so accepted mutations never touch
the rows the other tests rely on. The default run is small and reproducible (derandomized); a larger
run: ``FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/web/test_fuzz.py -q -s`` (the number of cases
tried is printed at the end of the module).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import re
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import make_url, text

from tests.conftest import TEST_SECRET
from tests.web.test_matrix import ANON, MATRIX, ROLES, clients, ids  # noqa: F401 - fixtures reused here

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 0)
POST_EXAMPLES = FUZZ_EXAMPLES or 150
GET_EXAMPLES = max(FUZZ_EXAMPLES // 3, 60)
SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}

#: tables whose every change is allowed on a refusal: the audit trail records refusals by design
UNCHECKED_TABLES = {"audit_entry", "alembic_version"}
#: large derived tables: compared by row count only
COUNT_ONLY_TABLES = {"listing_term"}
#: forms never fuzzed: logging out would end the shared session
SKIPPED_ACTIONS = {"/logout"}

STATS: Counter[str] = Counter()


# --- a database of our own --------------------------------------------------------------------


@contextmanager
def fresh_database(tmp_dir: str, tag: str) -> Iterator[str]:
    """A new empty database: SQLite in ``tmp_dir``, or a new PostgreSQL database on TEST_DATABASE_URL's
    server (created here and dropped here; never one we did not create)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_dir}/{tag}.db"
        return
    import psycopg

    url = make_url(base)
    name = f"{url.database}_{tag}_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def app():
    """This module's own app and database (overrides the session-wide ``app`` of conftest)."""
    from flask_migrate import upgrade

    from techmarket import create_app, matchindex
    from techmarket.extensions import db, limiter
    from techmarket.seed import load_accounts, load_listings, load_registry

    matchindex.reset_memory()  # the in-memory matcher belongs to the other database
    with tempfile.TemporaryDirectory(prefix="techmarket-fuzz-") as tmp, fresh_database(tmp, "fuzz") as url:
        fuzz_app = create_app(
            {
                "APP_ENV": "testing",
                "TESTING": True,
                "SECRET_KEY": TEST_SECRET,
                "SQLALCHEMY_DATABASE_URI": url,
                "RATELIMIT_STORAGE_URI": "memory://",
                "UPLOAD_FOLDER": str(Path(tmp) / "uploads"),
                "MATCHING_DIR": str(Path(tmp) / "matching"),
            }
        )
        with fuzz_app.app_context():
            upgrade()
            load_accounts(db.session)
            load_listings(db.session)
            load_registry(db.session)
            db.session.commit()
        limiter.reset()
        try:
            yield fuzz_app
        finally:
            with fuzz_app.app_context():
                db.session.remove()
                db.engine.dispose()
            matchindex.reset_memory()
            print(f"\n[fuzz] cases tried: {dict(sorted(STATS.items()))}")


# --- fingerprints of the data -----------------------------------------------------------------


def fingerprint(app) -> dict[str, tuple[int, str]]:
    from techmarket.extensions import db

    result = {}
    with app.app_context(), db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in UNCHECKED_TABLES:
                continue
            count_sql = f'SELECT COUNT(*) FROM "{table.name}"'  # noqa: S608 - the models' own table names
            count = conn.execute(text(count_sql)).scalar_one()
            digest = ""
            if table.name not in COUNT_ONLY_TABLES:
                order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns) or "1"
                rows_sql = f'SELECT * FROM "{table.name}" ORDER BY {order}'  # noqa: S608
                rows = conn.execute(text(rows_sql)).all()
                digest = hashlib.sha256(repr(rows).encode()).hexdigest()
            result[table.name] = (count, digest)
        conn.rollback()
    return result


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before if before[name] != after[name])


# --- the forms, as the pages post them ----------------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str  # text, hidden, checkbox, radio, select, textarea, file, password, submit, date, number...
    default: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class PageForm:
    role: str
    page: str
    action: str
    multipart: bool
    fields: dict[str, FormField]

    @property
    def key(self) -> str:
        return f"{self.role} POST {self.action} ({', '.join(sorted(self.fields))})"


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[tuple[str, bool, dict[str, FormField]]] = []
        self._form: dict[str, FormField] | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = a.get("action") or self.page
                multipart = a.get("enctype", "") == "multipart/form-data"
                self._form = {}
                self.forms.append((urlsplit(action).path or self.page, multipart, self._form))
            return
        if tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a or len(self._select.options) == 1:
                self._select.default = value
            return
        if self._form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            existing = self._form.get(name)
            if kind in ("radio", "checkbox", "submit") and existing is not None:
                existing.options.append(a.get("value", "on"))
                if "checked" in a:
                    existing.default = a.get("value", "on")
                return
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            default = value if kind not in ("checkbox", "radio") or "checked" in a else ""
            self._form[name] = FormField(
                name, kind, default, [value] if kind in ("radio", "checkbox", "submit") else []
            )
        elif tag == "button":
            existing = self._form.setdefault(name, FormField(name, "submit", a.get("value", "")))
            existing.options.append(a.get("value", ""))
        elif tag == "select":
            self._select = self._form.setdefault(name, FormField(name, "select"))
        elif tag == "textarea":
            self._textarea = self._form.setdefault(name, FormField(name, "textarea"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # a browser drops the one newline right after <textarea>
            self._textarea.default = re.sub(r"^\r?\n", "", self._textarea.default)
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.default += data


def parse_forms(role: str, page: str, html: str) -> list[PageForm]:
    parser = _FormParser(page)
    parser.feed(html)
    return [PageForm(role, page, action, multipart, fields) for action, multipart, fields in parser.forms]


EXTRA_PAGES = {  # pages that hold forms but are not GET rows of the matrix, and who opens them
    "/login": [ANON],
    "/register": [ANON],
    "/needs/new": ["enterprise"],
    "/achievements/new": ["institute"],
    "/needs/{enterprise_need}/edit": ["enterprise"],
    "/achievements/{published_achievement}": ["enterprise", "broker"],
    "/needs/{enterprise_need}": ["enterprise", "institute", "bureau"],
    "/contracts/{deal_contract}": ["enterprise", "institute", "broker", "bureau"],
    "/contracts/{registered_contract}": ["enterprise", "bureau"],
}
NO_FORMS = ("/static", "/bootstrap", ".xlsx", ".csv", "/files/")
#: one role per form: the first that gets past the access checks (the matrix covers the refusals)
ROLE_PREFERENCE = ["enterprise", "institute", "broker", "bureau", "admin", ANON]


def _get_urls(ids_: dict) -> list[str]:
    urls = [url.format(**ids_) for rows in MATRIX.values() for method, url, _ in rows if method == "GET"]
    urls += [url.format(**ids_) for url in EXTRA_PAGES]
    return list(dict.fromkeys(urls))


def _pages_by_role(ids_: dict) -> dict[str, list[str]]:
    """The pages each role can open (200 in the matrix), without downloads and exports."""
    pages: dict[str, list[str]] = {role: [] for role in ROLES}
    for rows in MATRIX.values():
        for method, url, expected in rows:
            for role in ROLES:
                path = url.format(**ids_)
                if method == "GET" and expected[role] == 200 and not any(m in path for m in NO_FORMS):
                    pages[role].append(path)
    for url, roles in EXTRA_PAGES.items():
        for role in roles:
            pages[role].append(url.format(**ids_))
    return {role: list(dict.fromkeys(urls)) for role, urls in pages.items()}


@pytest.fixture(scope="module")
def page_forms(app, clients, ids) -> list[PageForm]:  # noqa: F811 - the matrix's fixtures, this module's app
    """Every POST form on every page, as the first role (in ROLE_PREFERENCE) that can open it shows it."""
    found: dict[tuple[str, tuple[str, ...]], PageForm] = {}
    for role, urls in sorted(_pages_by_role(ids).items(), key=lambda kv: ROLE_PREFERENCE.index(kv[0])):
        client = clients[role]
        for url in urls:
            resp = client.get(url)
            if resp.status_code != 200 or not resp.headers.get("Content-Type", "").startswith("text/html"):
                resp.close()
                continue
            for form in parse_forms(role, url, resp.get_data(as_text=True)):
                if form.action not in SKIPPED_ACTIONS:
                    found.setdefault((re.sub(r"\d+", "N", form.action), tuple(sorted(form.fields))), form)
    forms = sorted(found.values(), key=lambda f: f.key)
    actions = {re.sub(r"\d+", "N", f.action) for f in forms}
    assert len(actions) >= 25, f"too few forms found: {sorted(actions)}"
    return forms


# --- values -----------------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e\u200f反转\u200e",
    "\ufeff",
    "😀🔧🏭",
    "\r\n注入: x",
    "<img src=x onerror=alert(1)>",
    "' OR 1=1 --",
    "%00%0d%0a",
    "../../../etc/passwd",
    "-1",
    "0",
    "-0",
    "-0.01",
    "0.001",
    "1e309",
    "1e-400",
    "NaN",
    "Infinity",
    "-Infinity",
    "9" * 40,
    "-" + "9" * 40,
    "99999999999999999999.99",
    "1,000,000",
    "１２３４５",
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "9999-12-31",
    "10000-01-01",
    "1900-01-01",
    "2026/11/26",
    "２０２６－１１－２６",
    "yesterday",
    "2026-11-26T00:00:00",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "已登记",
    "approved",
    "registered",
    "on",
    "true",
]

_chars = st.characters(blacklist_categories=("Cs",))
unicode_text = st.text(_chars, max_size=40)
control_text = st.text(st.characters(max_codepoint=0x3F), max_size=20)
long_text = st.builds(lambda n, ch: ch * n, st.integers(200, 30_000), st.sampled_from(["长", "a", "\u202e", "😀", "9"]))
numbers = st.one_of(
    st.integers(-(2**80), 2**80).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.tuples(st.integers(-5, 99999), st.integers(-1, 99), st.integers(-1, 99)).map(lambda t: f"{t[0]}-{t[1]}-{t[2]}"),
)


def values(id_pool: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY),
        unicode_text,
        control_text,
        long_text,
        numbers,
        dates,
        st.sampled_from(id_pool),
    )


FILES = {
    "pdf": (b"%PDF-1.4\n%fuzz\n%%EOF\n", "合同.pdf"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "凭证.png"),
    "html-as-pdf": (b"<html><script>alert(1)</script></html>", "invoice.pdf"),
    "exe": (b"MZ\x90\x00" + b"\x00" * 60, "../../evil.exe"),
    "empty": (b"", "空.pdf"),
    "xlsx-garbage": (b"PK\x03\x04garbage", "名录.xlsx"),
    "rtl-name": (b"%PDF-1.4\n%%EOF\n", "\u202egpj.exe\x00.pdf"),
}


@st.composite
def mutated_post(draw, forms: list[PageForm], id_pool: list[str], path_ids: list[str]):
    form = draw(st.sampled_from(forms))
    data: dict[str, object] = {}
    # mostly the form as the page filled it with one field changed (reaches the services' own checks),
    # sometimes every field drawn independently
    single = draw(st.sampled_from(sorted(form.fields))) if draw(st.integers(0, 2)) else None
    for name, fld in form.fields.items():
        if single is None:
            choice = draw(st.sampled_from(["keep", "keep", "fuzz", "option", "drop"]))
        else:
            choice = draw(st.sampled_from(["fuzz", "fuzz", "option", "drop"])) if name == single else "keep"
        if fld.kind == "file":
            kind = draw(st.sampled_from([*FILES, "none"]))
            if kind != "none":
                content, filename = FILES[kind]
                data[name] = (BytesIO(content), filename)
            continue
        if name == "csrf_token" and single is None:
            choice = draw(st.sampled_from(["keep"] * 6 + ["drop", "fuzz"]))
        if choice == "keep":
            data[name] = fld.default
        elif choice == "option" and fld.options:
            data[name] = draw(st.sampled_from(fld.options))
        elif choice == "fuzz":
            data[name] = draw(values(id_pool))
    if draw(st.integers(0, 4)) == 0:  # mass assignment: fields no form has
        extra = draw(st.sampled_from(["status", "org_id", "role", "version", "broker_id", "id", "registration_no"]))
        data[extra] = draw(values(id_pool))
    action = form.action
    numbers_in_path = re.findall(r"/(\d+)(?=/|$)", action)
    if numbers_in_path and draw(st.integers(0, 3)) == 0:  # someone else's object under the same route
        old = draw(st.sampled_from(numbers_in_path))
        action = re.sub(rf"/{old}(?=/|$)", "/" + draw(st.sampled_from(path_ids)), action, count=1)
    return form, action, data


def _id_pool(ids_: dict) -> tuple[list[str], list[str]]:
    pool = sorted({str(v) for v in ids_.values() if isinstance(v, int)})
    return [*pool, "0", "-1", "999999", "2147483648", "1.5", "1e3", "a"], [*pool, "0", "999999", "2147483648"]


_last_fingerprint: dict[int, dict] = {}


def checked(app, role: str, method: str, url: str, send) -> int:
    """Send one request; no 5xx, and no row changed unless it was an accepted POST.

    One fingerprint per request: the one taken after the previous request is this one's "before"
    (nothing else writes to this module's database)."""
    before = _last_fingerprint.pop(id(app), None) or fingerprint(app)
    resp = send()
    status = resp.status_code
    resp.close()
    after = _last_fingerprint[id(app)] = fingerprint(app)
    STATS[f"{method} {status // 100}xx"] += 1
    assert status < 500, f"{role} {method} {url!r} -> {status}"
    if status >= 400 or method == "GET":
        changed = changed_tables(before, after)
        assert not changed, f"{role} {method} {url!r} -> {status} changed rows in {changed}"
    return status


# --- what the fuzz found, pinned -----------------------------------------------------------------

HUGE = "9" * 25


def test_regressions_found_by_the_fuzz(app, clients, ids):  # noqa: F811
    """Each of these was a 500 (SQLite's driver cannot bind a 25-digit id; "²" passes ``str.isdigit`` but
    not ``int``; PostgreSQL refuses NUL in text before the query runs). Runs before the fuzz changes the
    seeded rows."""
    ent, broker = clients["enterprise"], clients["broker"]
    assert ent.get(f"/contracts/{HUGE}").status_code == 404
    assert clients[ANON].get(f"/orgs/{HUGE}").status_code == 404
    assert ent.get(f"/contracts/new?case={HUGE}").status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', broker.get("/broker/queue").get_data(as_text=True))
    claim = {"need_id": HUGE, "achievement_id": HUGE, "csrf_token": token.group(1)}
    assert broker.post("/broker/claim", data=claim).status_code == 404
    edit = f"/needs/{ids['enterprise_need']}/edit"
    form = next(f for f in parse_forms("enterprise", edit, ent.get(edit).get_data(as_text=True)) if f.action == edit)
    data = {n: (f.options[:1] if n == "cooperation" else f.default) for n, f in form.fields.items()}
    resp = ent.post(edit, data={**data, "version": "²"})
    assert resp.status_code == 409 and "已被他人修改" in resp.get_data(as_text=True)
    anon = app.test_client()
    login_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', anon.get("/login").get_data(as_text=True))
    resp = anon.post("/login", data={"username": "enter\x00prise", "password": "x" * 10, "csrf_token": login_token[1]})
    assert resp.status_code == 400 and "控制字符" in resp.get_data(as_text=True)
    assert ent.get("/achievements/?q=%00").status_code == 400


# --- the properties ---------------------------------------------------------------------------


def test_every_form_with_nasty_values_everywhere(app, clients, ids, page_forms):  # noqa: F811
    """A deterministic sweep first, so every form is covered whatever hypothesis draws later: each form
    with every field set to one nasty value (per payload), and once without its CSRF token (400)."""
    payloads = ["a\x00\u202e😀\r\n", "-" + "9" * 30, "2026-02-30", "长" * 5000]
    for form, payload in itertools.product(page_forms, payloads):
        data = {n: (f.default if n == "csrf_token" else payload) for n, f in form.fields.items() if f.kind != "file"}
        send = functools.partial(clients[form.role].post, form.action, data=data)
        checked(app, form.role, "POST", form.action, send)
    for form in page_forms:
        data = {n: f.default for n, f in form.fields.items() if n != "csrf_token" and f.kind != "file"}
        send = functools.partial(clients[form.role].post, form.action, data=data)
        status = checked(app, form.role, "POST", form.action, send)
        assert status == 400, f"{form.key} without a CSRF token -> {status}"
    STATS["forms"] = len(page_forms)
    STATS["form actions"] = len({re.sub(r"\d+", "N", f.action) for f in page_forms})


def test_fuzzed_forms_never_5xx_and_refusals_change_nothing(app, clients, ids, page_forms):  # noqa: F811
    id_pool, path_ids = _id_pool(ids)

    @settings(max_examples=POST_EXAMPLES, **SETTINGS)
    @given(case=mutated_post(page_forms, id_pool, path_ids))
    def run(case):
        form, action, data = case
        checked(app, form.role, "POST", action, lambda: clients[form.role].post(action, data=data))

    run()


QUERY_NAMES = [
    "q", "status", "case", "min", "max", "field", "town", "kind", "page", "sort", "pilot_base", "year",
    "category", "level", "action", "next", "maturity", "ip", "coop", "format", "id", "\x00", "😀",
]  # fmt: skip


def test_fuzzed_query_strings_never_5xx_and_change_nothing(app, clients, ids):  # noqa: F811
    urls = [u for u in _get_urls(ids) if not u.startswith(("/static", "/bootstrap"))]
    id_pool, _ = _id_pool(ids)
    query = st.lists(st.tuples(st.sampled_from(QUERY_NAMES) | unicode_text, values(id_pool)), max_size=5)

    @settings(max_examples=GET_EXAMPLES, **SETTINGS)
    @given(role=st.sampled_from(ROLES), url=st.sampled_from(urls), params=query)
    def run(role, url, params):
        full = f"{url}?{urlencode(params)}" if params else url
        full = full[:8000]  # beyond what any browser or proxy sends
        checked(app, role, "GET", full, lambda: clients[role].get(full))

    run()

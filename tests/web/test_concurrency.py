"""Eight clients at once, through HTTP (separate test clients in threads), on SQLite and PostgreSQL.

- eight clerks registering one contract: exactly one result (one 登记编号, one audit entry);
- eight clerks approving one reward round: exactly one approval;
- eight windows editing one listing, each with the version it loaded (and reloading after a conflict):
  every accepted edit is an ancestor of the final version, the final text is the last accepted, and
  every refused one got the Chinese conflict message (409) with its text kept in the form.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from techmarket.extensions import db
from techmarket.models import AuditEntry, Contract, Need, RewardRound, RoundAdjustment
from tests.conftest import any_csrf_token, csrf_token, login, make_org, make_user
from tests.web.contracts_factory import TODAY, deal, new_registration_no

N = 8
JOIN_TIMEOUT = 120
PW = "correct horse battery"
_VERSION_RE = re.compile(r'name="version"[^>]*value="(\d*)"|value="(\d*)"[^>]*name="version"')


def run_at_once(work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` for i in 0..N-1 in N threads released together; returns the results in order."""
    barrier = threading.Barrier(N, timeout=JOIN_TIMEOUT)
    results: list[object] = [None] * N
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert not errors, errors
    return results


def _last_audit_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEntry.id))) or 0


def signed_in(app, username: str, password: str | None = None):
    client = app.test_client()
    login(client, username, password)
    return client


# --- contract registration --------------------------------------------------------------------


def test_eight_clerks_registering_one_contract_give_one_result(app):
    with app.app_context():
        contract_id = deal(app, db.session, "submitted")["contract"].id
        db.session.commit()
    clerks = [signed_in(app, "bureau") for _ in range(N)]
    tokens = [any_csrf_token(c) for c in clerks]
    numbers = [new_registration_no() for _ in range(N)]
    last_entry = _last_audit_id(app)

    def register(i: int):
        resp = clerks[i].post(
            f"/contracts/{contract_id}/review",
            data={
                "decision": "register",
                "registration_no": numbers[i],
                "registered_on": TODAY.isoformat(),
                "technology_amount": "",
                "csrf_token": tokens[i],
            },
        )
        return resp.status_code, resp.get_data(as_text=True)

    results = run_at_once(register)
    codes = sorted(code for code, _ in results)
    assert codes == [302] + [409] * (N - 1), codes
    assert all("已登记" in html for code, html in results if code == 409)  # 合同当前状态为“已登记”…
    winner = numbers[[code for code, _ in results].index(302)]
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.status.value == "registered" and contract.registration_no == winner
        entries = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "contract_register",
                AuditEntry.object_id == str(contract_id),
                AuditEntry.id > last_entry,
            )
        ).all()
        assert len(entries) == 1 and entries[0].detail["registration_no"] == winner
        taken = db.session.scalar(
            select(func.count()).select_from(Contract).where(Contract.registration_no.in_(numbers))
        )
        assert taken == 1


def test_eight_contracts_registered_at_once_under_one_number_give_one(app):
    with app.app_context():
        ids = [deal(app, db.session, "submitted")["contract"].id for _ in range(N)]
        db.session.commit()
    clerks = [signed_in(app, "bureau") for _ in range(N)]
    tokens = [any_csrf_token(c) for c in clerks]
    number = new_registration_no()

    def register(i: int) -> int:
        data = {"decision": "register", "registration_no": number, "registered_on": TODAY.isoformat()}
        return clerks[i].post(f"/contracts/{ids[i]}/review", data={**data, "csrf_token": tokens[i]}).status_code

    codes = run_at_once(register)
    assert codes.count(302) == 1 and all(c in (409, 422) for c in codes if c != 302), codes
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Contract).where(Contract.registration_no == number)) == 1
        )
        registered = db.session.scalar(
            select(func.count()).select_from(Contract).where(Contract.id.in_(ids), Contract.status == "registered")
        )
        assert registered == 1


# --- reward rounds ----------------------------------------------------------------------------

ROUND_YEAR = 2011  # a year without contracts, used by no other test


@pytest.fixture
def rounds(app):
    def clean() -> None:
        with app.app_context():
            mine = select(RewardRound.id).where(RewardRound.year == ROUND_YEAR)
            db.session.execute(delete(RoundAdjustment).where(RoundAdjustment.round_id.in_(mine)))
            db.session.execute(delete(RewardRound).where(RewardRound.year == ROUND_YEAR))
            db.session.commit()

    clean()
    yield
    clean()


def open_round(client) -> int:
    resp = client.post(
        "/bureau/rewards/",
        data={"year": ROUND_YEAR, "policy_id": "yanshi-2021", "csrf_token": any_csrf_token(client)},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def approved_rounds(app) -> list[int]:
    with app.app_context():
        stmt = select(RewardRound.id).where(RewardRound.year == ROUND_YEAR, RewardRound.status == "approved")
        return list(db.session.scalars(stmt))


def test_eight_clerks_approving_one_round_give_one_approval(app, rounds):
    clerks = [signed_in(app, "bureau") for _ in range(N)]
    round_id = open_round(clerks[0])
    tokens = [any_csrf_token(c) for c in clerks]
    last_entry = _last_audit_id(app)  # round ids are reused once other tests delete rounds
    codes = run_at_once(
        lambda i: clerks[i].post(f"/bureau/rewards/{round_id}/approve", data={"csrf_token": tokens[i]}).status_code
    )
    assert sorted(codes) == [302] + [409] * (N - 1), codes
    assert approved_rounds(app) == [round_id]
    with app.app_context():
        approvals = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "reward_round_approve", AuditEntry.id > last_entry)
        )
    assert approvals == 1


def test_eight_clerks_approving_a_recomputed_round_supersede_the_old_one_once(app, rounds):
    clerks = [signed_in(app, "bureau") for _ in range(N)]
    first = open_round(clerks[0])
    assert (
        clerks[0].post(f"/bureau/rewards/{first}/approve", data={"csrf_token": any_csrf_token(clerks[0])}).status_code
        == 302
    )
    second = open_round(clerks[0])  # a new draft of the same year: approving it supersedes the first
    tokens = [any_csrf_token(c) for c in clerks]
    codes = run_at_once(
        lambda i: clerks[i].post(f"/bureau/rewards/{second}/approve", data={"csrf_token": tokens[i]}).status_code
    )
    assert sorted(codes) == [302] + [409] * (N - 1), codes
    assert approved_rounds(app) == [second]
    with app.app_context():
        assert db.session.get(RewardRound, first).status == "superseded"


# --- listing edits ----------------------------------------------------------------------------


def _need_form(title: str, version: str, token: str) -> dict:
    return {
        "title": title,
        "description": "三轮车车架用CO2保护焊，焊缝气孔多，返修率8%左右。",
        "expected_outcome": "焊缝一次合格率达到98%以上。",
        "field": "advanced_manufacturing",
        "budget_min": "100000",
        "budget_max": "300000",
        "deadline": (date.today() + timedelta(days=90)).isoformat(),
        "cooperation": ["joint_development"],
        "confidential_details": "",
        "version": version,
        "csrf_token": token,
    }


def test_eight_windows_editing_one_listing(app):
    with app.app_context():
        org = make_org(db.session, "enterprise")
        owner = make_user(db.session, "enterprise", org=org, password=PW).username
        db.session.commit()
    windows = [signed_in(app, owner, PW) for _ in range(N)]
    create_token = csrf_token(windows[0], "/needs/new")
    resp = windows[0].post("/needs/new", data=_need_form("初始标题", "", create_token))
    assert resp.status_code == 302
    need_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        initial = db.session.get(Need, need_id).version
    url = f"/needs/{need_id}/edit"

    def load(client) -> tuple[str, str]:
        html = client.get(url).get_data(as_text=True)
        match = _VERSION_RE.search(html)
        assert match, "no version on the edit page"
        return match.group(1) or match.group(2), csrf_token(client, url)

    last_entry = _last_audit_id(app)
    loaded = [load(w) for w in windows]  # every window opened the form before anyone saved
    accepted: list[tuple[int, str]] = []
    refused: list[str] = []

    def edit(i: int) -> None:
        version, token = loaded[i]
        for attempt in range(3):
            title = f"窗口{i}第{attempt}次修改"
            resp = windows[i].post(url, data=_need_form(title, version, token))
            html = resp.get_data(as_text=True)
            if resp.status_code == 302:
                accepted.append((int(version), title))
                return
            assert resp.status_code == 409, (resp.status_code, html[:500])
            assert "已被他人修改" in html and title in html  # Chinese message, the loser's text kept
            refused.append(title)
            version, token = load(windows[i])  # reload and try again with what is there now

    run_at_once(edit)
    assert accepted and refused, (accepted, refused)
    accepted.sort()
    versions = [v for v, _ in accepted]
    # every accepted edit was made on the version the one before it produced: a single line of history
    assert versions == list(range(initial, initial + len(accepted))), versions
    with app.app_context():
        need = db.session.get(Need, need_id)
        assert need.version == initial + len(accepted)
        assert need.title == accepted[-1][1]
        history = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.object_id == str(need_id),
                AuditEntry.action == "edit_listing",
                AuditEntry.id > last_entry,
            )
        )
    assert history == len(accepted)

"""Reward rounds in the platform: computed from registered contracts, adjusted, approved once, frozen, exported."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from techmarket.domain.contracts import EvidenceKind
from techmarket.extensions import db
from techmarket.models import RewardRound, RoundAdjustment
from techmarket.services import contracts as contract_svc
from tests.conftest import any_csrf_token, login
from tests.web.contracts_factory import PASSWORD, TODAY, attach, clerk, deal

PAID_ON = TODAY - timedelta(days=100)
YEAR = PAID_ON.year


@pytest.fixture(autouse=True)
def no_open_rounds(app):
    """Rounds are global per year and policy: each test starts with none open or approved.

    Earlier rounds are set aside (marked superseded), not deleted, so no id is ever reused under the
    audit entries that name it."""
    with app.app_context():
        db.session.execute(
            update(RewardRound).where(RewardRound.status.in_(("draft", "approved"))).values(status="superseded")
        )
        db.session.commit()


@pytest.fixture
def registered(app):
    """A registered contract (成交额 1,000,000, 技术交易额 800,000) with one evidenced payment of 500,000."""
    with app.app_context():
        p = deal(app, db.session, "registered")
        contract = p["contract"]
        payment = contract_svc.add_payment(
            db.session,
            clerk(db.session),
            contract,
            paid_on=PAID_ON,
            amount=Decimal("500000.00"),
            technology_amount=None,
            confirm_over_total=False,
            today=TODAY,
        )
        for kind in (EvidenceKind.VOUCHER, EvidenceKind.INVOICE):
            attach(app, db.session, clerk(db.session), contract, kind, payment=payment)
        db.session.commit()
        return {
            "contract_id": contract.id,
            "registration_no": contract.registration_no,
            "buyer_code": p["buyer_org"].credit_code,
            "buyer": p["buyer"].username,
            "outsider": p["outsider"].username,
        }


def bureau(app):
    c = app.test_client()
    login(c, "bureau")
    return c


def post(client, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": any_csrf_token(client)})


def open_round(client, year=YEAR, policy="yanshi-2021"):
    resp = post(client, "/bureau/rewards/", {"year": year, "policy_id": policy})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def award_of(app, round_id, code, kind="buyer"):
    with app.app_context():
        r = db.session.get(RewardRound, round_id)
        return next(a for a in r.result["awards"] if a["recipient"] == code and a["kind"] == kind)


def test_round_computes_the_buyer_award_from_evidenced_payments(app, registered):
    round_id = open_round(bureau(app))
    award = award_of(app, round_id, registered["buyer_code"])
    # by hand: technical portion 500,000 × 800,000 / 1,000,000 = 400,000; × 5% = 20,000.00
    assert award["amount"] == "20000.00"
    assert "400,000.00 元 × 5% = 20,000.00 元" in award["explanation"]
    page = bureau(app).get(f"/bureau/rewards/{round_id}").get_data(as_text=True)
    assert "20000.00" in page and registered["registration_no"] in page


def test_exclusion_with_reason_then_undo(app, registered):
    client = bureau(app)
    round_id = open_round(client)
    no_reason = post(
        client,
        f"/bureau/rewards/{round_id}/exclude",
        {"contract_id": registered["registration_no"], "award_kind": "buyer", "reason": ""},
    )
    assert no_reason.status_code == 422
    assert (
        post(
            client,
            f"/bureau/rewards/{round_id}/exclude",
            {"contract_id": registered["registration_no"], "award_kind": "buyer", "reason": "发票抬头与买方名称不一致"},
        ).status_code
        == 302
    )
    award = award_of(app, round_id, registered["buyer_code"])
    assert award["amount"] == "0.00" and "发票抬头与买方名称不一致" in award["explanation"]
    with app.app_context():
        adjustment_id = db.session.scalar(select(RoundAdjustment.id).where(RoundAdjustment.round_id == round_id))
    post(client, f"/bureau/rewards/{round_id}/adjustments/{adjustment_id}/delete")
    assert award_of(app, round_id, registered["buyer_code"])["amount"] == "20000.00"


def test_prior_luoyang_award_excludes_the_contract(app, registered):
    client = bureau(app)
    round_id = open_round(client)
    resp = post(
        client,
        f"/bureau/rewards/{round_id}/prior",
        {
            "award_kind": "buyer",
            "recipient": registered["buyer_code"],
            "contract_id": registered["registration_no"],
            "prior_year": YEAR,
            "amount": "15000",
            "reason": "洛科〔2026〕12号",
        },
    )
    assert resp.status_code == 302
    award = award_of(app, round_id, registered["buyer_code"])
    assert award["amount"] == "0.00" and "不重复奖励" in award["explanation"]


def test_approval_freezes_and_cannot_pay_twice(app, registered):
    client = bureau(app)
    round_id = open_round(client)
    assert post(client, f"/bureau/rewards/{round_id}/approve").status_code == 302
    again = post(client, f"/bureau/rewards/{round_id}/approve")
    assert again.status_code == 409 and "已冻结" in again.get_data(as_text=True)
    assert post(client, f"/bureau/rewards/{round_id}/recompute").status_code == 409
    # a later payment does not change the approved round
    with app.app_context():
        contract = db.session.get(contract_svc.Contract, registered["contract_id"])
        payment = contract_svc.add_payment(
            db.session,
            clerk(db.session),
            contract,
            paid_on=PAID_ON,
            amount=Decimal("100000.00"),
            technology_amount=None,
            confirm_over_total=False,
            today=TODAY,
        )
        for kind in (EvidenceKind.VOUCHER, EvidenceKind.INVOICE):
            attach(app, db.session, clerk(db.session), contract, kind, payment=payment)
        db.session.commit()
    assert award_of(app, round_id, registered["buyer_code"])["amount"] == "20000.00"
    # recomputing makes a new draft that shows the difference; approving it supersedes the first
    second = open_round(client)
    page = client.get(f"/bureau/rewards/{second}").get_data(as_text=True)
    assert f"与第{round_id}轮" in page and "+4,000.00" in page  # 100,000 × 0.8 × 5% = 4,000
    assert post(client, f"/bureau/rewards/{second}/approve").status_code == 302
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(RewardRound.id, RewardRound.status).where(RewardRound.id.in_((round_id, second)))
            ).all()
        )
    assert statuses == {round_id: "superseded", second: "approved"}


def test_concurrent_approvals_give_one_result(app, registered):
    round_id = open_round(bureau(app))
    clients = [bureau(app) for _ in range(4)]
    tokens = [any_csrf_token(c) for c in clients]
    barrier = threading.Barrier(len(clients))
    codes = []

    def approve(c, token):
        barrier.wait()
        codes.append(c.post(f"/bureau/rewards/{round_id}/approve", data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=approve, args=(c, t)) for c, t in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [302, 409, 409, 409]
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(RewardRound).where(RewardRound.status == "approved"))
            == 1
        )


def test_excel_and_csv_exports_hold_the_amounts(app, registered):
    client = bureau(app)
    round_id = open_round(client)
    resp = client.get(f"/bureau/rewards/{round_id}/export.xlsx")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("单位名称", "统一社会信用代码", "奖励类型", "本年度技术交易额基数（元）", "奖励金额（元）")
    mine = [r for r in rows[1:] if r[1] == registered["buyer_code"]]
    assert mine and Decimal(str(mine[0][4])) == Decimal("20000.00") and Decimal(str(mine[0][3])) == Decimal("400000")
    csv_text = client.get(f"/bureau/rewards/{round_id}/export.csv").data.decode("utf-8-sig")
    assert registered["buyer_code"] in csv_text and "20000.00" in csv_text


def test_units_see_only_their_own_approved_awards(app, registered):
    client = bureau(app)
    round_id = open_round(client)
    buyer = app.test_client()
    login(buyer, registered["buyer"], PASSWORD)
    assert "20000.00" not in buyer.get("/my/rewards").get_data(as_text=True)  # a draft is not shown
    post(client, f"/bureau/rewards/{round_id}/approve")
    page = buyer.get("/my/rewards").get_data(as_text=True)
    assert "20000.00" in page and "× 5%" in page
    outsider = app.test_client()
    login(outsider, registered["outsider"], PASSWORD)
    assert "20000.00" not in outsider.get("/my/rewards").get_data(as_text=True)


def test_bad_round_requests(app):
    client = bureau(app)
    future = post(client, "/bureau/rewards/", {"year": TODAY.year + 1, "policy_id": "yanshi-2021"})
    assert future.status_code == 422 and "奖励年度应在" in future.get_data(as_text=True)
    unknown = post(client, "/bureau/rewards/", {"year": YEAR, "policy_id": "shanghai-2030"})
    assert unknown.status_code == 422

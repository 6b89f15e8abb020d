"""Recommendations on listing pages, index freshness, the broker's queue, cases, acceptances, notifications."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from techmarket import matchindex
from techmarket.domain.cases import CaseStatus
from techmarket.domain.listings import Cooperation, IPType, ListingStatus, Maturity, TechField, cooperation_mask
from techmarket.extensions import db
from techmarket.models import Achievement, MatchCase, Need, Notification, User
from techmarket.models.types import utcnow
from techmarket.services.listings import reindex
from tests.conftest import any_csrf_token, login, make_org, make_user, unique_name

PW = "correct horse battery"
KILN_NEED = (
    "隧道窑外壁太烫，燃气用量大",
    "我们厂两条隧道窑烧高铝砖，窑外壁温度有一百多度，车间热得待不住，天然气一个月用二十多万方。"
    "想把窑墙保温隔热改一改，降低燃气消耗和散热损失。",
)
KILN_ACH = (
    "隧道窑微孔轻质莫来石隔热内衬节能改造",
    "针对隧道窑窑外壁温度高、散热损失大、天然气消耗高的问题，用微孔轻质莫来石隔热耐火砖重新设计窑墙保温内衬，"
    "窑外壁温度由120℃降至60℃以下，隧道窑燃气消耗下降15%以上，车间温度明显降低。",
)


def publish(session, model, org, title, text, **extra):
    today = date.today()
    common = dict(
        org=org,
        title=title,
        field=TechField.NEW_ENERGY,
        status=ListingStatus.PUBLISHED,
        cooperation_mask=cooperation_mask([Cooperation.SERVICE]),
        published_at=utcnow(),
        expires_on=today + timedelta(days=200),
    )
    if model is Achievement:
        item = Achievement(
            summary=text[:60],
            description=text,
            keywords=[],
            maturity=Maturity.INDUSTRIAL,
            ip_type=IPType.NONE,
            patent_numbers=[],
            **common,
            **extra,
        )
    else:
        item = Need(
            description=text,
            expected_outcome="",
            deadline=today + timedelta(days=200),
            confidential_details="窑型：RJ-120，燃气单价3.1元/方",
            **common,
            **extra,
        )
    session.add(item)
    session.flush()
    reindex(session, item)
    matchindex.bump_version(session)
    return item


@pytest.fixture
def pair(app):
    """A kiln need of a fresh enterprise and a matching achievement of a fresh university, both published."""
    with app.app_context():
        ent = make_org(db.session, "enterprise", name=f"偃师市{unique_name('')}耐材有限公司")
        uni = make_org(db.session, "university", name=f"测试{unique_name('')}大学")
        buyer = make_user(db.session, "enterprise", org=ent)
        seller = make_user(db.session, "institute", org=uni)
        need = publish(db.session, Need, ent, KILN_NEED[0], KILN_NEED[1])
        ach = publish(db.session, Achievement, uni, KILN_ACH[0], KILN_ACH[1])
        db.session.commit()
        ids = (need.id, ach.id)
        info = {
            "need": need.id,
            "ach": ach.id,
            "buyer": buyer.username,
            "seller": seller.username,
            "need_title": need.title,
            "ach_title": ach.title,
            "ent_name": ent.name,
        }
    yield info
    with app.app_context():  # leave the market as it was: a corpus of copies would skew every score
        for model, listing_id in zip((Need, Achievement), ids, strict=True):
            db.session.get(model, listing_id).status = ListingStatus.CLOSED
        matchindex.bump_version(db.session)
        db.session.commit()


def client_for(app, username):
    c = app.test_client()
    login(c, username, None if username in ("bureau", "broker", "admin", "institute", "enterprise") else PW)
    return c


def post(client, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": any_csrf_token(client)})


def test_need_page_recommends_the_achievement_with_highlighted_terms(client, pair):
    html = client.get(f"/needs/{pair['need']}").get_data(as_text=True)
    section = html.split("推荐的科技成果")[1]
    assert f"/achievements/{pair['ach']}" in section
    assert "<mark>" in section and "匹配度：" in section
    back = client.get(f"/achievements/{pair['ach']}").get_data(as_text=True).split("推荐的技术需求")[1]
    assert f"/needs/{pair['need']}" in back


def test_no_match_is_said_plainly(app, client):
    with app.app_context():
        ent = make_org(db.session, "enterprise")
        need = publish(
            db.session, Need, ent, f"员工食堂排班{unique_name('')}", "食堂阿姨排班表每周手工做，想要一个排班小程序。"
        )
        db.session.commit()
        need_id = need.id
    html = client.get(f"/needs/{need_id}").get_data(as_text=True)
    assert "暂无合适的科技成果" in html


def test_index_follows_publish_edit_and_close_without_full_refit(app, client, pair, monkeypatch):
    client.get(f"/needs/{pair['need']}")  # the index is current now
    monkeypatch.setattr(matchindex, "full_build", lambda *a, **k: pytest.fail("full refit on an edit"))
    with app.app_context():
        uni = make_org(db.session, "university")
        late = publish(
            db.session,
            Achievement,
            uni,
            f"隧道窑外壁散热诊断与保温节能改造{unique_name('')}",
            "对隧道窑外壁温度进行红外扫描，定位散热严重部位，" + KILN_ACH[1],
        )
        db.session.commit()
        late_id = late.id
    html = client.get(f"/needs/{pair['need']}").get_data(as_text=True)
    assert f"/achievements/{late_id}" in html.split("推荐的科技成果")[1]
    uni_user = None
    with app.app_context():
        uni_user = make_user(db.session, "institute", org=db.session.get(Achievement, late_id).org)
        db.session.commit()
        uni_user = uni_user.username
    owner = client_for(app, uni_user)
    assert post(owner, f"/achievements/{late_id}/action", {"action": "close"}).status_code == 302
    html = client.get(f"/needs/{pair['need']}").get_data(as_text=True)
    assert f"/achievements/{late_id}" not in html.split("推荐的科技成果")[1]


def test_a_fresh_worker_sees_the_same_results_from_the_saved_index(app, client, pair):
    first = client.get(f"/needs/{pair['need']}").get_data(as_text=True).split("推荐的科技成果")[1]
    matchindex.reset_memory()  # as if another gunicorn worker served the next request
    second = client.get(f"/needs/{pair['need']}").get_data(as_text=True).split("推荐的科技成果")[1]
    assert first == second


def test_confidential_details_never_reach_the_explanation(client, pair):
    html = client.get(f"/achievements/{pair['ach']}").get_data(as_text=True)
    assert "RJ-120" not in html and "3.1元/方" not in html


def test_broker_claims_and_second_claim_is_refused(app, pair):
    broker = client_for(app, "broker")
    queue = broker.get("/broker/queue").get_data(as_text=True)
    pair_html = (
        f'name="need_id" value="{pair["need"]}"><input type="hidden" name="achievement_id" value="{pair["ach"]}"'
    )
    assert pair_html in queue
    resp = post(broker, "/broker/claim", {"need_id": pair["need"], "achievement_id": pair["ach"]})
    assert resp.status_code == 302
    case_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        other = make_user(db.session, "broker", display_name="另一位经纪人")
        db.session.commit()
        other = other.username
    second = client_for(app, other)
    again = post(second, "/broker/claim", {"need_id": pair["need"], "achievement_id": pair["ach"]})
    assert again.status_code == 409 and "已经有对接项目" in again.get_data(as_text=True)
    assert pair_html not in second.get("/broker/queue").get_data(as_text=True)
    # both parties were told
    buyer = client_for(app, pair["buyer"])
    assert "推荐对接" in buyer.get("/notifications").get_data(as_text=True)
    assert buyer.get(f"/cases/{case_id}").status_code == 200


def test_two_brokers_claiming_at_once_exactly_one_wins(app, pair):
    with app.app_context():
        names = [make_user(db.session, "broker").username for _ in range(4)]
        db.session.commit()
    clients = [client_for(app, n) for n in names]
    tokens = [any_csrf_token(c) for c in clients]
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def claim(c, token):
        barrier.wait()
        r = c.post("/broker/claim", data={"need_id": pair["need"], "achievement_id": pair["ach"], "csrf_token": token})
        codes.append(r.status_code)

    threads = [threading.Thread(target=claim, args=(c, t)) for c, t in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [302, 409, 409, 409]
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(MatchCase)
            .where(MatchCase.need_id == pair["need"], MatchCase.achievement_id == pair["ach"])
        )
    assert count == 1


def _claimed(app, pair):
    broker = client_for(app, "broker")
    resp = post(broker, "/broker/claim", {"need_id": pair["need"], "achievement_id": pair["ach"]})
    return broker, int(resp.headers["Location"].rsplit("/", 1)[1])


def test_both_accept_then_contacts_and_confidential_details_open(app, pair):
    broker, case_id = _claimed(app, pair)
    buyer, seller = client_for(app, pair["buyer"]), client_for(app, pair["seller"])
    assert "RJ-120" not in seller.get(f"/needs/{pair['need']}").get_data(as_text=True)
    assert "RJ-120" in broker.get(f"/needs/{pair['need']}").get_data(as_text=True)  # the assigned broker may read
    assert post(buyer, f"/cases/{case_id}/answer", {"decision": "accept"}).status_code == 302
    assert "RJ-120" not in seller.get(f"/needs/{pair['need']}").get_data(as_text=True)
    assert post(seller, f"/cases/{case_id}/answer", {"decision": "accept"}).status_code == 302
    with app.app_context():
        case = db.session.get(MatchCase, case_id)
        assert case.status == CaseStatus.INTENT_CONFIRMED
        assert {(a.side.value, a.accepted) for a in case.acceptances} == {("buyer", True), ("seller", True)}
        assert all(a.at is not None and a.user_id for a in case.acceptances)
    assert "RJ-120" in seller.get(f"/needs/{pair['need']}").get_data(as_text=True)
    assert "双方确认对接意向后显示联系方式" not in seller.get(f"/cases/{case_id}").get_data(as_text=True)


def test_decline_ends_the_case_with_the_reason(app, pair):
    _, case_id = _claimed(app, pair)
    seller = client_for(app, pair["seller"])
    no_reason = post(seller, f"/cases/{case_id}/answer", {"decision": "decline"})
    assert no_reason.status_code == 422
    post(seller, f"/cases/{case_id}/answer", {"decision": "decline", "reason": "团队今年排满了"})
    with app.app_context():
        case = db.session.get(MatchCase, case_id)
        assert case.status == CaseStatus.FAILED and "团队今年排满了" in case.failure_reason


def test_status_machine_through_http(app, pair):
    broker, case_id = _claimed(app, pair)
    jump = post(broker, f"/cases/{case_id}/status", {"status": "signed"})
    assert jump.status_code == 409 and "不能从“已推荐”直接变更为“已签约”" in jump.get_data(as_text=True)
    for who in (pair["buyer"], pair["seller"]):
        post(client_for(app, who), f"/cases/{case_id}/answer", {"decision": "accept"})
    assert post(broker, f"/cases/{case_id}/status", {"status": "negotiating"}).status_code == 302
    assert (
        post(
            broker,
            f"/cases/{case_id}/entry",
            {
                "kind": "meeting",
                "text": "在窑炉现场测温并座谈",
                "occurred_on": date.today().isoformat(),
                "next_action": "出改造方案",
                "next_action_due": (date.today() + timedelta(days=7)).isoformat(),
            },
        ).status_code
        == 302
    )
    assert post(broker, f"/cases/{case_id}/status", {"status": "signed"}).status_code == 302
    page = broker.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "在窑炉现场测温并座谈" in page and "出改造方案" in page and "已签约" in page
    assert post(broker, f"/cases/{case_id}/status", {"status": "failed", "reason": "x"}).status_code == 409


def test_outsiders_cannot_see_a_case_or_the_anonymous_poster(app, pair):
    _, case_id = _claimed(app, pair)
    with app.app_context():
        stranger = make_user(db.session, "enterprise", org=make_org(db.session)).username
        db.session.commit()
    assert client_for(app, stranger).get(f"/cases/{case_id}").status_code == 404
    assert client_for(app, "institute").get(f"/cases/{case_id}").status_code == 404


def test_interest_starts_a_case_with_own_acceptance(app, pair):
    seller = client_for(app, pair["seller"])
    page = seller.get(f"/needs/{pair['need']}").get_data(as_text=True)
    assert "我感兴趣" in page
    resp = post(seller, "/cases/start", {"need_id": pair["need"], "achievement_id": pair["ach"]})
    assert resp.status_code == 302
    case_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        case = db.session.get(MatchCase, case_id)
        assert case.broker_id is None and [a.side.value for a in case.acceptances] == ["seller"]
    buyer = client_for(app, pair["buyer"])
    assert "有单位对您的发布感兴趣" in buyer.get("/notifications").get_data(as_text=True)
    with app.app_context():
        broker_id = db.session.scalar(select(User.id).where(User.username == "broker"))
    assert post(buyer, f"/cases/{case_id}/invite", {"broker_id": broker_id}).status_code == 302
    assert "您被邀请参与对接项目" in client_for(app, "broker").get("/notifications").get_data(as_text=True)


def test_notification_preferences_and_unread_count(app, pair):
    buyer = client_for(app, pair["buyer"])
    assert post(buyer, "/notifications/settings", {"acceptance": "1", "status": "1"}).status_code == 302
    _claimed(app, pair)  # an invitation: the buyer opted out of those
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == pair["buyer"]))
        assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == uid)) == 0
    seller = client_for(app, pair["seller"])
    nav = seller.get("/dashboard").get_data(as_text=True)
    assert "1 条未读" in nav
    post(seller, "/notifications/read")
    assert "条未读" not in seller.get("/dashboard").get_data(as_text=True)


def test_bureau_overview_counts(app, pair):
    _claimed(app, pair)
    html = client_for(app, "bureau").get("/bureau/cases").get_data(as_text=True)
    assert "对接总览" in html and pair["need_title"] in html


def test_approval_notifies_owners_of_strongly_matching_listings(app, pair):
    with app.app_context():
        uni = make_org(db.session, "university")
        author = make_user(db.session, "institute", org=uni).username
        db.session.commit()
    seller = client_for(app, author)
    form = {
        "title": f"隧道窑窑墙微孔莫来石轻质隔热砖内衬节能改造{unique_name('')}",
        "summary": KILN_ACH[1][:80],
        "description": KILN_ACH[1] + KILN_NEED[1],
        "field": "new_energy",
        "keywords": "隧道窑 隔热 燃气 节能",
        "maturity": "industrial",
        "trl": "8",
        "ip_type": "none",
        "patent_numbers": "",
        "cooperation": ["service"],
        "price": "",
        "team": "",
        "contact_name": "",
        "contact_phone": "",
        "version": "",
        "submit_for_review": "1",
    }
    resp = seller.post("/achievements/new", data={**form, "csrf_token": any_csrf_token(seller)})
    assert resp.status_code == 302
    listing_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert (
        post(client_for(app, "bureau"), f"/achievements/{listing_id}/review", {"decision": "approve"}).status_code
        == 302
    )
    buyer = client_for(app, pair["buyer"])
    html = buyer.get("/notifications").get_data(as_text=True)
    assert "高度匹配" in html and f"/achievements/{listing_id}" in html

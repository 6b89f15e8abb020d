"""Marketplace through HTTP: posting, review, lifecycle, search, confidentiality, bad input, conflicts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from techmarket.domain.listings import ListingStatus
from techmarket.extensions import db
from techmarket.models import Achievement, AuditEntry, Need
from tests.conftest import any_csrf_token, csrf_token, login, make_org, make_user, unique_name

PW = "correct horse battery"
FUTURE = (date.today() + timedelta(days=90)).isoformat()


@pytest.fixture
def people(app):
    """A verified enterprise, a verified university, a pending enterprise and a rival enterprise, one user each."""
    with app.app_context():
        ent = make_org(db.session, "enterprise", name=f"偃师市{unique_name('')}三轮摩托车有限公司")
        uni = make_org(db.session, "university", name="测试理工大学", local=False, town=None)
        pend = make_org(db.session, "enterprise", status="pending")
        rival = make_org(db.session, "enterprise", name="偃师市竞争对手机械有限公司")
        users = {
            "ent": make_user(db.session, "enterprise", org=ent).username,
            "uni": make_user(db.session, "institute", org=uni).username,
            "pend": make_user(db.session, "enterprise", org=pend).username,
            "rival": make_user(db.session, "enterprise", org=rival).username,
            "rival_code": rival.credit_code,
            "ent_org": ent.name,
        }
        db.session.commit()
        return users


def as_user(app, username):
    """A client signed in as a test user (or, for the seeded role names, the demo account)."""
    client = app.test_client()
    login(client, username, None if username in ("bureau", "broker", "admin") else PW)
    return client


def need_form(**overrides):
    data = {
        "title": "车架焊缝气孔多、返修率高",
        "description": "三轮车车架用CO2保护焊，焊缝气孔多，返修率8%左右。",
        "expected_outcome": "焊缝一次合格率达到98%以上。",
        "field": "advanced_manufacturing",
        "budget_min": "100000",
        "budget_max": "300000",
        "deadline": FUTURE,
        "cooperation": ["joint_development"],
        "confidential_details": "现用焊丝ER50-6，供应商为某焊材厂，焊接电流220A。",
        "version": "",
    }
    data.update(overrides)
    return data


def achievement_form(**overrides):
    data = {
        "title": "高精度轴承套圈磨削工艺",
        "summary": "套圈磨削圆度稳定在1微米以内。",
        "description": "采用在线测量与砂轮修整补偿，适用于P4级以上轴承。",
        "field": "advanced_manufacturing",
        "keywords": "轴承, 磨削, 在线测量",
        "maturity": "pilot",
        "trl": "6",
        "ip_type": "patent",
        "patent_numbers": "ZL2023 1 0182457.8",
        "cooperation": ["license", "service"],
        "price": "450000",
        "team": "",
        "contact_name": "陈老师",
        "contact_phone": "13903790000",
        "version": "",
    }
    data.update(overrides)
    return data


def post(client, url, data, form_url=None):
    token = csrf_token(client, form_url) if form_url else any_csrf_token(client)
    return client.post(url, data={**data, "csrf_token": token})


def create(client, kind, data, submit=True):
    extra = {"submit_for_review": "1"} if submit else {}
    resp = post(client, f"/{kind}/new", {**data, **extra}, form_url=f"/{kind}/new")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def approve(app, kind, listing_id):
    bureau = app.test_client()
    login(bureau, "bureau")
    resp = post(bureau, f"/{kind}/{listing_id}/review", {"decision": "approve"})
    assert resp.status_code == 302


def test_post_review_publish_and_find_by_segmented_term(app, client, people):
    uni = as_user(app, people["uni"])
    listing_id = create(uni, "achievements", achievement_form())
    with app.app_context():
        assert db.session.get(Achievement, listing_id).status == ListingStatus.PENDING
    assert "高精度轴承套圈磨削工艺" not in client.get("/achievements/?q=轴承").get_data(as_text=True)
    approve(app, "achievements", listing_id)
    for q in ("轴承", "套圈", "磨削工艺", "轴承 磨削"):
        assert "高精度轴承套圈磨削工艺" in client.get("/achievements/", query_string={"q": q}).get_data(as_text=True), q
    assert "高精度轴承套圈磨削工艺" not in client.get("/achievements/?q=轴承 耐火材料").get_data(as_text=True)
    assert client.get(f"/achievements/{listing_id}").status_code == 200


def test_unverified_org_cannot_publish_and_is_told_why(app, people):
    pend = as_user(app, people["pend"])
    page = pend.get("/needs/new").get_data(as_text=True)
    assert "审核中" in page
    resp = post(pend, "/needs/new", {**need_form(), "submit_for_review": "1"}, form_url="/needs/new")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "本单位尚在科技局审核中" in html and "车架焊缝气孔多" in html  # reason shown, text kept
    draft = create(pend, "needs", need_form(title="草稿可以先存"), submit=False)
    with app.app_context():
        assert db.session.get(Need, draft).status == ListingStatus.DRAFT


def test_rejection_reason_shown_and_resubmit(app, people):
    ent = as_user(app, people["ent"])
    need_id = create(ent, "needs", need_form())
    bureau = as_user(app, "bureau")
    no_reason = post(bureau, f"/needs/{need_id}/review", {"decision": "reject", "reason": ""})
    assert no_reason.status_code == 422
    post(bureau, f"/needs/{need_id}/review", {"decision": "reject", "reason": "预算与需求描述不一致，请补充说明。"})
    page = ent.get(f"/needs/{need_id}").get_data(as_text=True)
    assert "预算与需求描述不一致" in page
    assert post(ent, f"/needs/{need_id}/action", {"action": "submit"}).status_code == 302
    with app.app_context():
        need = db.session.get(Need, need_id)
        assert need.status == ListingStatus.PENDING and need.reject_reason is None


def test_illegal_transitions_refused(app, people):
    ent = as_user(app, people["ent"])
    need_id = create(ent, "needs", need_form(), submit=False)
    for action in ("mark_dealt", "withdraw", "renew"):
        resp = post(ent, f"/needs/{need_id}/action", {"action": action})
        assert resp.status_code == 409 and "当前状态为“草稿”" in resp.get_data(as_text=True)
    bureau = as_user(app, "bureau")
    assert post(bureau, f"/needs/{need_id}/review", {"decision": "approve"}).status_code == 409
    assert post(ent, f"/needs/{need_id}/action", {"action": "close"}).status_code == 302
    assert post(ent, f"/needs/{need_id}/action", {"action": "submit"}).status_code == 409
    with app.app_context():
        assert db.session.get(Need, need_id).status == ListingStatus.CLOSED


def test_owner_marks_dealt(app, people):
    ent = as_user(app, people["ent"])
    need_id = create(ent, "needs", need_form())
    approve(app, "needs", need_id)
    assert post(ent, f"/needs/{need_id}/action", {"action": "mark_dealt"}).status_code == 302
    with app.app_context():
        assert db.session.get(Need, need_id).status == ListingStatus.DEALT


def test_only_owner_members_act(app, people):
    ent = as_user(app, people["ent"])
    need_id = create(ent, "needs", need_form())
    approve(app, "needs", need_id)
    rival = as_user(app, people["rival"])
    assert rival.get(f"/needs/{need_id}/edit").status_code == 403
    assert post(rival, f"/needs/{need_id}/action", {"action": "close"}).status_code == 403
    with app.app_context():
        assert db.session.get(Need, need_id).status == ListingStatus.PUBLISHED


def test_confidential_details_enforced_on_the_server(app, client, people):
    ent = as_user(app, people["ent"])
    need_id = create(ent, "needs", need_form())
    approve(app, "needs", need_id)
    secret = "供应商为某焊材厂"
    rival = as_user(app, people["rival"])
    broker = as_user(app, "broker")
    for c in (client, rival, broker):
        assert secret not in c.get(f"/needs/{need_id}").get_data(as_text=True)
    for c in (ent, as_user(app, "bureau")):
        assert secret in c.get(f"/needs/{need_id}").get_data(as_text=True)
    # not searchable either
    assert "车架焊缝气孔多" not in client.get("/needs/?q=焊材厂").get_data(as_text=True)
    # the owner accepts the rival as a party: now it may read them, until revoked
    assert post(ent, f"/needs/{need_id}/access", {"credit_code": people["rival_code"]}).status_code == 302
    assert secret in rival.get(f"/needs/{need_id}").get_data(as_text=True)
    with app.app_context():
        from techmarket.models import NeedAccess

        access_id = db.session.scalar(select(NeedAccess.id).where(NeedAccess.need_id == need_id))
    assert post(ent, f"/needs/{need_id}/access/{access_id}/revoke", {}).status_code == 302
    assert secret not in rival.get(f"/needs/{need_id}").get_data(as_text=True)


def test_anonymous_poster_never_shown_publicly(app, client, people):
    ent = as_user(app, people["ent"])
    need_id = create(ent, "needs", need_form(title="匿名需求：车架焊接机器人", anonymous="y"))
    approve(app, "needs", need_id)
    with app.app_context():
        org_id = db.session.get(Need, need_id).org_id
    name = people["ent_org"]
    rival = as_user(app, people["rival"])
    for c in (client, rival):
        for path in (f"/needs/{need_id}", "/needs/?q=焊接机器人", "/needs/", f"/orgs/{org_id}"):
            html = c.get(path).get_data(as_text=True)
            if "匿名需求" in html:
                assert name not in html and f'/orgs/{org_id}"' not in html, path
        assert "匿名需求：车架焊接机器人" not in c.get(f"/orgs/{org_id}").get_data(as_text=True)
    assert name in ent.get(f"/needs/{need_id}").get_data(as_text=True)


def test_published_edit_stays_published_and_is_recorded(app, people):
    ent = as_user(app, people["ent"])
    need_id = create(ent, "needs", need_form())
    approve(app, "needs", need_id)
    with app.app_context():
        version = db.session.get(Need, need_id).version
    resp = post(
        ent, f"/needs/{need_id}/edit", need_form(title="车架焊缝气孔多（补充：材料Q235）", version=str(version))
    )
    assert resp.status_code == 302
    with app.app_context():
        need = db.session.get(Need, need_id)
        assert need.status == ListingStatus.PUBLISHED and need.title.endswith("材料Q235）")
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "edit_listing", AuditEntry.object_id == str(need_id))
        )
        assert entry.detail["changes"]["title"] == ["车架焊缝气孔多、返修率高", "车架焊缝气孔多（补充：材料Q235）"]
        assert entry.detail["status"] == "published"


def test_concurrent_edit_conflict_keeps_the_losers_text(app, people):
    ent = as_user(app, people["ent"])
    need_id = create(ent, "needs", need_form(), submit=False)
    with app.app_context():
        version = str(db.session.get(Need, need_id).version)
    first = post(ent, f"/needs/{need_id}/edit", need_form(title="第一个窗口的标题", version=version))
    assert first.status_code == 302
    second = post(ent, f"/needs/{need_id}/edit", need_form(title="第二个窗口的标题", version=version))
    html = second.get_data(as_text=True)
    assert second.status_code == 409 and "已被他人修改" in html and "第二个窗口的标题" in html
    with app.app_context():
        assert db.session.get(Need, need_id).title == "第一个窗口的标题"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "此项为必填项"),
        ({"title": "长" * 101}, "不能超过100个字"),
        ({"budget_min": "-100"}, "必须大于0"),
        ({"budget_max": "1000.005"}, "两位小数"),
        ({"budget_max": "99999999999"}, "超过10亿元"),
        ({"budget_min": "500000", "budget_max": "100000"}, "预算上限不能低于预算下限"),
        ({"deadline": "2020-01-01"}, "截止日期不能早于今天"),
        ({"deadline": "明天"}, "日期"),
        ({"field": "quantum_magic"}, "选择"),
        ({"cooperation": []}, "请至少选择一种合作方式"),
        ({"cooperation": ["barter"]}, "选择"),
    ],
)
def test_bad_need_input_is_explained_and_kept(app, people, overrides, message):
    ent = as_user(app, people["ent"])
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Need))
    data = need_form(**overrides)
    resp = post(ent, "/needs/new", data, form_url="/needs/new")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert message in html
    assert "现用焊丝ER50-6" in html  # nothing typed is lost
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Need)) == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price": "0"}, "必须大于0"),
        ({"price": "abc"}, "应为数字"),
        ({"trl": "12"}, "1到9"),
        ({"ip_type": "patent", "patent_numbers": ""}, "至少一个专利号"),
        ({"patent_numbers": "随便写的"}, "专利号格式不正确"),
    ],
)
def test_bad_achievement_input(app, people, overrides, message):
    uni = as_user(app, people["uni"])
    resp = post(uni, "/achievements/new", achievement_form(**overrides), form_url="/achievements/new")
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)


def test_script_in_text_is_escaped(app, client, people):
    xss = "<img src=x onerror=alert(1)>"
    uni = as_user(app, people["uni"])
    listing_id = create(
        uni,
        "achievements",
        achievement_form(title=f"成果{xss}", summary=xss, description=xss, team=xss, contact_name="陈"),
    )
    approve(app, "achievements", listing_id)
    for path in (f"/achievements/{listing_id}", "/achievements/"):
        html = client.get(path).get_data(as_text=True)
        assert xss not in html


def test_expired_listings_leave_search_but_keep_their_page(app, client, people):
    ent = as_user(app, people["ent"])
    soon = (date.today() + timedelta(days=3)).isoformat()
    need_id = create(ent, "needs", need_form(title="即将到期的喷涂线改造需求", deadline=soon))
    approve(app, "needs", need_id)
    assert "即将到期的喷涂线改造需求" in client.get("/needs/?q=喷涂").get_data(as_text=True)
    app.config["TODAY"] = date.today() + timedelta(days=10)
    try:
        assert "即将到期的喷涂线改造需求" not in client.get("/needs/?q=喷涂").get_data(as_text=True)
        page = ent.get(f"/needs/{need_id}").get_data(as_text=True)
        assert "已过期" in page
        new_deadline = (date.today() + timedelta(days=60)).isoformat()
        renewed = post(ent, f"/needs/{need_id}/action", {"action": "renew", "deadline": new_deadline})
        assert renewed.status_code == 302
        assert "即将到期的喷涂线改造需求" in client.get("/needs/?q=喷涂").get_data(as_text=True)
    finally:
        app.config.pop("TODAY")


def test_expire_command_flips_status(app, people):
    from techmarket.services.listings import expire_due

    ent = as_user(app, people["ent"])
    soon = (date.today() + timedelta(days=1)).isoformat()
    need_id = create(ent, "needs", need_form(deadline=soon))
    approve(app, "needs", need_id)
    with app.app_context():
        assert expire_due(db.session, date.today() + timedelta(days=2)) >= 1
        db.session.commit()
        assert db.session.get(Need, need_id).status == ListingStatus.EXPIRED


def test_filters_and_pagination(app, client):
    all_pages = client.get("/achievements/").get_data(as_text=True)
    assert "共找到" in all_pages
    with app.app_context():
        published = db.session.scalar(
            select(func.count()).select_from(Achievement).where(Achievement.status == ListingStatus.PUBLISHED)
        )
    assert published > 20  # the seed has more than one page
    page1 = client.get("/achievements/?page=1").get_data(as_text=True)
    page2 = client.get("/achievements/?page=2").get_data(as_text=True)
    titles1 = set(_titles(page1))
    titles2 = set(_titles(page2))
    assert len(titles1) == 20 and titles2 and not (titles1 & titles2)
    agri = client.get("/achievements/?field=agriculture").get_data(as_text=True)
    assert "农业" in agri
    assert client.get("/achievements/?field=no-such-field").status_code == 200  # unknown filter ignored
    cheap = client.get("/achievements/?max=100000").get_data(as_text=True)
    assert "面议" not in cheap.split("共找到")[1]
    assert client.get("/achievements/?page=999").status_code == 200


def _titles(html):
    import re

    return re.findall(r'<h2 class="h6 mb-1"><a href="/achievements/\d+">([^<]+)</a>', html)

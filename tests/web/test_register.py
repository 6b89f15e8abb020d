"""Self-registration: organisations start 待审核, bad input is explained field by field and kept."""

from __future__ import annotations

from sqlalchemy import func, select

from techmarket import permissions
from techmarket.domain.accounts import OrgKind, Role, Verification
from techmarket.extensions import db
from techmarket.models import Organisation, User
from tests.conftest import csrf_token, login, unique_credit_code, unique_name


def _form(**overrides):
    name = unique_name("reg")
    data = {
        "account_type": "enterprise",
        "seller_kind": "university",
        "broker_certificate": "",
        "org_name": "偃师市测试轴承有限公司",
        "credit_code": unique_credit_code(),
        "local": "y",
        "town": "岳滩镇",
        "address": "偃师市岳滩镇工业园区8号",
        "contact_name": "王经理",
        "contact_phone": "0379-67712345",
        "description": "生产深沟球轴承。",
        "username": name,
        "display_name": "王建国",
        "email": f"{name}@example.com",
        "phone": "13838881234",
        "password": "bearing steel 52100",
        "confirm": "bearing steel 52100",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _register(client, **overrides):
    data = _form(**overrides)
    resp = client.post("/register", data={**data, "csrf_token": csrf_token(client, "/register")})
    return resp, data


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_enterprise_registration_creates_pending_org_that_cannot_publish(app, client):
    resp, data = _register(client)
    assert resp.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == data["username"]))
        assert user.role == Role.ENTERPRISE
        assert user.org.status == Verification.PENDING and user.org.kind == OrgKind.ENTERPRISE
        assert user.org.town == "岳滩镇" and user.org.credit_code == data["credit_code"]
        assert not permissions.can_publish(user, user.org)
        assert user.password_hash.startswith("$argon2id$")
    login(client, data["username"], data["password"])
    page = client.get("/dashboard").get_data(as_text=True)
    assert "审核中" in page


def test_wrong_check_digit_is_named_and_input_kept(app, client):
    good = unique_credit_code()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with app.app_context():
        orgs_before, users_before = _count(Organisation), _count(User)
    resp, data = _register(client, credit_code=bad)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "统一社会信用代码校验位不正确" in html
    assert data["org_name"] in html and data["address"] in html and data["username"] in html
    assert data["password"] not in html  # passwords are never echoed back
    with app.app_context():
        assert (_count(Organisation), _count(User)) == (orgs_before, users_before)


def test_password_rules_on_the_form(client):
    short, _ = _register(client, password="k7#mq2x", confirm="k7#mq2x")
    assert short.status_code == 422 and "密码至少需要8个字符" in short.get_data(as_text=True)
    common, _ = _register(client, password="iloveyou123", confirm="iloveyou123")
    assert common.status_code == 422 and "过于常见" in common.get_data(as_text=True)
    mismatch, _ = _register(client, confirm="something else entirely")
    assert mismatch.status_code == 422 and "两次输入的密码不一致" in mismatch.get_data(as_text=True)
    long_ok, _ = _register(client, password="p" * 60 + "long", confirm="p" * 60 + "long")
    assert long_ok.status_code == 302


def test_duplicate_username_and_credit_code(client):
    first, data = _register(client)
    assert first.status_code == 302
    again, _ = _register(client, username=data["username"].upper())
    assert again.status_code == 422 and "用户名已被使用" in again.get_data(as_text=True)
    same_org, _ = _register(client, credit_code=data["credit_code"])
    assert same_org.status_code == 422 and "统一社会信用代码已注册" in same_org.get_data(as_text=True)


def test_local_unit_needs_a_town_and_unknown_town_refused(client):
    no_town, _ = _register(client, town="")
    assert no_town.status_code == 422 and "请选择所在镇/街道" in no_town.get_data(as_text=True)
    bogus, _ = _register(client, town="不存在镇")
    assert bogus.status_code == 422


def test_seller_and_non_local_registration(app, client):
    resp, data = _register(
        client,
        account_type="seller",
        seller_kind="institute",
        org_name="郑州某材料研究所",
        local=None,
        town="",
        credit_code=unique_credit_code("410105"),
    )
    assert resp.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == data["username"]))
        assert user.role == Role.INSTITUTE and user.org.kind == OrgKind.INSTITUTE
        assert user.org.local is False and user.org.town is None


def test_independent_broker_registration(app, client):
    resp, data = _register(
        client, account_type="broker", broker_certificate="技术经纪人-豫-2024-0311", org_name="", credit_code=""
    )
    assert resp.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == data["username"]))
        assert user.role == Role.BROKER and user.org is None
        assert user.broker_status == Verification.PENDING
        assert not permissions.can_broker(user)


def test_broker_must_give_certificate(client):
    resp, _ = _register(client, account_type="broker", broker_certificate="", org_name="", credit_code="")
    assert resp.status_code == 422 and "证书编号" in resp.get_data(as_text=True)


def test_bureau_kind_cannot_be_self_registered(app, client):
    resp, _ = _register(client, account_type="seller", seller_kind="bureau")
    assert resp.status_code == 422


def test_extra_fields_do_not_mass_assign(app, client):
    resp, data = _register(client, status="verified", role="admin", broker_status="verified")
    assert resp.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == data["username"]))
        assert user.role == Role.ENTERPRISE and user.org.status == Verification.PENDING

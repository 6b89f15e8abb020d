"""The bureau's verification queue: approve, reject with a reason, no double decisions, all audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from techmarket.domain.accounts import Verification
from techmarket.extensions import db
from techmarket.models import AuditEntry, Organisation, User
from tests.conftest import any_csrf_token, login, make_org, make_user


@pytest.fixture
def pending(app):
    with app.app_context():
        org = make_org(db.session, status="pending", name="偃师市待审耐火材料有限公司")
        member = make_user(db.session, "enterprise", org=org)
        db.session.commit()
        return {"org": org.id, "member": member.username}


@pytest.fixture
def bureau(client):
    login(client, "bureau")
    return client


def _decide(client, org_id, **data):
    return client.post(f"/bureau/orgs/{org_id}/decision", data={**data, "csrf_token": any_csrf_token(client)})


def test_queue_lists_pending_org(bureau, pending):
    html = bureau.get("/bureau/verifications").get_data(as_text=True)
    assert "偃师市待审耐火材料有限公司" in html


def test_approve_verifies_and_audits(app, bureau, pending):
    resp = _decide(bureau, pending["org"], decision="approve")
    assert resp.status_code == 302
    with app.app_context():
        org = db.session.get(Organisation, pending["org"])
        assert org.status == Verification.VERIFIED and org.verified_at is not None
        clerk = db.session.scalar(select(User).where(User.username == "bureau"))
        assert org.verified_by_id == clerk.id
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "verify_org", AuditEntry.object_id == str(org.id))
        )
        assert entry.actor_id == clerk.id and entry.detail["old"] == "pending" and entry.detail["new"] == "verified"


def test_reject_needs_a_reason_which_the_member_sees(app, client, bureau, pending):
    no_reason = _decide(bureau, pending["org"], decision="reject", reason="  ")
    assert no_reason.status_code == 422 and "驳回时必须填写驳回原因" in no_reason.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Organisation, pending["org"]).status == Verification.PENDING
    resp = _decide(
        bureau, pending["org"], decision="reject", reason="营业执照与信用代码不一致，请上传清晰的营业执照副本。"
    )
    assert resp.status_code == 302
    member = app.test_client()
    login(member, pending["member"], "correct horse battery")
    assert "营业执照与信用代码不一致" in member.get("/dashboard").get_data(as_text=True)


def test_a_decided_org_cannot_be_decided_again(bureau, pending):
    assert _decide(bureau, pending["org"], decision="approve").status_code == 302
    again = _decide(bureau, pending["org"], decision="reject", reason="重复")
    assert again.status_code == 409 and "不能重复审核" in again.get_data(as_text=True)


def test_rejected_member_edits_profile_and_goes_back_to_pending(app, bureau, pending):
    _decide(bureau, pending["org"], decision="reject", reason="地址不完整")
    member = app.test_client()
    login(member, pending["member"], "correct horse battery")
    with app.app_context():
        org = db.session.get(Organisation, pending["org"])
        form = {
            "org_name": org.name,
            "credit_code": org.credit_code,
            "local": "y",
            "town": "府店镇",
            "address": "偃师市府店镇工业集聚区2号",
            "contact_name": "李厂长",
            "contact_phone": "13903791234",
            "description": "",
            "version": str(org.version),
        }
    resp = member.post(f"/orgs/{pending['org']}/edit", data={**form, "csrf_token": any_csrf_token(member)})
    assert resp.status_code == 302
    with app.app_context():
        org = db.session.get(Organisation, pending["org"])
        assert org.status == Verification.PENDING and org.town == "府店镇"


def test_stale_version_conflict_keeps_text(app, pending):
    member = app.test_client()
    login(member, pending["member"], "correct horse battery")
    with app.app_context():
        org = db.session.get(Organisation, pending["org"])
        form = {
            "org_name": org.name,
            "credit_code": org.credit_code,
            "local": "y",
            "town": "商城街道",
            "address": "第一次保存的地址",
            "contact_name": "",
            "contact_phone": "",
            "description": "",
            "version": str(org.version),
        }
    first = member.post(f"/orgs/{pending['org']}/edit", data={**form, "csrf_token": any_csrf_token(member)})
    assert first.status_code == 302
    second = member.post(
        f"/orgs/{pending['org']}/edit",
        data={**form, "address": "第二个窗口里写的地址", "csrf_token": any_csrf_token(member)},
    )
    html = second.get_data(as_text=True)
    assert second.status_code == 409 and "已被他人修改" in html and "第二个窗口里写的地址" in html
    with app.app_context():
        assert db.session.get(Organisation, pending["org"]).address == "第一次保存的地址"


def test_edit_ignores_extra_fields(app, pending):
    member = app.test_client()
    login(member, pending["member"], "correct horse battery")
    with app.app_context():
        org = db.session.get(Organisation, pending["org"])
        form = {
            "org_name": org.name,
            "credit_code": org.credit_code,
            "local": "y",
            "town": "商城街道",
            "address": "",
            "contact_name": "",
            "contact_phone": "",
            "description": "",
            "version": str(org.version),
            "status": "verified",
            "kind": "bureau",
        }
    assert (
        member.post(f"/orgs/{pending['org']}/edit", data={**form, "csrf_token": any_csrf_token(member)}).status_code
        == 302
    )
    with app.app_context():
        org = db.session.get(Organisation, pending["org"])
        assert org.status == Verification.PENDING and org.kind.value == "enterprise"


def test_forbidden_attempt_is_audited(app, client, pending):
    login(client, "enterprise")
    resp = _decide(client, pending["org"], decision="approve")
    assert resp.status_code == 403
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "forbidden").order_by(AuditEntry.id.desc())
        )
        assert entry.detail["path"] == f"/bureau/orgs/{pending['org']}/decision"
        assert db.session.get(Organisation, pending["org"]).status == Verification.PENDING


def test_broker_verification(app, bureau):
    with app.app_context():
        broker = make_user(
            db.session, "broker", broker_certificate="技术经纪人-豫-2025-0042", broker_status=Verification.PENDING
        )
        db.session.commit()
        broker_id = broker.id
    resp = bureau.post(
        f"/bureau/brokers/{broker_id}/decision", data={"decision": "approve", "csrf_token": any_csrf_token(bureau)}
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(User, broker_id).broker_status == Verification.VERIFIED

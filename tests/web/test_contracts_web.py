"""Contract pages: recording, double submission, bad input, evidence access, upload checks, review, audit."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from techmarket.domain.contracts import ContractStatus, EvidenceKind
from techmarket.extensions import db
from techmarket.models import AuditEntry, Contract, EvidenceFile, Payment
from tests.conftest import any_csrf_token, csrf_token, login, unique_credit_code
from tests.web.contracts_factory import (
    PASSWORD,
    PDF,
    PNG,
    SIGNED,
    TODAY,
    attach,
    deal,
    new_registration_no,
)

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def d(app):
    """A draft between a local enterprise and a university, drafted by a broker, with its contract text."""
    with app.app_context():
        p = deal(app, db.session)
        db.session.commit()
        return {k: v.id for k, v in p.items()} | {
            f"{k}_name": v.username for k, v in p.items() if hasattr(v, "username")
        }


def as_user(app, username):
    client = app.test_client()
    login(client, username, PASSWORD)
    return client


def post(client, url, data, form_url=None):
    token = csrf_token(client, form_url) if form_url else any_csrf_token(client)
    return client.post(url, data={**data, "csrf_token": token}, content_type="multipart/form-data")


def contract_form(buyer_code, seller_code, **kw):
    return {
        "title": "耐火材料配方技术开发合同",
        "contract_type": "development_commissioned",
        "buyer_name": "偃师市测试耐材有限公司",
        "buyer_credit_code": buyer_code,
        "buyer_region": "偃师市商城街道",
        "buyer_local": "y",
        "seller_name": "洛阳某研究院",
        "seller_credit_code": seller_code,
        "seller_region": "洛阳市洛龙区",
        "signed_on": SIGNED.isoformat(),
        "contract_amount": "500000.00",
        "technology_amount": "450000.50",
        "tech_field": "new_materials",
        "ip_type": "know_how",
        "plan_category": "none",
        "form_token": kw.pop("form_token", "tok-" + unique_credit_code()),
    } | kw


def count(model):
    with db.session.no_autoflush:
        return db.session.scalar(select(func.count()).select_from(model))


def files_on_disk(app):
    return sorted(p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file())


# --- recording ----------------------------------------------------------------------------------


def test_member_records_a_contract_and_a_double_submission_makes_one_row(app, d):
    buyer = as_user(app, d["buyer_name"])
    with app.app_context():
        from techmarket.models import Organisation

        buyer_code = db.session.get(Organisation, d["buyer_org"]).credit_code
        before = count(Contract)
    token = "tok-" + unique_credit_code()
    form = contract_form(buyer_code, unique_credit_code("410300"), form_token=token)
    first = post(buyer, "/contracts/new", form, "/contracts/new")
    assert first.status_code == 302
    second = post(buyer, "/contracts/new", form, "/contracts/new")
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert "请勿重复提交" in buyer.get(second.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert count(Contract) == before + 1
        contract = db.session.scalar(select(Contract).where(Contract.form_token == token))
        assert contract.technology_amount == Decimal("450000.50") and contract.seller_org_id is None
        assert contract.buyer_org_id == d["buyer_org"] and contract.status == ContractStatus.DRAFT


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"technology_amount": "500000.01"}, "不能大于合同成交额"),
        ({"contract_amount": "-1"}, "合同成交额必须大于0"),
        ({"contract_amount": "0"}, "合同成交额必须大于0"),
        ({"contract_amount": "五十万"}, "合同成交额应为数字"),
        ({"technology_amount": "1.005"}, "最多保留两位小数"),
        ({"seller_credit_code": "91410381MA00000000"}, "校验位不正确"),
        ({"seller_credit_code": "12345"}, "应为18位"),
        ({"signed_on": (TODAY + timedelta(days=2)).isoformat()}, "签订日期不能晚于今天"),
        ({"registered_elsewhere": "y", "external_registration_no": "x/1"}, "登记编号应为"),
        ({"contract_type": "sale"}, "合同类型"),
    ],
)
def test_bad_input_refused_in_chinese_with_the_input_kept(app, d, changes, message):
    buyer = as_user(app, d["buyer_name"])
    with app.app_context():
        from techmarket.models import Organisation

        buyer_code = db.session.get(Organisation, d["buyer_org"]).credit_code
        before = count(Contract)
    resp = post(buyer, "/contracts/new", contract_form(buyer_code, unique_credit_code("410300"), **changes))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422, html
    if message == "合同类型":
        assert "合同类型" in html and "invalid-feedback" in html
    else:
        assert message in html
    assert "耐火材料配方技术开发合同" in html and "洛阳某研究院" in html  # nothing typed is lost
    with app.app_context():
        assert count(Contract) == before


def test_a_member_of_neither_party_is_refused_and_extra_fields_are_ignored(app, d):
    outsider = as_user(app, d["outsider_name"])
    form = contract_form(unique_credit_code(), unique_credit_code("410300"))
    resp = post(outsider, "/contracts/new", form)
    assert resp.status_code == 422 and "本单位必须是合同的买方或卖方" in resp.get_data(as_text=True)
    buyer = as_user(app, d["buyer_name"])
    with app.app_context():
        from techmarket.models import Organisation

        code = db.session.get(Organisation, d["buyer_org"]).credit_code
    extra = {"status": "registered", "registration_no": "2026999", "registered_technology_amount": "1", "id": "1"}
    resp = post(
        buyer,
        "/contracts/new",
        contract_form(code, unique_credit_code("410300"), form_token=(token := "tok-" + unique_credit_code())) | extra,
    )
    assert resp.status_code == 302
    with app.app_context():
        contract = db.session.scalar(select(Contract).where(Contract.form_token == token))
        assert contract.status == ContractStatus.DRAFT and contract.registration_no is None
        assert contract.registered_technology_amount is None


def test_user_text_is_escaped(app, d):
    with app.app_context():
        contract = db.session.get(Contract, d["contract"])
        contract.title = XSS
        contract.seller_name = XSS
        db.session.commit()
    html = as_user(app, d["broker_name"]).get(f"/contracts/{d['contract']}").get_data(as_text=True)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# --- who sees the evidence ----------------------------------------------------------------------


def test_evidence_only_for_parties_broker_and_bureau_even_by_url_guessing(app, d):
    with app.app_context():
        file_id = db.session.scalar(select(EvidenceFile.id).where(EvidenceFile.contract_id == d["contract"]))
    url = f"/contracts/{d['contract']}/files/{file_id}"
    for name in (d["buyer_name"], d["seller_name"], d["broker_name"], "bureau"):
        client = app.test_client()
        login(client, name, None if name == "bureau" else PASSWORD)
        resp = client.get(url)
        assert resp.status_code == 200, name
        assert resp.data == PDF
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''%E5%90%88%E5%90%8C.pdf" in resp.headers["Content-Disposition"]  # 合同.pdf
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.mimetype == "application/pdf"
        resp.close()
    for name in (d["outsider_name"], d["other_broker_name"]):
        client = as_user(app, name)
        for guess in (url, f"/contracts/{d['contract']}", f"/contracts/{d['contract']}/edit"):
            resp = client.get(guess)
            assert resp.status_code == 404, (name, guess)
            assert "页面不存在" in resp.get_data(as_text=True)
        # guessing other file ids under their own nothing: still 404, never another contract's file
        assert client.get(f"/contracts/{d['contract']}/files/{file_id + 1}").status_code == 404
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "forbidden").order_by(AuditEntry.id.desc())
        )
        assert entry.detail["status"] == 404 and entry.detail["what"] == "view_contract"
        downloads = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "evidence_download", AuditEntry.object_id == str(d["contract"])
            )
        ).all()
        assert len(downloads) == 4


def test_the_list_shows_only_ones_own_contracts(app, d):
    with app.app_context():
        title = db.session.get(Contract, d["contract"]).title
    assert title in as_user(app, d["buyer_name"]).get("/contracts/").get_data(as_text=True)
    assert f'/contracts/{d["contract"]}"' not in as_user(app, d["outsider_name"]).get("/contracts/").get_data(
        as_text=True
    )


# --- uploads ------------------------------------------------------------------------------------


def _upload(client, contract_id, data, name, kind="contract", payment_id=""):
    """The multipart body is built in memory: the test client's own temporary file would never be closed."""
    fields = {"kind": kind, "payment_id": payment_id, "csrf_token": any_csrf_token(client)}
    boundary, body = encode_multipart({**fields, "file": FileStorage(io.BytesIO(data), name)})
    return client.post(
        f"/contracts/{contract_id}/files", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_renamed_exe_and_html_refused_and_nothing_stored(app, d):
    broker = as_user(app, d["broker_name"])
    before = files_on_disk(app)
    for data, name in ((EXE, "合同.pdf"), (b"<html><script>alert(1)</script>", "scan.png")):
        resp = _upload(broker, d["contract"], data, name)
        assert resp.status_code == 422
        assert "只能上传PDF、JPEG或PNG格式的文件" in resp.get_data(as_text=True)
    assert files_on_disk(app) == before
    with app.app_context():
        assert len(db.session.get(Contract, d["contract"]).files) == 1


def test_path_traversal_name_stays_inside_and_is_shown_clean(app, d):
    broker = as_user(app, d["broker_name"])
    resp = _upload(broker, d["contract"], PNG, "../../../../etc/cron.d/登记证明.png", kind="certificate")
    assert resp.status_code == 302
    with app.app_context():
        evidence = db.session.scalars(
            select(EvidenceFile).where(EvidenceFile.contract_id == d["contract"]).order_by(EvidenceFile.id.desc())
        ).first()
        assert evidence.original_name == "登记证明.png" and evidence.content_type == "image/png"
        stored = Path(app.config["UPLOAD_FOLDER"]) / evidence.stored_name
        assert stored.is_file() and stored.resolve().is_relative_to(Path(app.config["UPLOAD_FOLDER"]).resolve())
        assert ".." not in evidence.stored_name and "cron" not in evidence.stored_name
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "evidence_add").order_by(AuditEntry.id.desc())
        )
        assert entry.detail["file_id"] == evidence.id and entry.detail["name"] == "登记证明.png"
    assert not [p for p in files_on_disk(app) if p.name.endswith(".part")]


def test_oversized_uploads(app, d):
    broker = as_user(app, d["broker_name"])
    limit = app.config["UPLOAD_LIMIT_BYTES"]
    # over the per-file limit but inside the request limit: refused on the form, in Chinese
    resp = _upload(broker, d["contract"], PDF + b"0" * (limit + 1 - len(PDF)), "big.pdf")
    assert resp.status_code == 422 and "单个文件不能超过20 MB" in resp.get_data(as_text=True)
    # over the request limit: 413 with the Chinese page
    resp = _upload(broker, d["contract"], PDF + b"0" * app.config["MAX_CONTENT_LENGTH"], "bigger.pdf")
    assert resp.status_code == 413 and "文件过大" in resp.get_data(as_text=True)
    assert not [p for p in files_on_disk(app) if p.name.endswith(".part")]


def test_a_failed_commit_leaves_no_file(app, d):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    broker = as_user(app, d["broker_name"])
    before = files_on_disk(app)

    def note_crash_file(session, flush_context, instances):
        if any(isinstance(o, EvidenceFile) and o.original_name == "crash.pdf" for o in session.new):
            session.info["crash"] = True

    def fail_on_crash_file(session):
        if session.info.pop("crash", False):
            raise RuntimeError("database went away")

    event.listen(Session, "before_flush", note_crash_file)
    event.listen(Session, "before_commit", fail_on_crash_file)
    try:
        resp = _upload(broker, d["contract"], PDF, "crash.pdf")
    finally:
        event.remove(Session, "before_flush", note_crash_file)
        event.remove(Session, "before_commit", fail_on_crash_file)
    assert resp.status_code == 500 and "服务器内部错误" in resp.get_data(as_text=True)
    assert files_on_disk(app) == before
    with app.app_context():
        assert len(db.session.get(Contract, d["contract"]).files) == 1


# --- payments -----------------------------------------------------------------------------------


def _pay(client, contract_id, **data):
    url = f"/contracts/{contract_id}/payments/new"
    form = {"paid_on": TODAY.isoformat(), "amount": "100000.00", "form_token": data.pop("form_token", "")} | data
    return post(client, url, form, url)


def test_payment_with_voucher_and_invoice_counts_and_double_submit_is_one(app, d):
    buyer = as_user(app, d["buyer_name"])
    resp = _pay(
        buyer,
        d["contract"],
        form_token=(token := "pay-" + unique_credit_code()),
        technology_amount="80000.00",
        voucher=(io.BytesIO(PNG), "转账凭证.png"),
        invoice=(io.BytesIO(PDF), "发票.pdf"),
    )
    assert resp.status_code == 302
    again = _pay(buyer, d["contract"], form_token=token)
    assert again.status_code == 302
    with app.app_context():
        payments = db.session.scalars(select(Payment).where(Payment.contract_id == d["contract"])).all()
        assert len(payments) == 1 and payments[0].evidenced
        assert payments[0].technology_amount == Decimal("80000.00")
        assert {f.kind for f in payments[0].files} == {EvidenceKind.VOUCHER, EvidenceKind.INVOICE}
        for f in payments[0].files:
            assert (Path(app.config["UPLOAD_FOLDER"]) / f.stored_name).is_file()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"paid_on": (SIGNED - timedelta(days=1)).isoformat()}, "不能早于合同签订日期"),
        ({"paid_on": (TODAY + timedelta(days=1)).isoformat()}, "付款日期不能晚于今天"),
        ({"amount": "0"}, "付款金额必须大于0"),
        ({"amount": "12.345"}, "最多保留两位小数"),
        ({"amount": "1000000.01"}, "超过合同成交额"),
        ({"technology_amount": "100000.01"}, "本次实现技术交易额不能大于本次付款金额"),
    ],
)
def test_bad_payments_refused_and_the_form_kept(app, d, data, message):
    buyer = as_user(app, d["buyer_name"])
    resp = _pay(buyer, d["contract"], note="第一期款", **data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html
    assert "第一期款" in html
    with app.app_context():
        assert count(Payment) == count(Payment)  # nothing half-saved:
        assert not db.session.scalars(select(Payment).where(Payment.contract_id == d["contract"])).all()


def test_bad_voucher_refuses_the_payment_but_keeps_the_form(app, d):
    buyer = as_user(app, d["buyer_name"])
    before = files_on_disk(app)
    resp = _pay(buyer, d["contract"], note="首付款", voucher=(io.BytesIO(EXE), "凭证.jpg"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "只能上传PDF、JPEG或PNG" in html and "首付款" in html
    assert files_on_disk(app) == before
    with app.app_context():
        assert not db.session.scalars(select(Payment).where(Payment.contract_id == d["contract"])).all()


def test_over_total_payment_with_confirmation_is_flagged(app, d):
    buyer = as_user(app, d["buyer_name"])
    resp = _pay(buyer, d["contract"], amount="1000000.01", confirm_over_total="y")
    assert resp.status_code == 302
    with app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.contract_id == d["contract"]))
        assert payment.over_total and payment.amount == Decimal("1000000.01")


# --- workflow through the pages ----------------------------------------------------------------


def _review(client, contract_id, **data):
    return post(client, f"/contracts/{contract_id}/review", data)


def test_submit_register_duplicate_number_and_read_only_afterwards(app, d):
    seller = as_user(app, d["seller_name"])
    buyer = as_user(app, d["buyer_name"])
    assert post(buyer, f"/contracts/{d['contract']}/submit", {}).status_code == 403  # buyer: the seller submits
    assert post(seller, f"/contracts/{d['contract']}/submit", {}).status_code == 302
    bureau = app.test_client()
    login(bureau, "bureau")
    with app.app_context():
        taken = deal(app, db.session, "registered")["contract"].registration_no
        db.session.commit()
    resp = _review(bureau, d["contract"], decision="register", registration_no=taken, registered_on=TODAY.isoformat())
    assert resp.status_code == 422 and "已被另一份合同使用" in resp.get_data(as_text=True)
    resp = _review(
        bureau,
        d["contract"],
        decision="register",
        registration_no=new_registration_no(),
        registered_on=TODAY.isoformat(),
        technology_amount="800000.01",
    )
    assert resp.status_code == 422 and "只能等于或低于" in resp.get_data(as_text=True)
    number = new_registration_no()
    resp = _review(
        bureau,
        d["contract"],
        decision="register",
        registration_no=number,
        registered_on=TODAY.isoformat(),
        technology_amount="700000.00",
    )
    assert resp.status_code == 302
    again = _review(bureau, d["contract"], decision="register", registration_no=number, registered_on=TODAY.isoformat())
    assert again.status_code == 409 and "不能登记" in again.get_data(as_text=True)
    edit = seller.get(f"/contracts/{d['contract']}/edit")
    assert edit.status_code == 409 and "不能修改" in edit.get_data(as_text=True)
    with app.app_context():
        contract = db.session.get(Contract, d["contract"])
        assert contract.status == ContractStatus.REGISTERED and contract.registration_no == number
        assert contract.registered_technology_amount == Decimal("700000.00")
        actions = [
            e.action
            for e in db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_type == "contract", AuditEntry.object_id == str(contract.id))
                .order_by(AuditEntry.id)
            )
        ]
        assert actions == ["contract_create", "evidence_add", "contract_submit", "contract_register"]
    history = bureau.get(f"/contracts/{d['contract']}").get_data(as_text=True)
    assert "contract_register" in history and "变更记录" in history
    assert "变更记录" not in seller.get(f"/contracts/{d['contract']}").get_data(as_text=True)


def test_return_with_reason_then_resubmit_then_terminate_and_revoke(app, d):
    seller = as_user(app, d["seller_name"])
    assert post(seller, f"/contracts/{d['contract']}/submit", {}).status_code == 302
    bureau = app.test_client()
    login(bureau, "bureau")
    resp = _review(bureau, d["contract"], decision="return", reason="")
    assert resp.status_code == 422 and "退回时必须填写原因" in resp.get_data(as_text=True)
    assert _review(bureau, d["contract"], decision="return", reason="缺少合同签章页").status_code == 302
    assert "缺少合同签章页" in seller.get(f"/contracts/{d['contract']}").get_data(as_text=True)
    assert post(seller, f"/contracts/{d['contract']}/submit", {}).status_code == 302
    number = new_registration_no()
    ok = _review(bureau, d["contract"], decision="register", registration_no=number, registered_on=TODAY.isoformat())
    assert ok.status_code == 302
    status_url = f"/contracts/{d['contract']}/status"
    assert post(seller, status_url, {"action": "revoke", "reason": "x"}).status_code == 403
    resp = post(bureau, status_url, {"action": "terminate", "reason": "双方协议解除"})
    assert resp.status_code == 422 and "请填写终止日期" in resp.get_data(as_text=True)
    assert (
        post(
            bureau, status_url, {"action": "terminate", "reason": "双方协议解除", "terminated_on": TODAY.isoformat()}
        ).status_code
        == 302
    )
    assert post(bureau, status_url, {"action": "revoke", "reason": "登记材料不实"}).status_code == 302
    resp = post(bureau, status_url, {"action": "revoke", "reason": "再次"})
    assert resp.status_code == 409 and "不能撤销登记" in resp.get_data(as_text=True)
    with app.app_context():
        contract = db.session.get(Contract, d["contract"])
        assert contract.status == ContractStatus.REVOKED
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "contract", AuditEntry.object_id == str(contract.id))
            .order_by(AuditEntry.id)
        ).all()
        transitions = [(e.detail.get("old"), e.detail.get("new")) for e in entries if e.action.startswith("contract_")]
        assert transitions[1:] == [
            ("draft", "submitted"),
            ("submitted", "returned"),
            ("returned", "submitted"),
            ("submitted", "registered"),
            ("registered", "terminated"),
            ("terminated", "revoked"),
        ]
        assert all(e.actor_id for e in entries)


def test_registered_contract_takes_new_payments_and_their_evidence(app):
    with app.app_context():
        p = deal(app, db.session, "registered")
        db.session.commit()
        contract_id, buyer = p["contract"].id, p["buyer"].username
    client = as_user(app, buyer)
    assert _pay(client, contract_id, amount="200.00").status_code == 302
    with app.app_context():
        payment_id = db.session.scalar(select(Payment.id).where(Payment.contract_id == contract_id))
    assert _upload(client, contract_id, PDF, "发票.pdf", kind="invoice", payment_id=str(payment_id)).status_code == 302
    resp = _upload(client, contract_id, PDF, "新合同.pdf", kind="contract")
    assert resp.status_code == 422 and "不能再更改" in resp.get_data(as_text=True)
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert [f.kind for f in payment.files] == [EvidenceKind.INVOICE] and not payment.evidenced
        attach(app, db.session, payment.contract.broker, payment.contract, EvidenceKind.VOUCHER, payment=payment)
        db.session.commit()
        assert db.session.get(Payment, payment_id).evidenced


def test_sweep_uploads_command(app, d):
    from tests.web.contracts_factory import stage

    orphan = stage(app, PDF, "orphan.pdf")
    result = app.test_cli_runner().invoke(args=["contracts", "sweep-uploads", "--hours", "0"])
    assert result.exit_code == 0 and "删除 1 个未入库的临时文件" in result.output
    assert not orphan.temp_path.exists()


def _case(app, p, broker_id):
    from techmarket.domain.listings import IPType, Maturity, TechField
    from techmarket.models import Achievement, MatchCase, Need

    need = Need(
        title="轴承套圈磨削烧伤检测",
        field=TechField.ADVANCED_MANUFACTURING,
        description="需求",
        org=p["buyer_org"],
        deadline=TODAY + timedelta(days=90),
    )
    achievement = Achievement(
        title="磨削烧伤在线检测技术",
        field=TechField.ADVANCED_MANUFACTURING,
        summary="摘要",
        description="说明",
        maturity=Maturity.PILOT,
        ip_type=IPType.PATENT,
        org=p["seller_org"],
    )
    case = MatchCase(need=need, achievement=achievement, broker_id=broker_id)
    db.session.add_all([need, achievement, case])
    db.session.flush()
    return case


def test_a_contract_from_a_match_case_links_it_and_its_broker(app):
    with app.app_context():
        p = deal(app, db.session)
        case_id = _case(app, p, p["broker"].id).id
        db.session.commit()
        seller_name, seller_code = p["seller_org"].name, p["seller_org"].credit_code
        buyer, outsider, broker_id = p["buyer"].username, p["outsider"].username, p["broker"].id
    client = as_user(app, buyer)
    html = client.get(f"/contracts/new?case={case_id}").get_data(as_text=True)
    assert "磨削烧伤在线检测技术" in html and seller_code in html and f'value="{case_id}"' in html
    form = {k: v for k, v in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', html)}
    data = contract_form(form["buyer_credit_code"], seller_code, seller_name=seller_name, match_case=str(case_id))
    resp = post(client, "/contracts/new", data)
    assert resp.status_code == 302
    with app.app_context():
        contract = db.session.scalar(select(Contract).where(Contract.form_token == data["form_token"]))
        assert contract.match_case_id == case_id and contract.broker_id == broker_id
    # someone who may not see the case gets no prefill and cannot link it
    other = as_user(app, outsider)
    assert "磨削烧伤在线检测技术" not in other.get(f"/contracts/new?case={case_id}").get_data(as_text=True)

"""The contract services on the test database: drafting, the workflow, payments, evidence, audit, rewards input."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from techmarket.domain.contracts import ContractStatus, EvidenceKind
from techmarket.extensions import db
from techmarket.models import AuditEntry, Contract, Payment
from techmarket.services import contracts as svc
from techmarket.services.accounts import ServiceError
from tests.conftest import make_org, make_user, unique_name
from tests.web.contracts_factory import (
    PNG,
    SIGNED,
    TODAY,
    attach,
    clerk,
    contract_data,
    deal,
    new_registration_no,
    outside_party,
    parties,
    party,
)


def audit_actions(contract_id):
    return [e.action for e in svc.history(db.session, contract_id)]


def count_contracts():
    return db.session.scalar(select(func.count()).select_from(Contract))


def test_member_drafts_a_contract_linked_to_both_platform_parties(app_ctx):
    p = parties(db.session)
    data = contract_data(party(p["buyer_org"]), party(p["seller_org"]))
    contract = svc.create_contract(db.session, p["buyer"], data, form_token=unique_name("t"), today=TODAY)
    db.session.commit()
    assert contract.status == ContractStatus.DRAFT
    assert contract.buyer_org_id == p["buyer_org"].id and contract.seller_org_id == p["seller_org"].id
    assert contract.broker_id is None and contract.contract_amount == Decimal("1000000.00")
    entry = svc.history(db.session, contract.id)[0]
    assert entry.action == "contract_create" and entry.actor_id == p["buyer"].id
    assert entry.detail["technology_amount"] == "800000.00"


def test_outside_seller_and_broker_draft(app_ctx):
    p = parties(db.session)
    data = contract_data(party(p["buyer_org"]), outside_party())
    contract = svc.create_contract(db.session, p["broker"], data, form_token=unique_name("t"), today=TODAY)
    assert contract.seller_org_id is None and contract.broker_id == p["broker"].id
    assert contract.seller_local is False and contract.buyer_local is True
    db.session.rollback()


def test_member_of_neither_party_cannot_draft(app_ctx):
    p = parties(db.session)
    data = contract_data(party(p["buyer_org"]), party(p["seller_org"]))
    with pytest.raises(ServiceError, match="本单位必须是合同的买方或卖方"):
        svc.create_contract(db.session, p["outsider"], data, form_token=unique_name("t"), today=TODAY)
    db.session.rollback()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"technology_amount": Decimal("1000000.01")}, "technology_amount", "不能大于合同成交额"),
        ({"contract_amount": Decimal("0")}, "contract_amount", "大于0"),
        ({"contract_amount": Decimal("-5")}, "contract_amount", "大于0"),
        ({"contract_amount": Decimal("1.001")}, "contract_amount", "两位小数"),
        ({"signed_on": TODAY + timedelta(days=1)}, "signed_on", "不能晚于今天"),
        ({"title": "  "}, "title", "合同名称"),
    ],
)
def test_bad_contracts_refused_and_nothing_saved(app_ctx, changes, field, message):
    p = parties(db.session)
    db.session.commit()
    before = count_contracts()
    data = contract_data(party(p["buyer_org"]), party(p["seller_org"]), **changes)
    with pytest.raises(ServiceError, match=message) as info:
        svc.create_contract(db.session, p["buyer"], data, form_token=unique_name("t"), today=TODAY)
    assert info.value.field == field
    db.session.rollback()
    assert count_contracts() == before


def test_wrong_credit_code_and_same_party_refused(app_ctx):
    p = parties(db.session)
    bad = svc.PartyData("某公司", "91410381MA00000000", "", True)
    with pytest.raises(ServiceError, match="校验位") as info:
        svc.create_contract(
            db.session, p["buyer"], contract_data(party(p["buyer_org"]), bad), form_token=unique_name("t"), today=TODAY
        )
    assert info.value.field == "seller_credit_code"
    same = contract_data(party(p["buyer_org"]), party(p["buyer_org"]))
    with pytest.raises(ServiceError, match="同一单位"):
        svc.create_contract(db.session, p["buyer"], same, form_token=unique_name("t"), today=TODAY)
    db.session.rollback()


def test_update_records_old_and_new_and_checks_the_version(app, app_ctx):
    p = deal(app, db.session)
    contract = p["contract"]
    data = contract_data(
        party(p["buyer_org"]), party(p["seller_org"]), contract_amount=Decimal("1200000.50"), title="修订后的合同名称"
    )
    changes = svc.update_contract(
        db.session, p["broker"], contract, data, expected_version=contract.version, today=TODAY
    )
    assert changes["contract_amount"] == ["1000000.00", "1200000.50"]
    assert changes["title"][1] == "修订后的合同名称"
    entry = svc.history(db.session, contract.id)[-1]
    assert entry.action == "contract_update" and entry.detail["changes"]["contract_amount"][1] == "1200000.50"
    with pytest.raises(ServiceError, match="已被他人修改"):
        svc.update_contract(db.session, p["broker"], contract, data, expected_version=contract.version - 1, today=TODAY)
    db.session.rollback()


def test_submit_needs_the_contract_text(app, app_ctx):
    p = parties(db.session)
    data = contract_data(party(p["buyer_org"]), party(p["seller_org"]))
    contract = svc.create_contract(db.session, p["seller"], data, form_token=unique_name("t"), today=TODAY)
    with pytest.raises(ServiceError, match="请先上传合同文本"):
        svc.submit(db.session, p["seller"], contract)
    attach(app, db.session, p["seller"], contract, EvidenceKind.CONTRACT)
    svc.submit(db.session, p["seller"], contract)
    assert contract.status == ContractStatus.SUBMITTED and contract.submitted_at is not None
    db.session.rollback()


def test_register_assigns_number_corrects_downward_and_audits(app, app_ctx):
    p = deal(app, db.session, "submitted")
    contract = p["contract"]
    number = new_registration_no()
    with pytest.raises(ServiceError, match="只能等于或低于"):
        svc.register(
            db.session,
            clerk(db.session),
            contract,
            registration_no=number,
            registered_on=TODAY,
            technology_amount=Decimal("800000.01"),
            today=TODAY,
        )
    svc.register(
        db.session,
        clerk(db.session),
        contract,
        registration_no=number.lower(),
        registered_on=TODAY,
        technology_amount=Decimal("750000.00"),
        today=TODAY,
    )
    db.session.commit()
    assert contract.status == ContractStatus.REGISTERED and contract.registration_no == number
    assert contract.registered_technology_amount == Decimal("750000.00")
    entry = svc.history(db.session, contract.id)[-1]
    assert entry.action == "contract_register" and entry.actor_id == clerk(db.session).id
    assert (entry.detail["old"], entry.detail["new"]) == ("submitted", "registered")
    assert entry.detail["registered_technology_amount"] == "750000.00"

    other = deal(app, db.session, "submitted")["contract"]
    with pytest.raises(ServiceError, match="已被另一份合同使用") as info:
        svc.register(
            db.session,
            clerk(db.session),
            other,
            registration_no=number,
            registered_on=TODAY,
            technology_amount=None,
            today=TODAY,
        )
    assert info.value.field == "registration_no"
    db.session.rollback()


def test_registered_contract_is_read_only_but_takes_payments(app, app_ctx):
    p = deal(app, db.session, "registered")
    contract = p["contract"]
    data = contract_data(party(p["buyer_org"]), party(p["seller_org"]), title="改名")
    with pytest.raises(ServiceError, match="不能修改"):
        svc.update_contract(db.session, p["seller"], contract, data, expected_version=contract.version, today=TODAY)
    with pytest.raises(ServiceError, match="不能再更改"):
        attach(app, db.session, p["seller"], contract, EvidenceKind.CONTRACT)
    payment = svc.add_payment(
        db.session,
        p["buyer"],
        contract,
        paid_on=TODAY,
        amount=Decimal("300000.00"),
        technology_amount=None,
        confirm_over_total=False,
        today=TODAY,
    )
    assert payment.id and contract.status == ContractStatus.REGISTERED
    db.session.rollback()


def test_return_needs_a_reason_and_the_submitter_resubmits(app, app_ctx):
    p = deal(app, db.session, "submitted")
    contract = p["contract"]
    with pytest.raises(ServiceError, match="退回时必须填写原因"):
        svc.return_contract(db.session, clerk(db.session), contract, " ")
    svc.return_contract(db.session, clerk(db.session), contract, "技术交易额核算有误")
    assert contract.status == ContractStatus.RETURNED and contract.return_reason == "技术交易额核算有误"
    data = contract_data(party(p["buyer_org"]), party(p["seller_org"]), technology_amount=Decimal("700000.00"))
    svc.update_contract(db.session, p["seller"], contract, data, expected_version=contract.version, today=TODAY)
    svc.submit(db.session, p["seller"], contract)
    assert contract.status == ContractStatus.SUBMITTED
    assert audit_actions(contract.id)[-4:] == [
        "contract_submit",
        "contract_return",
        "contract_update",
        "contract_submit",
    ]
    db.session.rollback()


def test_payments_exact_to_the_fen_over_total_flagged(app, app_ctx):
    p = deal(app, db.session, "registered", contract_amount=Decimal("0.30"), technology_amount=Decimal("0.30"))
    contract = p["contract"]

    def pay(amount, confirm=False, **kw):
        return svc.add_payment(
            db.session,
            p["buyer"],
            contract,
            paid_on=kw.pop("paid_on", TODAY),
            amount=Decimal(amount),
            technology_amount=kw.pop("technology_amount", None),
            confirm_over_total=confirm,
            today=TODAY,
        )

    for _ in range(3):
        pay("0.10")
    assert contract.paid_total == Decimal("0.30")
    with pytest.raises(ServiceError, match="超过合同成交额"):
        pay("0.01")
    flagged = pay("0.01", confirm=True)
    assert flagged.over_total and contract.paid_total == Decimal("0.31")
    with pytest.raises(ServiceError, match="不能早于合同签订日期"):
        pay("0.01", confirm=True, paid_on=SIGNED - timedelta(days=1))
    with pytest.raises(ServiceError, match="不能晚于今天"):
        pay("0.01", confirm=True, paid_on=TODAY + timedelta(days=1))
    entries = [e for e in svc.history(db.session, contract.id) if e.action == "payment_add"]
    assert [e.detail["amount"] for e in entries] == ["0.10", "0.10", "0.10", "0.01"]
    assert entries[-1].detail["over_total"] is True and entries[-1].detail["paid_total"] == "0.31"
    db.session.rollback()


def test_evidence_belongs_to_a_payment_of_the_same_contract(app, app_ctx):
    p = deal(app, db.session, "registered")
    other = deal(app, db.session, "registered")
    contract = p["contract"]
    payment = svc.add_payment(
        db.session,
        p["buyer"],
        contract,
        paid_on=TODAY,
        amount=Decimal("100.00"),
        technology_amount=None,
        confirm_over_total=False,
        today=TODAY,
    )
    with pytest.raises(ServiceError, match="必须对应本合同的一笔付款"):
        attach(app, db.session, p["buyer"], other["contract"], EvidenceKind.VOUCHER, payment=payment)
    with pytest.raises(ServiceError, match="必须对应本合同的一笔付款"):
        attach(app, db.session, p["buyer"], contract, EvidenceKind.INVOICE)
    attach(app, db.session, p["buyer"], contract, EvidenceKind.VOUCHER, payment=payment, data=PNG, name="凭证.png")
    assert not payment.evidenced
    attach(app, db.session, p["buyer"], contract, EvidenceKind.INVOICE, payment=payment)
    assert payment.evidenced
    entry = svc.history(db.session, contract.id)[-1]
    assert entry.action == "evidence_add" and entry.detail["kind"] == "invoice"
    db.session.rollback()


def test_terminate_and_revoke(app, app_ctx):
    p = deal(app, db.session, "registered")
    contract = p["contract"]
    svc.add_payment(
        db.session,
        p["buyer"],
        contract,
        paid_on=TODAY - timedelta(days=3),
        amount=Decimal("100.00"),
        technology_amount=None,
        confirm_over_total=False,
        today=TODAY,
    )
    with pytest.raises(ServiceError, match="晚于该终止日期"):
        svc.terminate(
            db.session, clerk(db.session), contract, terminated_on=TODAY - timedelta(days=4), reason="解除", today=TODAY
        )
    with pytest.raises(ServiceError, match="终止时必须填写原因"):
        svc.terminate(db.session, clerk(db.session), contract, terminated_on=TODAY, reason="", today=TODAY)
    svc.terminate(
        db.session, clerk(db.session), contract, terminated_on=TODAY - timedelta(days=1), reason="解除", today=TODAY
    )
    with pytest.raises(ServiceError, match="终止"):
        svc.add_payment(
            db.session,
            p["buyer"],
            contract,
            paid_on=TODAY,
            amount=Decimal("1.00"),
            technology_amount=None,
            confirm_over_total=False,
            today=TODAY,
        )
    svc.revoke(db.session, clerk(db.session), contract, "登记材料不实")
    assert contract.status == ContractStatus.REVOKED
    with pytest.raises(ServiceError, match="不能再录入付款"):
        svc.add_payment(
            db.session,
            p["buyer"],
            contract,
            paid_on=TODAY,
            amount=Decimal("1.00"),
            technology_amount=None,
            confirm_over_total=False,
            today=TODAY,
        )
    with pytest.raises(ServiceError, match="不能撤销登记"):
        svc.revoke(db.session, clerk(db.session), contract, "再次")
    assert audit_actions(contract.id)[-2:] == ["contract_terminate", "contract_revoke"]
    db.session.rollback()


def test_reward_input_from_a_registered_contract(app, app_ctx):
    p = deal(app, db.session, "registered")
    contract = p["contract"]
    pay = {"confirm_over_total": False, "today": TODAY}
    first = svc.add_payment(
        db.session,
        p["buyer"],
        contract,
        paid_on=TODAY - timedelta(days=2),
        amount=Decimal("400000.10"),
        technology_amount=Decimal("320000.05"),
        **pay,
    )
    svc.add_payment(
        db.session, p["buyer"], contract, paid_on=TODAY, amount=Decimal("0.20"), technology_amount=None, **pay
    )
    attach(app, db.session, p["buyer"], contract, EvidenceKind.VOUCHER, payment=first)
    attach(app, db.session, p["buyer"], contract, EvidenceKind.INVOICE, payment=first)
    db.session.flush()
    db.session.refresh(contract)
    result = svc.to_reward_contract(contract)
    assert result.id == contract.registration_no and result.type == "技术转让（专利权）"
    assert result.status == "registered" and result.buyer.local and not result.seller.local
    assert result.technology_amount == Decimal("800000.00") and not result.subsidized
    assert [(x.amount, x.technology_amount, x.evidence) for x in result.payments] == [
        (Decimal("400000.10"), Decimal("320000.05"), True),
        (Decimal("0.20"), None, False),
    ]
    assert sum(x.amount for x in result.payments) == Decimal("400000.30")
    draft = deal(app, db.session)["contract"]
    with pytest.raises(ValueError, match="尚未登记"):
        svc.to_reward_contract(draft)
    db.session.rollback()


def test_visible_contracts_scoped_to_parties_broker_and_bureau(app, app_ctx):
    p = deal(app, db.session)
    db.session.commit()
    cid = p["contract"].id

    def ids(user):
        return set(db.session.scalars(svc.visible_contracts(user).with_only_columns(Contract.id)))

    assert cid in ids(p["buyer"]) and cid in ids(p["seller"]) and cid in ids(p["broker"])
    assert cid in ids(clerk(db.session))
    assert cid not in ids(p["outsider"]) and cid not in ids(p["other_broker"])


def _register_in_thread(app, contract_id, number, results):
    with app.app_context():
        try:
            contract = svc.lock(db.session, contract_id)
            svc.register(
                db.session,
                clerk(db.session),
                contract,
                registration_no=number,
                registered_on=TODAY,
                technology_amount=None,
                today=TODAY,
            )
            db.session.commit()
            results.append("ok")
        except ServiceError as exc:
            db.session.rollback()
            results.append(exc.message)
        except IntegrityError:  # PostgreSQL: the UNIQUE index decides between two different contracts
            db.session.rollback()
            results.append("duplicate")
        finally:
            db.session.remove()


def test_two_clerks_registering_at_once_give_exactly_one_result(app):
    with app.app_context():
        contract_id = deal(app, db.session, "submitted")["contract"].id
        db.session.commit()
    results: list[str] = []
    threads = [
        threading.Thread(target=_register_in_thread, args=(app, contract_id, new_registration_no(), results))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[0] == "ok" and results.count("ok") == 1, results
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "contract_register", AuditEntry.object_id == str(contract_id))
        ).all()
        assert len(entries) == 1


def test_two_contracts_registered_at_once_under_one_number_give_one(app):
    with app.app_context():
        ids = [deal(app, db.session, "submitted")["contract"].id for _ in range(2)]
        db.session.commit()
    number = new_registration_no()
    results: list[str] = []
    threads = [threading.Thread(target=_register_in_thread, args=(app, cid, number, results)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and len(results) == 2, results
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Contract.registration_no == number)) == 1


def test_unique_registration_number_in_the_database(app, app_ctx):
    a = deal(app, db.session, "registered")["contract"]
    b = deal(app, db.session, "registered")["contract"]
    db.session.commit()
    b.registration_no = a.registration_no
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_payment_token_is_unique(app, app_ctx):
    p = deal(app, db.session, "registered")
    db.session.commit()
    token = unique_name("pay")
    for _ in range(2):
        db.session.add(Payment(contract_id=p["contract"].id, paid_on=TODAY, amount=Decimal("1.00"), form_token=token))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_make_org_helpers_still_work(app_ctx):
    # guard: the factory's orgs are verified and their members can draft
    org = make_org(db.session)
    assert make_user(db.session, "enterprise", org=org).org.status.value == "verified"
    db.session.rollback()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("technology_amount", Decimal("1000000.01")),
        ("contract_amount", Decimal("0")),
        ("registered_technology_amount", Decimal("800000.01")),
    ],
)
def test_the_database_refuses_broken_money_too(app, app_ctx, column, value):
    from sqlalchemy import update

    contract = deal(app, db.session)["contract"]
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(update(Contract).where(Contract.id == contract.id).values({column: value}))
    db.session.rollback()
    payment = Payment(contract_id=contract.id, paid_on=TODAY, amount=Decimal("1.00"), technology_amount=Decimal("1.01"))
    db.session.add(payment)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

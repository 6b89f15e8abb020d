"""Builders for contract tests: parties, contract data, staged evidence, contracts in any state."""

from __future__ import annotations

import functools
import io
import uuid
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from techmarket import uploads
from techmarket.domain.accounts import Role, Verification
from techmarket.domain.contracts import ContractType, EvidenceKind
from techmarket.domain.hashing import hash_password
from techmarket.domain.listings import IPType, TechField
from techmarket.models import User
from techmarket.services import contracts as svc
from techmarket.services.contracts import ContractData, PartyData
from tests.conftest import make_org, unique_credit_code, unique_name

PDF = b"%PDF-1.4\n% test contract\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 16
TODAY = date.today()
SIGNED = TODAY - timedelta(days=200)


def new_registration_no() -> str:
    return "2026410381" + uuid.uuid4().hex[:10].upper()


def party(org) -> PartyData:
    return PartyData(org.name, org.credit_code, org.town or "", org.local)


def outside_party(name: str = "北京智造科技有限公司") -> PartyData:
    return PartyData(name, unique_credit_code("110108"), "北京市海淀区", False)


def contract_data(buyer: PartyData, seller: PartyData, **kw) -> ContractData:
    data = ContractData(
        title="高精度轴承套圈磨削工艺技术转让合同",
        contract_type=ContractType.TRANSFER_PATENT,
        buyer=buyer,
        seller=seller,
        signed_on=SIGNED,
        contract_amount=Decimal("1000000.00"),
        technology_amount=Decimal("800000.00"),
        tech_field=TechField.ADVANCED_MANUFACTURING,
        ip_type=IPType.PATENT,
    )
    return replace(data, **kw)


def clerk(session) -> User:
    return session.scalar(select(User).where(User.username == "bureau"))


def stage(app, data: bytes = PDF, name: str = "合同.pdf") -> uploads.StagedFile:
    return uploads.stage(io.BytesIO(data), name, app.config["UPLOAD_FOLDER"], app.config["UPLOAD_LIMIT_BYTES"])


def attach(app, session, actor, contract, kind: EvidenceKind, payment=None, data: bytes = PDF, name="合同.pdf"):
    staged = stage(app, data, name)
    try:
        evidence = svc.add_evidence(session, actor, contract, kind, staged, payment=payment)
    except BaseException:
        uploads.discard(staged)
        raise
    uploads.promote(staged)  # tests promote before their commit; routes do it after
    return evidence


PASSWORD = "correct horse battery"


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def quick_user(session, role: str = "enterprise", org=None, **kw) -> User:
    """Like conftest.make_user, hashing the password once per run (argon2 is slow on purpose)."""
    user = User(
        username=kw.pop("username", unique_name()),
        display_name=kw.pop("display_name", "测试用户"),
        password_hash=_password_hash(),
        role=Role(role),
        org=org,
        broker_status=Verification.VERIFIED if role == "broker" else None,
        **kw,
    )
    session.add(user)
    session.flush()
    return user


def parties(session):
    """A local enterprise (buyer), a university (seller), their members and a verified broker."""
    buyer_org = make_org(session, "enterprise", name=f"偃师市{unique_name('')}轴承有限公司")
    seller_org = make_org(session, "university", name=f"{unique_name('')}科技大学", local=False, town=None)
    return {
        "buyer_org": buyer_org,
        "seller_org": seller_org,
        "buyer": quick_user(session, "enterprise", org=buyer_org),
        "seller": quick_user(session, "institute", org=seller_org),
        "broker": quick_user(session, "broker"),
        "outsider": quick_user(session, "enterprise", org=make_org(session, "enterprise")),
        "other_broker": quick_user(session, "broker"),
    }


def deal(app, session, status: str = "draft", *, broker: bool = True, **kw):
    """Parties plus a contract driven through the real services to ``status``."""
    p = parties(session)
    actor = p["broker"] if broker else p["buyer"]
    contract = svc.create_contract(
        session,
        actor,
        contract_data(party(p["buyer_org"]), party(p["seller_org"]), **kw),
        form_token=unique_name("t"),
        today=TODAY,
    )
    attach(app, session, actor, contract, EvidenceKind.CONTRACT)
    if status != "draft":
        svc.submit(session, p["seller"], contract)
    if status == "returned":
        svc.return_contract(session, clerk(session), contract, "合同文本缺少签章页")
    if status in ("registered", "terminated", "revoked"):
        svc.register(
            session,
            clerk(session),
            contract,
            registration_no=new_registration_no(),
            registered_on=SIGNED + timedelta(days=10),
            technology_amount=None,
            today=TODAY,
        )
    if status == "terminated":
        svc.terminate(
            session,
            clerk(session),
            contract,
            terminated_on=TODAY - timedelta(days=5),
            reason="双方协议解除",
            today=TODAY,
        )
    if status == "revoked":
        svc.revoke(session, clerk(session), contract, "合同系伪造")
    p["contract"] = contract
    return p


def matrix_contracts(app, session) -> dict[str, int]:
    """Contracts for the route × role matrix, between the demo enterprise (buyer) and institute (seller).

    - ``deal_contract``: a draft the demo broker drafted; its one file is a certificate, so submitting
      it is refused (409) for want of the contract text and the matrix changes nothing;
    - ``registered_contract``: registered, no broker (the demo broker may not see it);
    - ``other_contract``: between two other units, by another broker: only the bureau sees it.
    """

    def user(name: str) -> User:
        return session.scalar(select(User).where(User.username == name))

    demo_broker = user("broker")
    buyer_org, seller_org = user("enterprise").org, user("institute").org
    data = contract_data(party(buyer_org), party(seller_org), title="矩阵测试合同")
    deal_contract = svc.create_contract(session, demo_broker, data, form_token=unique_name("m"), today=TODAY)
    deal_file = attach(app, session, demo_broker, deal_contract, EvidenceKind.CERTIFICATE)

    registered = svc.create_contract(session, user("institute"), data, form_token=unique_name("m"), today=TODAY)
    attach(app, session, user("institute"), registered, EvidenceKind.CONTRACT)
    svc.submit(session, user("institute"), registered)
    svc.register(
        session,
        clerk(session),
        registered,
        registration_no=new_registration_no(),
        registered_on=TODAY,
        technology_amount=None,
        today=TODAY,
    )
    p = deal(app, session)
    other_file = p["contract"].files[0]
    session.commit()
    return {
        "deal_contract": deal_contract.id,
        "deal_file": deal_file.id,
        "registered_contract": registered.id,
        "other_contract": p["contract"].id,
        "other_file": other_file.id,
    }

"""Who may see and change a contract, on plain stand-ins (no app, no database)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from techmarket import permissions as p
from techmarket.domain.accounts import Role, Verification


@dataclass
class U:
    id: int
    role: Role
    org_id: int | None = None
    broker_status: Verification | None = None
    org: object = None


@dataclass
class C:
    buyer_org_id: int | None
    seller_org_id: int | None
    broker_id: int | None = None


@dataclass
class OrgStub:
    status: Verification


clerk = U(1, Role.BUREAU, 1)
admin = U(2, Role.ADMIN, 1)
buyer = U(3, Role.ENTERPRISE, 10, org=OrgStub(Verification.VERIFIED))
seller = U(4, Role.INSTITUTE, 20, org=OrgStub(Verification.VERIFIED))
other_co = U(5, Role.ENTERPRISE, 11, org=OrgStub(Verification.VERIFIED))
broker = U(6, Role.BROKER, None, Verification.VERIFIED)
other_broker = U(7, Role.BROKER, None, Verification.VERIFIED)
pending_broker = U(8, Role.BROKER, None, Verification.PENDING)
pending_member = U(9, Role.ENTERPRISE, 12, org=OrgStub(Verification.PENDING))
broker_in_buyer_org = U(10, Role.BROKER, 10, Verification.VERIFIED)  # a broker's org is no party membership

DEAL = C(buyer_org_id=10, seller_org_id=20, broker_id=6)
OUTSIDE_SELLER = C(buyer_org_id=10, seller_org_id=None)


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        (clerk, True),
        (admin, True),
        (buyer, True),
        (seller, True),
        (broker, True),
        (other_co, False),
        (other_broker, False),
        (broker_in_buyer_org, False),
        (None, False),
    ],
)
def test_can_view_contract_and_its_evidence(user, allowed):
    assert p.can_view_contract(user, DEAL) is allowed


@pytest.mark.parametrize(
    ("user", "contract", "allowed"),
    [
        (seller, DEAL, True),
        (broker, DEAL, True),
        (buyer, DEAL, False),  # the seller side submits
        (buyer, OUTSIDE_SELLER, True),  # …unless the seller is not on the platform
        (clerk, DEAL, False),
        (other_co, OUTSIDE_SELLER, False),
        (None, DEAL, False),
    ],
)
def test_can_submit_contract(user, contract, allowed):
    assert p.can_submit_contract(user, contract) is allowed


def test_create_edit_pay_review():
    assert p.can_create_contract(buyer) and p.can_create_contract(broker)
    assert not p.can_create_contract(pending_broker) and not p.can_create_contract(pending_member)
    assert not p.can_create_contract(clerk) and not p.can_create_contract(None)
    assert p.can_edit_contract(buyer, DEAL) and p.can_edit_contract(broker, DEAL)
    assert not p.can_edit_contract(clerk, DEAL) and not p.can_edit_contract(other_broker, DEAL)
    assert p.can_record_payment(seller, DEAL) and not p.can_record_payment(other_co, DEAL)
    assert p.can_review_contract(clerk) and p.can_review_contract(admin)
    assert not p.can_review_contract(seller) and not p.can_review_contract(broker)

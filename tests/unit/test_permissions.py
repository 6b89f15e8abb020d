"""The permission predicates, on plain stand-ins (no app, no database)."""

from dataclasses import dataclass

import pytest

from techmarket import permissions as p
from techmarket.domain.accounts import OrgKind, Role, Verification


@dataclass
class U:
    id: int
    role: Role
    org_id: int | None = None
    broker_status: Verification | None = None


@dataclass
class Org:
    id: int
    kind: OrgKind
    status: Verification = Verification.VERIFIED


BUREAU_ORG = Org(1, OrgKind.BUREAU)
ACME = Org(10, OrgKind.ENTERPRISE)
PENDING_CO = Org(11, OrgKind.ENTERPRISE, Verification.PENDING)
REJECTED_CO = Org(12, OrgKind.ENTERPRISE, Verification.REJECTED)
UNI = Org(20, OrgKind.UNIVERSITY)

clerk = U(1, Role.BUREAU, 1)
admin = U(2, Role.ADMIN, 1)
acme_member = U(3, Role.ENTERPRISE, 10)
pending_member = U(4, Role.ENTERPRISE, 11)
rejected_member = U(7, Role.ENTERPRISE, 12)
professor = U(5, Role.INSTITUTE, 20)
broker = U(6, Role.BROKER, None, Verification.VERIFIED)
new_broker = U(8, Role.BROKER, None, Verification.PENDING)


@pytest.mark.parametrize(
    ("user", "org", "allowed"),
    [
        (clerk, PENDING_CO, True),
        (admin, PENDING_CO, True),
        (clerk, BUREAU_ORG, False),  # the bureau is not verified by itself
        (acme_member, PENDING_CO, False),
        (pending_member, PENDING_CO, False),  # nobody verifies their own unit
        (broker, PENDING_CO, False),
        (None, PENDING_CO, False),
    ],
)
def test_can_verify_org(user, org, allowed):
    assert p.can_verify_org(user, org) is allowed


@pytest.mark.parametrize(
    ("user", "org", "allowed"),
    [
        (acme_member, ACME, True),
        (pending_member, PENDING_CO, False),
        (rejected_member, REJECTED_CO, False),
        (acme_member, PENDING_CO, False),  # not a member
        (professor, UNI, True),
        (broker, ACME, False),
        (clerk, ACME, False),  # the bureau does not publish listings
        (None, ACME, False),
    ],
)
def test_can_publish(user, org, allowed):
    assert p.can_publish(user, org) is allowed


def test_refusal_reasons_explain_why():
    assert "审核中" in p.publish_refusal_reason(pending_member, PENDING_CO)
    assert "驳回" in p.publish_refusal_reason(rejected_member, REJECTED_CO)
    assert p.publish_refusal_reason(acme_member, ACME) is None


@pytest.mark.parametrize(
    ("user", "org", "allowed"),
    [
        (None, ACME, True),
        (None, PENDING_CO, False),
        (acme_member, PENDING_CO, False),
        (pending_member, PENDING_CO, True),
        (clerk, PENDING_CO, True),
    ],
)
def test_can_view_org(user, org, allowed):
    assert p.can_view_org(user, org) is allowed


@pytest.mark.parametrize(
    ("user", "org", "allowed"),
    [
        (acme_member, ACME, True),
        (professor, ACME, False),
        (clerk, ACME, False),
        (admin, ACME, True),
        (clerk, BUREAU_ORG, False),
        (None, ACME, False),
    ],
)
def test_can_edit_org(user, org, allowed):
    assert p.can_edit_org(user, org) is allowed


def test_brokers_are_verified_by_the_bureau_only():
    assert p.can_verify_broker(clerk, new_broker)
    assert not p.can_verify_broker(broker, new_broker)
    assert not p.can_verify_broker(clerk, acme_member)  # not a broker
    assert p.can_broker(broker) and not p.can_broker(new_broker) and not p.can_broker(clerk)

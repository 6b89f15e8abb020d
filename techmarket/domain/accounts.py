"""Organisation kinds, user roles and verification states, with their Chinese labels."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    INSTITUTE = "institute"
    ACADEMICIAN_WORKSTATION = "academician_workstation"
    NEW_RD_INSTITUTION = "new_rd_institution"
    TRANSFER_INSTITUTION = "transfer_institution"
    BUREAU = "bureau"

    @property
    def label(self) -> str:
        return ORG_KIND_LABELS[self]

    @property
    def is_seller(self) -> bool:
        """技术输出方: may list technology achievements."""
        return self in SELLER_KINDS


ORG_KIND_LABELS = {
    OrgKind.ENTERPRISE: "企业",
    OrgKind.UNIVERSITY: "高校",
    OrgKind.INSTITUTE: "科研院所",
    OrgKind.ACADEMICIAN_WORKSTATION: "院士工作站",
    OrgKind.NEW_RD_INSTITUTION: "新型研发机构",
    OrgKind.TRANSFER_INSTITUTION: "技术转移机构",
    OrgKind.BUREAU: "市科技局",
}
SELLER_KINDS = frozenset(
    {
        OrgKind.UNIVERSITY,
        OrgKind.INSTITUTE,
        OrgKind.ACADEMICIAN_WORKSTATION,
        OrgKind.NEW_RD_INSTITUTION,
        OrgKind.TRANSFER_INSTITUTION,
    }
)
#: Kinds a member of the public may register (the bureau is created by an admin command).
SELF_REGISTER_KINDS = tuple(k for k in OrgKind if k is not OrgKind.BUREAU)


class Role(StrEnum):
    ENTERPRISE = "enterprise"
    INSTITUTE = "institute"
    BROKER = "broker"
    BUREAU = "bureau"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ENTERPRISE: "企业用户",
    Role.INSTITUTE: "技术输出方用户",
    Role.BROKER: "技术经纪人",
    Role.BUREAU: "科技局工作人员",
    Role.ADMIN: "系统管理员",
}


class Verification(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return VERIFICATION_LABELS[self]


VERIFICATION_LABELS = {
    Verification.PENDING: "待审核",
    Verification.VERIFIED: "已认证",
    Verification.REJECTED: "已驳回",
}


def role_for_org_kind(kind: OrgKind) -> Role:
    if kind is OrgKind.ENTERPRISE:
        return Role.ENTERPRISE
    if kind is OrgKind.BUREAU:
        return Role.BUREAU
    return Role.INSTITUTE

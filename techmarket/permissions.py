"""Who may do what: pure predicates over plain attributes.

Every route asks here; nothing else decides access. A predicate takes the acting user (or None for an
anonymous visitor) and the object, reading only plain attributes, so tests can pass simple stand-ins:

- user: ``id``, ``role`` (a :class:`Role` value), ``org_id``, ``broker_status``
- organisation: ``id``, ``kind`` (an :class:`OrgKind` value), ``status`` (a :class:`Verification` value)
"""

from __future__ import annotations

from typing import Any

from techmarket.domain.accounts import OrgKind, Role, Verification

User = Any  # anything with the attributes above; None means anonymous
Org = Any


def is_bureau(user: User) -> bool:
    return user is not None and user.role in (Role.BUREAU, Role.ADMIN)


def is_admin(user: User) -> bool:
    return user is not None and user.role == Role.ADMIN


def is_member(user: User, org: Org) -> bool:
    return user is not None and org is not None and user.org_id is not None and user.org_id == org.id


def can_view_org(user: User, org: Org) -> bool:
    """Verified organisations are public; others only to their members and the bureau."""
    return org.status == Verification.VERIFIED or is_member(user, org) or is_bureau(user)


def can_edit_org(user: User, org: Org) -> bool:
    if is_admin(user):
        return True
    return is_member(user, org) and org.kind != OrgKind.BUREAU


def can_verify_org(user: User, org: Org) -> bool:
    """Bureau staff verify any organisation but their own bureau (created verified by an admin)."""
    return is_bureau(user) and org.kind != OrgKind.BUREAU and not is_member(user, org)


def can_verify_broker(user: User, broker: User) -> bool:
    return is_bureau(user) and broker is not None and broker.role == Role.BROKER and broker.id != user.id


def can_access_verification_queue(user: User) -> bool:
    return is_bureau(user)


def can_publish(user: User, org: Org | None) -> bool:
    """A member may publish listings only once the bureau has verified the organisation."""
    if user is None or user.role not in (Role.ENTERPRISE, Role.INSTITUTE):
        return False
    return is_member(user, org) and org.status == Verification.VERIFIED


def can_broker(user: User) -> bool:
    """A broker works cases only once the bureau has verified the broker's qualification."""
    return user is not None and user.role == Role.BROKER and user.broker_status == Verification.VERIFIED


def publish_refusal_reason(user: User, org: Org | None) -> str | None:
    """Why ``can_publish`` says no, in Chinese for the page; None when it says yes."""
    if user is None:
        return "请先登录。"
    if user.role not in (Role.ENTERPRISE, Role.INSTITUTE):
        return "只有企业或技术输出方单位的用户可以发布。"
    if org is None or not is_member(user, org):
        return "您不属于该单位。"
    if org.status == Verification.PENDING:
        return "本单位尚在科技局审核中，审核通过后即可发布。"
    if org.status == Verification.REJECTED:
        return "本单位的认证申请已被驳回，请按驳回原因修改单位信息后重新提交。"
    return None

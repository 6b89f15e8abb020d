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


# --- marketplace listings (achievements and needs) ---------------------------------------------------
# listing: ``org_id``, ``org`` (the owner organisation), ``status`` (ListingStatus), ``kind``
# ("achievement" | "need"); a need also has ``anonymous``. ``grants`` is the need's access list as
# (org ids, user ids) the owner accepted.

_PRIVATE_LISTING_STATES = frozenset({"draft", "pending"})


def listing_owner_kind_ok(kind: str, org: Org) -> bool:
    """Needs come from enterprises; achievements from seller-side units."""
    if org is None:
        return False
    return org.kind == OrgKind.ENTERPRISE if kind == "need" else OrgKind(org.kind).is_seller


def can_create_listing(user: User, kind: str) -> bool:
    """Members of the right kind of unit may draft (submitting needs a verified unit, see can_publish)."""
    if user is None or user.role not in (Role.ENTERPRISE, Role.INSTITUTE) or user.org is None:
        return False
    return listing_owner_kind_ok(kind, user.org)


def owns_listing(user: User, listing: Any) -> bool:
    return user is not None and user.org_id is not None and user.org_id == listing.org_id


def can_view_listing(user: User, listing: Any) -> bool:
    """Drafts and listings under review: owner and bureau only. Everything else keeps a public page."""
    if listing.status.value not in _PRIVATE_LISTING_STATES:
        return True
    return owns_listing(user, listing) or is_bureau(user)


def can_edit_listing(user: User, listing: Any) -> bool:
    from techmarket.domain.listings import EDITABLE

    return owns_listing(user, listing) and user.role in (Role.ENTERPRISE, Role.INSTITUTE) and listing.status in EDITABLE


def can_review_listing(user: User) -> bool:
    return is_bureau(user)


def can_read_confidential(user: User, need: Any, grants: tuple[frozenset[int], frozenset[int]]) -> bool:
    """The bureau, the owner's members, and the organisations and brokers the owner accepted."""
    if user is None:
        return False
    if is_bureau(user) or owns_listing(user, need):
        return True
    org_ids, user_ids = grants
    return user.id in user_ids or (user.org_id is not None and user.org_id in org_ids)


def can_see_poster(user: User, need: Any, grants: tuple[frozenset[int], frozenset[int]]) -> bool:
    """An anonymous need hides its enterprise from everyone who may not read its confidential part."""
    return not need.anonymous or can_read_confidential(user, need, grants)


# --- technology contracts -------------------------------------------------------------------------
# contract: ``buyer_org_id``, ``seller_org_id`` (None when that party is not on the platform),
# ``broker_id``. Who may see a contract may see its evidence files; everyone else gets a 404.


def is_contract_party(user: User, contract: Any) -> bool:
    return (
        user is not None
        and user.role in (Role.ENTERPRISE, Role.INSTITUTE)
        and user.org_id is not None
        and user.org_id in (contract.buyer_org_id, contract.seller_org_id)
    )


def is_contract_broker(user: User, contract: Any) -> bool:
    return user is not None and user.role == Role.BROKER and contract.broker_id == user.id


def can_view_contract(user: User, contract: Any) -> bool:
    """The parties' members, the contract's broker and the bureau; the evidence files likewise."""
    return is_contract_party(user, contract) or is_contract_broker(user, contract) or is_bureau(user)


def can_create_contract(user: User) -> bool:
    """Members of a verified unit (which must be a party, checked by the service) and verified brokers."""
    if can_broker(user):
        return True
    return (
        user is not None
        and user.role in (Role.ENTERPRISE, Role.INSTITUTE)
        and user.org is not None
        and user.org.status == Verification.VERIFIED
    )


def can_edit_contract(user: User, contract: Any) -> bool:
    """The parties and the broker edit a draft or a returned contract (the state is checked separately)."""
    return is_contract_party(user, contract) or is_contract_broker(user, contract)


def can_submit_contract(user: User, contract: Any) -> bool:
    """The seller side submits: its members or the broker; the buyer when the seller is not on the platform."""
    if is_contract_broker(user, contract):
        return True
    if contract.seller_org_id is not None:
        return is_contract_party(user, contract) and user.org_id == contract.seller_org_id
    return is_contract_party(user, contract)


def can_record_payment(user: User, contract: Any) -> bool:
    """Payments and their vouchers and invoices come from the parties and the broker."""
    return is_contract_party(user, contract) or is_contract_broker(user, contract)


def can_review_contract(user: User) -> bool:
    """Registration, return, termination and revocation are the bureau's."""
    return is_bureau(user)


# --- match cases (对接项目) ---------------------------------------------------------------------------
# case: ``broker_id``, ``need`` (with ``org_id``), ``achievement`` (with ``org_id``), ``status``.


def case_side(user: User, case: Any) -> str | None:
    """ "buyer" or "seller" when the user is a member of that party's organisation."""
    if user is None or user.org_id is None:
        return None
    if user.org_id == case.need.org_id:
        return "buyer"
    if user.org_id == case.achievement.org_id:
        return "seller"
    return None


def is_case_broker(user: User, case: Any) -> bool:
    return user is not None and case.broker_id is not None and case.broker_id == user.id


def can_view_case(user: User, case: Any) -> bool:
    """Only the case's parties, its broker and the bureau."""
    return is_bureau(user) or is_case_broker(user, case) or case_side(user, case) is not None


def can_work_case(user: User, case: Any) -> bool:
    """Notes, meetings, next actions, status changes: the broker, or the parties when no broker is assigned."""
    if is_case_broker(user, case):
        return True
    return case.broker_id is None and case_side(user, case) is not None


def can_message_case(user: User, case: Any) -> bool:
    return is_case_broker(user, case) or case_side(user, case) is not None


def can_claim_pairs(user: User) -> bool:
    return can_broker(user)


def can_start_case(user: User, need: Any, achievement: Any) -> bool:
    """“我感兴趣”: a member of either party (with a verified unit) starts a case on a pair."""
    if user is None or user.role not in (Role.ENTERPRISE, Role.INSTITUTE) or user.org is None:
        return False
    if user.org.status != Verification.VERIFIED:
        return False
    return user.org_id in (need.org_id, achievement.org_id)

"""Registration, authentication, password changes and the bureau's verification decisions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from techmarket.domain.accounts import OrgKind, Role, Verification, role_for_org_kind
from techmarket.domain.hashing import hash_password, needs_rehash, verify_password
from techmarket.models import Organisation, User
from techmarket.models.types import utcnow
from techmarket.services import audit


class ServiceError(Exception):
    """A refused operation; ``field`` names the form field the Chinese message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class OrgData:
    name: str
    kind: OrgKind
    credit_code: str
    local: bool
    town: str | None
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    description: str = ""


@dataclass(frozen=True)
class UserData:
    username: str
    display_name: str
    password: str
    email: str = ""
    phone: str = ""


def username_taken(session: Session, username: str) -> bool:
    stmt = select(User.id).where(func.lower(User.username) == username.lower())
    return session.scalar(stmt) is not None


def credit_code_taken(session: Session, code: str) -> bool:
    return session.scalar(select(Organisation.id).where(Organisation.credit_code == code)) is not None


def _new_user(data: UserData, role: Role, org: Organisation | None) -> User:
    return User(
        username=data.username,
        display_name=data.display_name,
        email=data.email,
        phone=data.phone,
        password_hash=hash_password(data.password),
        role=role,
        org=org,
        password_changed_at=utcnow(),
    )


def _new_org(data: OrgData, status: Verification = Verification.PENDING) -> Organisation:
    return Organisation(
        name=data.name,
        kind=data.kind,
        credit_code=data.credit_code,
        local=data.local,
        town=data.town if data.local else None,
        address=data.address,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        description=data.description,
        status=status,
    )


def _check_unique(session: Session, user: UserData, org: OrgData | None) -> None:
    if username_taken(session, user.username):
        raise ServiceError("该用户名已被使用，请换一个。", "username")
    if org is not None and credit_code_taken(session, org.credit_code):
        raise ServiceError(
            "该统一社会信用代码已注册。如需为本单位增加账号，请联系本单位已有用户或市科技局。",
            "credit_code",
        )


def register_member(session: Session, org_data: OrgData, user_data: UserData, *, ip: str | None = None) -> User:
    """Self-registration of an enterprise or a seller-side unit: a new pending organisation and its first user."""
    if org_data.kind == OrgKind.BUREAU:
        raise ServiceError("市科技局账号由系统管理员创建，不能自行注册。", "kind")
    _check_unique(session, user_data, org_data)
    org = _new_org(org_data)
    user = _new_user(user_data, role_for_org_kind(org_data.kind), org)
    session.add_all([org, user])
    session.flush()
    audit.record(
        session,
        "register",
        actor_id=user.id,
        object_type="organisation",
        object_id=org.id,
        ip=ip,
        kind=org.kind.value,
        name=org.name,
    )
    return user


def register_broker(
    session: Session, user_data: UserData, certificate: str, org_data: OrgData | None, *, ip: str | None = None
) -> User:
    """A broker registers alone (independent) or with a new 技术转移机构; the bureau checks the certificate."""
    if org_data is not None and org_data.kind != OrgKind.TRANSFER_INSTITUTION:
        raise ServiceError("技术经纪人只能随技术转移机构一起注册，或作为独立经纪人注册。", "kind")
    _check_unique(session, user_data, org_data)
    org = _new_org(org_data) if org_data is not None else None
    user = _new_user(user_data, Role.BROKER, org)
    user.broker_certificate = certificate
    user.broker_status = Verification.PENDING
    session.add(user)
    if org is not None:
        session.add(org)
    session.flush()
    audit.record(
        session,
        "register",
        actor_id=user.id,
        object_type="user",
        object_id=user.id,
        ip=ip,
        role="broker",
        org_id=org.id if org else None,
    )
    return user


def create_staff_user(session: Session, user_data: UserData, *, role: Role, bureau: Organisation) -> User:
    """Bureau staff and admins are created from the command line, never by self-registration."""
    if role not in (Role.BUREAU, Role.ADMIN):
        raise ServiceError("只能创建科技局工作人员或管理员账号。", "role")
    if bureau.kind != OrgKind.BUREAU:
        raise ServiceError("工作人员必须属于市科技局。", "org")
    _check_unique(session, user_data, None)
    user = _new_user(user_data, role, bureau)
    session.add(user)
    session.flush()
    audit.record(session, "create_staff", object_type="user", object_id=user.id, role=role.value)
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def authenticate(session: Session, username: str, password: str, *, ip: str | None = None) -> User | None:
    """The user when the password is right and the account active; None otherwise (same cost either way)."""
    user = find_user(session, username) if username else None
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        audit.record(session, "login_failed", actor_id=user.id if user else None, ip=ip, username=username[:64])
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(session, "login", actor_id=user.id, ip=ip)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session cookie this user holds (logout everywhere)."""
    user.session_version = (user.session_version or 0) + 1


def change_password(session: Session, user: User, old: str, new: str, *, ip: str | None = None) -> None:
    if not verify_password(user.password_hash, old):
        raise ServiceError("当前密码不正确。", "current_password")
    if old == new:
        raise ServiceError("新密码不能与当前密码相同。", "new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_sessions(user)
    audit.record(session, "password_change", actor_id=user.id, object_type="user", object_id=user.id, ip=ip)


def decide_org(
    session: Session, actor: User, org: Organisation, approve: bool, reason: str = "", *, ip: str | None = None
) -> None:
    """The bureau verifies (已认证) or rejects (已驳回, with a reason) a pending organisation."""
    if org.status != Verification.PENDING:
        raise ServiceError(f"该单位当前状态为“{org.status.label}”，不能重复审核。")
    old = org.status
    if approve:
        org.status = Verification.VERIFIED
        org.reject_reason = None
        org.verified_at = utcnow()
        org.verified_by_id = actor.id
    else:
        reason = reason.strip()
        if not reason:
            raise ServiceError("驳回时必须填写驳回原因。", "reason")
        org.status = Verification.REJECTED
        org.reject_reason = reason
    session.flush()
    audit.record(
        session,
        "verify_org",
        actor_id=actor.id,
        object_type="organisation",
        object_id=org.id,
        ip=ip,
        old=old.value,
        new=org.status.value,
        reason=reason or None,
    )


def decide_broker(
    session: Session, actor: User, broker: User, approve: bool, reason: str = "", *, ip: str | None = None
) -> None:
    if broker.broker_status != Verification.PENDING:
        status = broker.broker_status.label if broker.broker_status else "无"
        raise ServiceError(f"该经纪人当前状态为“{status}”，不能重复审核。")
    old = broker.broker_status
    if approve:
        broker.broker_status = Verification.VERIFIED
        broker.broker_reject_reason = None
    else:
        reason = reason.strip()
        if not reason:
            raise ServiceError("驳回时必须填写驳回原因。", "reason")
        broker.broker_status = Verification.REJECTED
        broker.broker_reject_reason = reason
    session.flush()
    audit.record(
        session,
        "verify_broker",
        actor_id=actor.id,
        object_type="user",
        object_id=broker.id,
        ip=ip,
        old=old.value,
        new=broker.broker_status.value,
        reason=reason or None,
    )


def update_org(
    session: Session, actor: User, org: Organisation, data: OrgData, expected_version: int, *, ip: str | None = None
) -> None:
    """A member edits the profile; a rejected organisation goes back to 待审核 for another review."""
    if org.version != expected_version:
        raise ServiceError("该单位信息已被他人修改，请刷新页面后重新编辑（您填写的内容仍保留在表单中）。")
    if data.credit_code != org.credit_code and credit_code_taken(session, data.credit_code):
        raise ServiceError("该统一社会信用代码已被其他单位使用。", "credit_code")
    changes = {}
    for field in ("name", "credit_code", "local", "town", "address", "contact_name", "contact_phone", "description"):
        new = getattr(data, field)
        if field == "town" and not data.local:
            new = None
        if getattr(org, field) != new:
            changes[field] = [getattr(org, field), new]
            setattr(org, field, new)
    if org.status == Verification.REJECTED:
        changes["status"] = [org.status.value, Verification.PENDING.value]
        org.status = Verification.PENDING
    elif org.status == Verification.VERIFIED and ({"name", "credit_code"} & changes.keys()):
        # Identity changed: the bureau must look again before the unit publishes under it.
        changes["status"] = [org.status.value, Verification.PENDING.value]
        org.status = Verification.PENDING
    session.flush()
    if {"town", "local"} & changes.keys():
        from techmarket import matchindex

        matchindex.bump_version(session)  # cached listing pages filter on the town
    audit.record(
        session, "update_org", actor_id=actor.id, object_type="organisation", object_id=org.id, ip=ip, changes=changes
    )

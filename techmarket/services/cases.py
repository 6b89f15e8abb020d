"""Use cases of the broker pipeline: claim, start, accept, record, message, change status, notify."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from techmarket.domain.accounts import Role, Verification
from techmarket.domain.cases import (
    CaseRuleError,
    CaseStatus,
    EventKind,
    Side,
    after_acceptance,
    check_manual_transition,
)
from techmarket.domain.listings import ListingStatus
from techmarket.models import (
    Achievement,
    CaseAcceptance,
    CaseEvent,
    MatchCase,
    Need,
    NeedAccess,
    Notification,
    NotificationOptOut,
    PairDismissal,
    User,
)
from techmarket.models.types import utcnow
from techmarket.services import audit
from techmarket.services.accounts import ServiceError

NOTIFICATION_KINDS = {
    "recommendation": "新的高匹配度推荐",
    "invitation": "对接项目邀请",
    "acceptance": "对方确认或拒绝对接意向",
    "message": "对接项目中的新留言",
    "status": "对接项目状态变更",
}


# --- notifications --------------------------------------------------------------------------------------


def notify(session: Session, users: list[User], kind: str, text: str, url: str, *, exclude: int | None = None) -> int:
    """Create one notification per user who has not opted out of this kind; returns how many."""
    ids = {u.id for u in users if u is not None and u.id != exclude and u.active}
    if not ids:
        return 0
    opted_out = set(
        session.scalars(
            select(NotificationOptOut.user_id).where(
                NotificationOptOut.user_id.in_(ids), NotificationOptOut.kind == kind
            )
        )
    )
    targets = sorted(ids - opted_out)
    session.add_all(Notification(user_id=uid, kind=kind, text=text[:300], url=url) for uid in targets)
    return len(targets)


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def set_preferences(session: Session, user: User, enabled: set[str]) -> None:
    current = set(session.scalars(select(NotificationOptOut.kind).where(NotificationOptOut.user_id == user.id)))
    wanted = set(NOTIFICATION_KINDS) - enabled
    for kind in current - wanted:
        session.execute(
            NotificationOptOut.__table__.delete().where(
                NotificationOptOut.user_id == user.id, NotificationOptOut.kind == kind
            )
        )
    session.add_all(NotificationOptOut(user_id=user.id, kind=k) for k in sorted(wanted - current))
    session.flush()


# --- cases ----------------------------------------------------------------------------------------------


def party_members(session: Session, case: MatchCase) -> list[User]:
    org_ids = (case.need.org_id, case.achievement.org_id)
    return list(
        session.scalars(select(User).where(User.org_id.in_(org_ids), User.role.in_((Role.ENTERPRISE, Role.INSTITUTE))))
    )


def everyone(session: Session, case: MatchCase) -> list[User]:
    return party_members(session, case) + ([case.broker] if case.broker else [])


def _event(session: Session, case: MatchCase, kind: EventKind, actor: User | None, text: str = "", **detail) -> None:
    session.add(
        CaseEvent(
            case_id=case.id,
            kind=kind,
            actor_id=actor.id if actor else None,
            text=text,
            occurred_on=detail.pop("occurred_on", None),
            detail=detail,
        )
    )
    case.last_activity_at = utcnow()


def _case_url(case: MatchCase) -> str:
    return url_for("cases.detail", case_id=case.id)


def _check_pair(need: Need, achievement: Achievement, today: date) -> None:
    for listing, label in ((need, "技术需求"), (achievement, "科技成果")):
        if listing.current_status(today) != ListingStatus.PUBLISHED:
            raise ServiceError(f"该{label}当前不是已发布状态，不能发起对接。")


def _insert_case(session: Session, case: MatchCase) -> MatchCase:
    """Insert under the (need, achievement) UNIQUE constraint: of two concurrent claims, one wins."""
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError as exc:
        raise ServiceError("该供需配对已经有对接项目（可能刚被其他经纪人认领），请选择其他配对。") from exc
    return case


def _grant_broker_access(session: Session, case: MatchCase) -> None:
    """The assigned broker may read the need's confidential details."""
    if case.broker_id is None:
        return
    exists = session.scalar(
        select(NeedAccess.id).where(NeedAccess.need_id == case.need_id, NeedAccess.user_id == case.broker_id)
    )
    if exists is None:
        session.add(NeedAccess(need_id=case.need_id, user_id=case.broker_id, granted_by_id=None))


def claim(
    session: Session,
    broker: User,
    need: Need,
    achievement: Achievement,
    score: float | None,
    *,
    today: date,
    ip: str | None = None,
) -> MatchCase:
    if broker.role != Role.BROKER or broker.broker_status != Verification.VERIFIED:
        raise ServiceError("只有经市科技局认证的技术经纪人可以认领配对。")
    _check_pair(need, achievement, today)
    case = _insert_case(
        session,
        MatchCase(
            need=need,
            achievement=achievement,
            broker=broker,
            started_by_id=broker.id,
            score=None if score is None else round(score * 10000),
        ),
    )
    _grant_broker_access(session, case)
    _event(session, case, EventKind.ASSIGNMENT, broker, f"{broker.display_name}认领了该配对")
    notify(
        session,
        party_members(session, case),
        "invitation",
        f"技术经纪人{broker.display_name}推荐对接：{need.title} ↔ {achievement.title}",
        _case_url(case),
    )
    audit.record(
        session,
        "claim_pair",
        actor_id=broker.id,
        object_type="case",
        object_id=case.id,
        ip=ip,
        need_id=need.id,
        achievement_id=achievement.id,
    )
    return case


def start(
    session: Session, user: User, need: Need, achievement: Achievement, *, today: date, ip: str | None = None
) -> MatchCase:
    """“我感兴趣”: a party starts a case; its own side counts as accepted."""
    side = Side.BUYER if user.org_id == need.org_id else Side.SELLER
    _check_pair(need, achievement, today)
    case = _insert_case(session, MatchCase(need=need, achievement=achievement, started_by_id=user.id))
    session.add(CaseAcceptance(case_id=case.id, side=side, user_id=user.id, accepted=True))
    _event(session, case, EventKind.ACCEPTANCE, user, f"{user.display_name}发起对接并确认意向", side=side.value)
    other = [u for u in party_members(session, case) if u.org_id != user.org_id]
    notify(session, other, "invitation", f"有单位对您的发布感兴趣：{need.title} ↔ {achievement.title}", _case_url(case))
    audit.record(session, "start_case", actor_id=user.id, object_type="case", object_id=case.id, ip=ip)
    return case


def invite_broker(session: Session, user: User, case: MatchCase, broker: User, *, ip: str | None = None) -> None:
    if case.broker_id is not None:
        raise ServiceError("该对接项目已有技术经纪人。")
    if broker.role != Role.BROKER or broker.broker_status != Verification.VERIFIED:
        raise ServiceError("请选择已认证的技术经纪人。", "broker_id")
    case.broker = broker
    _grant_broker_access(session, case)
    _event(session, case, EventKind.ASSIGNMENT, user, f"邀请技术经纪人{broker.display_name}参与对接")
    session.flush()
    notify(session, [broker], "invitation", f"您被邀请参与对接项目：{case.need.title}", _case_url(case))
    audit.record(
        session, "invite_broker", actor_id=user.id, object_type="case", object_id=case.id, ip=ip, broker_id=broker.id
    )


def answer(
    session: Session, user: User, case: MatchCase, side: Side, accept: bool, reason: str = "", *, ip: str | None = None
) -> None:
    """A party accepts (recorded with who and when) or declines (ending the case, with the reason)."""
    if case.status != CaseStatus.RECOMMENDED:
        raise ServiceError(f"该对接项目当前为“{case.status.label}”，不能再确认意向。")
    if any(a.side == side for a in case.acceptances):
        raise ServiceError("本方已经答复过该对接项目。")
    reason = reason.strip()
    if not accept and not reason:
        raise ServiceError("拒绝对接时请填写原因。", "reason")
    session.add(CaseAcceptance(case=case, side=side, user_id=user.id, accepted=accept, reason=reason or None))
    session.flush()
    session.refresh(case, ["acceptances"])
    verb = "确认了对接意向" if accept else f"拒绝了对接：{reason}"
    _event(session, case, EventKind.ACCEPTANCE, user, f"{side.label}{user.display_name}{verb}", side=side.value)
    if not accept:
        old = case.status
        case.status = CaseStatus.FAILED
        case.failure_reason = f"{side.label}拒绝：{reason}"
        _event(session, case, EventKind.STATUS, user, case.failure_reason, old=old.value, new=case.status.value)
    else:
        new = after_acceptance(case.status, case.accepted_sides())
        if new != case.status:
            _event(
                session,
                case,
                EventKind.STATUS,
                None,
                "双方均已确认意向，联系方式和需求保密信息已对双方开放",
                old=case.status.value,
                new=new.value,
            )
            case.status = new
            _reveal(session, case)
    session.flush()
    notify(
        session,
        everyone(session, case),
        "acceptance",
        f"{side.label}{verb}（{case.need.title}）",
        _case_url(case),
        exclude=user.id,
    )
    audit.record(
        session,
        "case_answer",
        actor_id=user.id,
        object_type="case",
        object_id=case.id,
        ip=ip,
        side=side.value,
        accepted=accept,
        reason=reason or None,
    )


def _reveal(session: Session, case: MatchCase) -> None:
    """Both accepted: the seller's unit may read the need's confidential details."""
    exists = session.scalar(
        select(NeedAccess.id).where(NeedAccess.need_id == case.need_id, NeedAccess.org_id == case.achievement.org_id)
    )
    if exists is None:
        session.add(NeedAccess(need_id=case.need_id, org_id=case.achievement.org_id, granted_by_id=None))


def contacts_revealed(case: MatchCase) -> bool:
    return case.status in (CaseStatus.INTENT_CONFIRMED, CaseStatus.NEGOTIATING, CaseStatus.SIGNED)


def change_status(
    session: Session, user: User, case: MatchCase, target: CaseStatus, reason: str = "", *, ip: str | None = None
) -> None:
    try:
        check_manual_transition(case.status, target, reason)
    except CaseRuleError as exc:
        raise ServiceError(str(exc), "reason" if "原因" in str(exc) else None) from exc
    old = case.status
    case.status = target
    if target == CaseStatus.FAILED:
        case.failure_reason = reason.strip()
    _event(session, case, EventKind.STATUS, user, reason.strip(), old=old.value, new=target.value)
    session.flush()
    notify(
        session,
        everyone(session, case),
        "status",
        f"对接项目“{case.need.title}”状态变更为{target.label}",
        _case_url(case),
        exclude=user.id,
    )
    audit.record(
        session,
        "case_status",
        actor_id=user.id,
        object_type="case",
        object_id=case.id,
        ip=ip,
        old=old.value,
        new=target.value,
        reason=reason.strip() or None,
    )


@dataclass(frozen=True)
class EntryData:
    kind: EventKind
    text: str
    occurred_on: date | None = None
    next_action: str | None = None
    next_action_due: date | None = None


def record(session: Session, user: User, case: MatchCase, entry: EntryData, *, ip: str | None = None) -> None:
    """A note or a meeting on the timeline, optionally setting the next action and its due date."""
    if case.status in (CaseStatus.SIGNED, CaseStatus.FAILED) and entry.kind != EventKind.NOTE:
        raise ServiceError("该对接项目已结束，只能添加备注。")
    _event(session, case, entry.kind, user, entry.text, occurred_on=entry.occurred_on)
    if entry.next_action is not None:
        case.next_action = entry.next_action
        case.next_action_due = entry.next_action_due
    session.flush()
    audit.record(
        session, "case_entry", actor_id=user.id, object_type="case", object_id=case.id, ip=ip, kind=entry.kind.value
    )


def message(session: Session, user: User, case: MatchCase, text: str, *, ip: str | None = None) -> None:
    _event(session, case, EventKind.MESSAGE, user, text)
    session.flush()
    notify(
        session,
        everyone(session, case),
        "message",
        f"{user.display_name}在“{case.need.title}”中留言",
        _case_url(case),
        exclude=user.id,
    )


def dismiss(session: Session, broker: User, need_id: int, achievement_id: int) -> None:
    exists = session.scalar(
        select(PairDismissal.id).where(
            PairDismissal.user_id == broker.id,
            PairDismissal.need_id == need_id,
            PairDismissal.achievement_id == achievement_id,
        )
    )
    if exists is None:
        session.add(PairDismissal(user_id=broker.id, need_id=need_id, achievement_id=achievement_id))
        session.flush()


def taken_pairs(session: Session, broker_id: int) -> set[tuple[int, int]]:
    cases = session.execute(select(MatchCase.need_id, MatchCase.achievement_id)).all()
    dismissed = session.execute(
        select(PairDismissal.need_id, PairDismissal.achievement_id).where(PairDismissal.user_id == broker_id)
    ).all()
    return {tuple(r) for r in cases} | {tuple(r) for r in dismissed}


def notify_new_recommendations(session: Session, index, listing: Achievement | Need) -> int:
    """A newly published listing that strongly matches the other side's listings: tell their owners."""
    from techmarket import matchindex
    from techmarket.domain.cases import strength

    other = Need if isinstance(listing, Achievement) else Achievement
    threshold = matchindex.threshold(index)
    strong = [
        m for m in matchindex.recommend(index, listing.kind, listing, top=50) if strength(m.score, threshold) == "强"
    ]
    sent = 0
    slug = "achievements" if isinstance(listing, Achievement) else "needs"
    label = "科技成果" if isinstance(listing, Achievement) else "技术需求"
    for match in strong:
        target = session.get(other, int(match.id))
        if target is None or target.org_id == listing.org_id:
            continue
        members = list(session.scalars(select(User).where(User.org_id == target.org_id)))
        sent += notify(
            session,
            members,
            "recommendation",
            f"新发布的{label}与您的“{target.title}”高度匹配：{listing.title}",
            url_for("listings.detail", kind=slug, listing_id=listing.id),
        )
    return sent

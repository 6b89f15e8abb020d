"""Match cases, their timeline, acceptances, dismissed pairs, notifications, and the matcher index version."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from techmarket.domain.cases import CaseStatus, EventKind, Side
from techmarket.extensions import db
from techmarket.models.accounts import User
from techmarket.models.listings import Achievement, Need
from techmarket.models.types import UTCDateTime, str_enum, utcnow


class MatchCase(db.Model):
    """对接项目: one need, one achievement, at most one case per pair (so two claims: one wins)."""

    __tablename__ = "match_case"
    __table_args__ = (UniqueConstraint("need_id", "achievement_id", name="uq_match_case_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id"), index=True)
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status: Mapped[CaseStatus] = mapped_column(
        str_enum(CaseStatus, "case_status"), default=CaseStatus.RECOMMENDED, index=True
    )
    score: Mapped[int | None] = mapped_column(Integer)  # matcher score × 10,000 when the case started
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    next_action: Mapped[str] = mapped_column(String(200), default="")
    next_action_due: Mapped[date | None] = mapped_column(Date)
    contract_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    need: Mapped[Need] = relationship(lazy="joined")
    achievement: Mapped[Achievement] = relationship(lazy="joined")
    broker: Mapped[User | None] = relationship(foreign_keys=[broker_id])
    acceptances: Mapped[list[CaseAcceptance]] = relationship(order_by="CaseAcceptance.id", back_populates="case")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once

    def accepted_sides(self) -> set[Side]:
        return {a.side for a in self.acceptances if a.accepted}


class CaseAcceptance(db.Model):
    """A party's answer to a case: accepted (with who and when) or declined (with the reason)."""

    __tablename__ = "case_acceptance"
    __table_args__ = (UniqueConstraint("case_id", "side", name="uq_case_acceptance_side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("match_case.id"), index=True)
    side: Mapped[Side] = mapped_column(str_enum(Side, "case_side"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    accepted: Mapped[bool] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[MatchCase] = relationship(back_populates="acceptances")
    user: Mapped[User] = relationship()


class CaseEvent(db.Model):
    """The case timeline: notes, meetings, messages, status changes, acceptances."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("match_case.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "case_event_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    occurred_on: Mapped[date | None] = mapped_column(Date)  # a meeting's date
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()


class PairDismissal(db.Model):
    """A broker hid a candidate pair from their queue."""

    __tablename__ = "pair_dismissal"
    __table_args__ = (UniqueConstraint("user_id", "need_id", "achievement_id", name="uq_pair_dismissal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Notification(db.Model):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class NotificationOptOut(db.Model):
    """A kind of notification the user chose not to get (everything is on by default)."""

    __tablename__ = "notification_opt_out"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_notification_opt_out"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))


class MatchingState(db.Model):
    """One row: the version of the listings the saved matcher index reflects (shared by all workers)."""

    __tablename__ = "matching_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

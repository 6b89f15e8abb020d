"""Reward rounds: the bureau's computation of one year's awards under one policy, frozen on approval."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from techmarket.extensions import db
from techmarket.models.accounts import User
from techmarket.models.types import UTCDateTime, utcnow

ROUND_STATUSES = ("draft", "approved", "superseded")
ROUND_STATUS_LABELS = {"draft": "草稿", "approved": "已审批", "superseded": "已被新一轮替代"}


class RewardRound(db.Model):
    """Inputs and results are stored as JSON snapshots: an approved round never changes afterwards."""

    __tablename__ = "reward_round"
    __table_args__ = (
        # at most one approved round per year and policy: approving twice cannot pay twice
        Index(
            "uq_reward_round_approved",
            "year",
            "policy_id",
            unique=True,
            sqlite_where=text("status = 'approved'"),
            postgresql_where=text("status = 'approved'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    policy_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("reward_round.id"))
    input_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    adjustments: Mapped[list[RoundAdjustment]] = relationship(order_by="RoundAdjustment.id", back_populates="round")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once

    @property
    def status_label(self) -> str:
        return ROUND_STATUS_LABELS[self.status]


class RoundAdjustment(db.Model):
    """A clerk's change to a draft round: exclude a contract line (with a reason) or record a Luoyang award."""

    __tablename__ = "round_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("reward_round.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # exclude | prior_award
    award_kind: Mapped[str] = mapped_column(String(12))  # buyer | seller | institution
    contract_id: Mapped[str | None] = mapped_column(String(40))
    recipient: Mapped[str | None] = mapped_column(String(18))  # credit code
    prior_year: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    round: Mapped[RewardRound] = relationship(back_populates="adjustments")

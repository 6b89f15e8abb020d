"""Technology achievements (supply), technology needs (demand), and the search index over both."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from techmarket.domain.listings import (
    Cooperation,
    IPType,
    ListingStatus,
    Maturity,
    TechField,
    cooperation_from_mask,
    effective_status,
)
from techmarket.extensions import db
from techmarket.models.accounts import Organisation
from techmarket.models.types import UTCDateTime, str_enum, utcnow

Money = Numeric(14, 2)


class ListingMixin:
    """Columns and behaviour shared by achievements and needs."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    field: Mapped[TechField] = mapped_column(str_enum(TechField, "tech_field"), index=True)
    cooperation_mask: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ListingStatus] = mapped_column(
        str_enum(ListingStatus, "listing_status"), default=ListingStatus.DRAFT, index=True
    )
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr
    def org_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("organisation.id"), index=True)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user.id"))

    @declared_attr
    def org(cls) -> Mapped[Organisation]:
        return relationship(Organisation, lazy="joined")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}

    @property
    def cooperation(self) -> list[Cooperation]:
        return cooperation_from_mask(self.cooperation_mask or 0)

    def current_status(self, today: date) -> ListingStatus:
        return effective_status(self.status, self.expires_on, today)


class Achievement(ListingMixin, db.Model):
    """科技成果: listed by universities, institutes and other seller-side units."""

    __tablename__ = "achievement"
    __table_args__ = (Index("ix_achievement_public", "status", "published_at", "expires_on"),)
    kind = "achievement"

    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    maturity: Mapped[Maturity] = mapped_column(str_enum(Maturity, "maturity"), index=True)
    trl: Mapped[int | None] = mapped_column(Integer)
    ip_type: Mapped[IPType] = mapped_column(str_enum(IPType, "ip_type"))
    patent_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    price: Mapped[Decimal | None] = mapped_column(Money, index=True)  # None: 面议
    team: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    pilot_base: Mapped[bool] = mapped_column(default=False)


class Need(ListingMixin, db.Model):
    """技术需求: posted by enterprises; the confidential part is for the bureau and accepted parties only."""

    __tablename__ = "need"
    __table_args__ = (Index("ix_need_public", "status", "published_at", "expires_on"),)
    kind = "need"

    description: Mapped[str] = mapped_column(Text)
    expected_outcome: Mapped[str] = mapped_column(Text, default="")
    budget_min: Mapped[Decimal | None] = mapped_column(Money)
    budget_max: Mapped[Decimal | None] = mapped_column(Money, index=True)
    deadline: Mapped[date] = mapped_column(Date, index=True)
    confidential_details: Mapped[str] = mapped_column(Text, default="")
    anonymous: Mapped[bool] = mapped_column(default=False)


class NeedAccess(db.Model):
    """A party (organisation) or broker the need's owner accepted: may read the confidential details."""

    __tablename__ = "need_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        db.UniqueConstraint("need_id", "org_id", name="uq_need_access_need_org"),
        db.UniqueConstraint("need_id", "user_id", name="uq_need_access_need_user"),
    )


class ListingTerm(db.Model):
    """Inverted index: one row per (listing kind, jieba term, listing). Search is exact term lookups."""

    __tablename__ = "listing_term"

    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    listing_id: Mapped[int] = mapped_column(Integer, primary_key=True)

    __table_args__ = (Index("ix_listing_term_listing", "kind", "listing_id"),)

"""Organisations and the users who act for them."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from techmarket.domain.accounts import OrgKind, Role, Verification
from techmarket.extensions import db
from techmarket.models.types import UTCDateTime, str_enum, utcnow


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind, "org_kind"), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    local: Mapped[bool] = mapped_column(default=True)
    town: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[Verification] = mapped_column(
        str_enum(Verification, "verification"), default=Verification.PENDING, index=True
    )
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    members: Mapped[list[User]] = relationship(back_populates="org", foreign_keys="User.org_id", order_by="User.id")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once

    @property
    def kind_label(self) -> str:
        return self.kind.label

    @property
    def status_label(self) -> str:
        return self.status.label

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    broker_certificate: Mapped[str | None] = mapped_column(String(60))
    broker_status: Mapped[Verification | None] = mapped_column(str_enum(Verification, "broker_status"))
    broker_reject_reason: Mapped[str | None] = mapped_column(String(500))
    # Bumped on logout and password change: every cookie carrying the old value stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    org: Mapped[Organisation | None] = relationship(back_populates="members", foreign_keys=[org_id])

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the session stores id and session version
        return f"{self.id}.{self.session_version}"

    @property
    def role_label(self) -> str:
        return self.role.label

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"

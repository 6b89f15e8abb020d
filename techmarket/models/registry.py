"""The bureau's steering data: the innovation registry, the policy's targets, its tasks and their progress reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from techmarket.domain.registry import EntryCategory, Level
from techmarket.domain.targets import ContractSide, CountMode, Metric
from techmarket.extensions import db
from techmarket.models.accounts import Organisation, User
from techmarket.models.types import UTCDateTime, str_enum, utcnow


class RegistryEntry(db.Model):
    """One recognition (认定) of an innovation entity or platform: category, level, year."""

    __tablename__ = "registry_entry"
    __table_args__ = (
        UniqueConstraint("unit_key", "category", "level", "recognized_year", name="uq_registry_entry_recognition"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))  # the entity or the platform's own name
    unit_name: Mapped[str] = mapped_column(String(100), default="")  # 依托单位 of a platform
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    # The credit code, else the name: what makes a unit one unit (and a recognition unique).
    unit_key: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    category: Mapped[EntryCategory] = mapped_column(str_enum(EntryCategory, "registry_category"), index=True)
    level: Mapped[Level] = mapped_column(str_enum(Level, "registry_level"))
    recognized_year: Mapped[int] = mapped_column(Integer, index=True)
    recognized_on: Mapped[date | None] = mapped_column(Date)
    certificate_no: Mapped[str] = mapped_column(String(60), default="")
    town: Mapped[str | None] = mapped_column(String(20))
    local: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    revoked_on: Mapped[date | None] = mapped_column(Date)  # 撤销或到期未复核
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    org: Mapped[Organisation | None] = relationship()

    def __repr__(self) -> str:
        return f"<RegistryEntry {self.id} {self.name} {self.category}>"


class Target(db.Model):
    """One of the policy's targets (建设目标); the bureau edits the numbers when a new plan comes."""

    __tablename__ = "policy_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    metric: Mapped[Metric] = mapped_column(str_enum(Metric, "target_metric"))
    target_value: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    unit: Mapped[str] = mapped_column(String(10))  # 元 / 家 / 个
    period_start: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    contract_side: Mapped[ContractSide | None] = mapped_column(str_enum(ContractSide, "target_side"))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # EntryCategory values
    levels: Mapped[list[str]] = mapped_column(JSON, default=list)  # Level values
    count_mode: Mapped[CountMode | None] = mapped_column(str_enum(CountMode, "target_count_mode"))
    source: Mapped[str] = mapped_column(String(200), default="")  # where the policy sets it
    note: Mapped[str] = mapped_column(String(500), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class PolicyTask(db.Model):
    """One of the policy's numbered tasks （一）…（十九） and its responsible departments (责任单位)."""

    __tablename__ = "policy_task"
    __table_args__ = (UniqueConstraint("plan", "number", name="uq_policy_task_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan: Mapped[str] = mapped_column(String(40))  # e.g. yanshi-2021
    number: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(60), default="")
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, default="")
    departments: Mapped[str] = mapped_column(String(300), default="")

    reports: Mapped[list[TaskReport]] = relationship(
        back_populates="task", order_by="(TaskReport.reported_on.desc(), TaskReport.id.desc())"
    )


class TaskReport(db.Model):
    """A progress report on a task (督办): what was done, when, with optional attachments."""

    __tablename__ = "policy_task_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("policy_task.id"), index=True)
    reported_on: Mapped[date] = mapped_column(Date, index=True)
    department: Mapped[str] = mapped_column(String(60), default="")
    text: Mapped[str] = mapped_column(Text)
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    task: Mapped[PolicyTask] = relationship(back_populates="reports")
    author: Mapped[User | None] = relationship()
    files: Mapped[list[TaskReportFile]] = relationship(back_populates="report", order_by="TaskReportFile.id")


class TaskReportFile(db.Model):
    """An attachment of a progress report (PDF/JPEG/PNG), stored outside the web root like contract evidence."""

    __tablename__ = "policy_task_report_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("policy_task_report.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    report: Mapped[TaskReport] = relationship(back_populates="files")

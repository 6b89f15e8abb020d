"""Technology contracts (技术合同), their payments and the evidence files behind them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from techmarket.domain.contracts import ContractStatus, ContractType, EvidenceKind, PlanCategory
from techmarket.domain.listings import IPType, TechField
from techmarket.extensions import db
from techmarket.models.accounts import Organisation, User
from techmarket.models.types import UTCDateTime, str_enum, utcnow

Money = Numeric(14, 2)


class Contract(db.Model):
    """One contract as on the national registration form, plus the bureau's registration."""

    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    contract_type: Mapped[ContractType] = mapped_column(str_enum(ContractType, "contract_type"), index=True)

    # Parties: a snapshot of what the form says; org_id links a party that is on the platform.
    buyer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    buyer_name: Mapped[str] = mapped_column(String(100))
    buyer_credit_code: Mapped[str] = mapped_column(String(18), index=True)
    buyer_region: Mapped[str] = mapped_column(String(60), default="")
    buyer_local: Mapped[bool] = mapped_column(default=False)
    seller_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    seller_name: Mapped[str] = mapped_column(String(100))
    seller_credit_code: Mapped[str] = mapped_column(String(18), index=True)
    seller_region: Mapped[str] = mapped_column(String(60), default="")
    seller_local: Mapped[bool] = mapped_column(default=False)
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    institution_name: Mapped[str] = mapped_column(String(100), default="")  # 技术转移机构
    institution_credit_code: Mapped[str | None] = mapped_column(String(18))
    # The broker pipeline's match case the deal came from (that table does not exist yet).
    match_case_id: Mapped[int | None] = mapped_column(Integer)

    signed_on: Mapped[date] = mapped_column(Date, index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    contract_amount: Mapped[Decimal] = mapped_column(Money)  # 合同成交额
    technology_amount: Mapped[Decimal] = mapped_column(Money)  # 技术交易额 as declared
    tech_field: Mapped[TechField] = mapped_column(str_enum(TechField, "tech_field"), index=True)
    ip_type: Mapped[IPType] = mapped_column(str_enum(IPType, "ip_type"))
    plan_category: Mapped[PlanCategory] = mapped_column(
        str_enum(PlanCategory, "plan_category"), default=PlanCategory.NONE
    )
    subsidized: Mapped[bool] = mapped_column(default=False)  # 已享受财政资金补贴

    # Registered elsewhere (where the seller is): the number and date on the other registry's certificate.
    registered_elsewhere: Mapped[bool] = mapped_column(default=False)
    external_registry: Mapped[str] = mapped_column(String(100), default="")
    external_registration_no: Mapped[str | None] = mapped_column(String(40))
    external_registered_on: Mapped[date | None] = mapped_column(Date)

    status: Mapped[ContractStatus] = mapped_column(
        str_enum(ContractStatus, "contract_status"), default=ContractStatus.DRAFT, index=True
    )
    return_reason: Mapped[str | None] = mapped_column(String(500))
    status_reason: Mapped[str | None] = mapped_column(String(500))  # why terminated or revoked
    registration_no: Mapped[str | None] = mapped_column(String(40), unique=True)  # 登记编号
    registered_on: Mapped[date | None] = mapped_column(Date, index=True)
    registered_technology_amount: Mapped[Decimal | None] = mapped_column(Money)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    terminated_on: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # One-time token of the form that created the row: a second submission of the same form finds it.
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    buyer_org: Mapped[Organisation | None] = relationship(foreign_keys=[buyer_org_id])
    seller_org: Mapped[Organisation | None] = relationship(foreign_keys=[seller_org_id])
    broker: Mapped[User | None] = relationship(foreign_keys=[broker_id])
    payments: Mapped[list[Payment]] = relationship(
        back_populates="contract", order_by="(Payment.paid_on, Payment.id)", cascade="all, delete-orphan"
    )
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="contract", order_by="EvidenceFile.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once
    # The money rules once more in the database: no code path can store a contract that breaks them.
    __table_args__ = (
        CheckConstraint("contract_amount > 0", name="contract_amount_positive"),
        CheckConstraint(
            "technology_amount > 0 AND technology_amount <= contract_amount", name="technology_within_total"
        ),
        CheckConstraint(
            "registered_technology_amount IS NULL OR (registered_technology_amount > 0"
            " AND registered_technology_amount <= technology_amount)",
            name="registered_within_declared",
        ),
    )

    @property
    def paid_total(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    def contract_files(self) -> list[EvidenceFile]:
        return [f for f in self.files if f.payment_id is None]

    def __repr__(self) -> str:
        return f"<Contract {self.id} {self.status}>"


class Payment(db.Model):
    """One payment under a contract; counts for rewards only with both a voucher and an invoice on file."""

    __tablename__ = "contract_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    technology_amount: Mapped[Decimal | None] = mapped_column(Money)  # 本次实现技术交易额
    over_total: Mapped[bool] = mapped_column(default=False)  # confirmed beyond 成交额: for the bureau to check
    note: Mapped[str] = mapped_column(String(200), default="")
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="payments")

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "technology_amount IS NULL OR (technology_amount > 0 AND technology_amount <= amount)",
            name="technology_within_amount",
        ),
    )
    files: Mapped[list[EvidenceFile]] = relationship(back_populates="payment", order_by="EvidenceFile.id")

    def has(self, kind: EvidenceKind) -> bool:
        return any(f.kind == kind for f in self.files)

    @property
    def evidenced(self) -> bool:
        return self.has(EvidenceKind.VOUCHER) and self.has(EvidenceKind.INVOICE)


class EvidenceFile(db.Model):
    """An uploaded PDF/JPEG/PNG, stored outside the web root under a generated name."""

    __tablename__ = "contract_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("contract_payment.id"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, "evidence_kind"))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)  # yyyy/mm/<uuid hex>.<ext>
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="files")
    payment: Mapped[Payment | None] = relationship(back_populates="files")

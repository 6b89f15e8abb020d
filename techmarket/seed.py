"""Load the demo data in ``seed_data/`` (idempotent: existing rows are left as they are)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from techmarket import PROJECT_ROOT
from techmarket.domain.accounts import OrgKind, Role, Verification
from techmarket.domain.credit_code import normalize_credit_code
from techmarket.domain.hashing import hash_password
from techmarket.models import Organisation, User
from techmarket.models.types import utcnow

SEED_DIR = PROJECT_ROOT / "seed_data"
#: Every demo account signs in with this password (printed by `make run`; never use in production).
DEMO_PASSWORD = "yanshi-demo-2026"  # noqa: S105 - public demo accounts only


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, organisation


def read_json(name: str, seed_dir: Path = SEED_DIR) -> list[dict[str, Any]]:
    return json.loads((seed_dir / name).read_text(encoding="utf-8"))


def load_accounts(session: Session, seed_dir: Path = SEED_DIR) -> SeedReport:
    report = SeedReport(created={"organisations": 0, "users": 0})
    orgs_by_key: dict[str, Organisation] = {}
    existing_orgs = {o.credit_code: o for o in session.scalars(select(Organisation))}
    for row in read_json("organisations.json", seed_dir):
        code = normalize_credit_code(row["credit_code"])
        org = existing_orgs.get(code)
        if org is None:
            status = Verification(row.get("status", "verified"))
            org = Organisation(
                name=row["name"],
                kind=OrgKind(row["kind"]),
                credit_code=code,
                local=bool(row["local"]),
                town=row.get("town"),
                address=row.get("address", ""),
                contact_name=row.get("contact_name", ""),
                contact_phone=row.get("contact_phone", ""),
                description=row.get("description", ""),
                status=status,
                reject_reason=row.get("reject_reason"),
                verified_at=utcnow() if status == Verification.VERIFIED else None,
            )
            session.add(org)
            report.created["organisations"] += 1
        orgs_by_key[row["key"]] = org
    session.flush()

    password_hash = hash_password(DEMO_PASSWORD)  # hashed once: argon2 is slow by design
    existing_users = {u.username.lower() for u in session.scalars(select(User))}
    for row in read_json("users.json", seed_dir):
        org = orgs_by_key.get(row["org"]) if row.get("org") else None
        role = Role(row["role"])
        if row["username"].lower() not in existing_users:
            user = User(
                username=row["username"],
                display_name=row["display_name"],
                email=row.get("email", ""),
                phone=row.get("phone", ""),
                password_hash=password_hash,
                role=role,
                org=org,
                password_changed_at=utcnow(),
            )
            if role == Role.BROKER:
                user.broker_certificate = row.get("broker_certificate")
                user.broker_status = Verification(row.get("broker_status", "verified"))
            session.add(user)
            report.created["users"] += 1
        org_name = org.name if org else ("独立技术经纪人" if role == Role.BROKER else "")
        report.accounts.append((row["username"], role.label, org_name))
    session.flush()
    return report


def load_listings(session: Session, seed_dir: Path = SEED_DIR, *, today: date | None = None) -> dict[str, int]:
    """Achievements and needs from seed_data/, keyed by (organisation, title): loaded once, never duplicated."""
    from techmarket.domain.listings import (
        Cooperation,
        IPType,
        ListingStatus,
        Maturity,
        TechField,
        add_months,
        cooperation_mask,
    )
    from techmarket.models import Achievement, Need
    from techmarket.services.listings import reindex

    today = today or date.today()
    orgs = {row["key"]: normalize_credit_code(row["credit_code"]) for row in read_json("organisations.json", seed_dir)}
    org_ids = dict(session.execute(select(Organisation.credit_code, Organisation.id)).all())
    created = {"achievements": 0, "needs": 0}

    def existing(model) -> set[tuple[int, str]]:
        return set(session.execute(select(model.org_id, model.title)).all())

    def lifecycle(row: dict, expires_on: date) -> dict:
        status = ListingStatus(row.get("status", "published"))
        published = status == ListingStatus.PUBLISHED
        return {
            "status": status,
            "published_at": utcnow() if published else None,
            "expires_on": expires_on if published else None,
        }

    def coop(row: dict) -> int:
        return cooperation_mask([Cooperation.from_label(c) for c in row["cooperation"]])

    def money(value: str | None) -> Decimal | None:
        return Decimal(value) if value else None

    have = existing(Achievement)
    for row in read_json("achievements.json", seed_dir):
        org_id = org_ids[orgs[row["org"]]]
        if (org_id, row["title"]) in have:
            continue
        item = Achievement(
            org_id=org_id,
            title=row["title"],
            summary=row["summary"],
            description=row["description"],
            field=TechField.from_label(row["field"]),
            keywords=row.get("keywords", []),
            maturity=Maturity.from_label(row["maturity"]),
            trl=row.get("trl"),
            ip_type=IPType.from_label(row["ip_type"]),
            patent_numbers=row.get("patent_numbers", []),
            cooperation_mask=coop(row),
            price=money(row.get("price_yuan")),
            team=row.get("team", ""),
            contact_name=row.get("contact_name", ""),
            contact_phone=row.get("contact_phone", ""),
            pilot_base=bool(row.get("pilot_base")),
            **lifecycle(row, add_months(today, 12)),
        )
        session.add(item)
        session.flush()
        reindex(session, item)
        created["achievements"] += 1

    have = existing(Need)
    for row in read_json("needs.json", seed_dir):
        org_id = org_ids[orgs[row["org"]]]
        if (org_id, row["title"]) in have:
            continue
        deadline = date.fromisoformat(row["deadline"])
        item = Need(
            org_id=org_id,
            title=row["title"],
            description=row["description"],
            field=TechField.from_label(row["field"]),
            expected_outcome=row.get("expected_outcome", ""),
            budget_min=money(row.get("budget_min")),
            budget_max=money(row.get("budget_max")),
            deadline=deadline,
            cooperation_mask=coop(row),
            confidential_details=row.get("confidential_details", ""),
            anonymous=bool(row.get("anonymous")),
            **lifecycle(row, deadline),
        )
        session.add(item)
        session.flush()
        reindex(session, item)
        created["needs"] += 1
    return created


def load_registry(session: Session, seed_dir: Path = SEED_DIR, *, today: date | None = None) -> dict[str, int]:
    """The policy's targets and tasks and a demo innovation registry (dashboard); loaded once, never duplicated."""
    from techmarket.domain.registry import EntryCategory, Level, check_entry
    from techmarket.domain.targets import ContractSide, CountMode, Metric
    from techmarket.models import PolicyTask, RegistryEntry, Target
    from techmarket.services.registry import existing_identities, unit_key

    today = today or date.today()
    created = {"targets": 0, "policy_tasks": 0, "registry": 0}
    have_targets = set(session.scalars(select(Target.code)))
    for order, row in enumerate(read_json("targets.json", seed_dir)):
        if row["code"] in have_targets:
            continue
        session.add(
            Target(
                code=row["code"],
                name=row["name"],
                metric=Metric(row["metric"]),
                target_value=Decimal(row["target_value"]),
                unit=row["unit"],
                period_start=date.fromisoformat(row["period_start"]),
                deadline=date.fromisoformat(row["deadline"]),
                contract_side=ContractSide(row["contract_side"]) if row.get("contract_side") else None,
                categories=[EntryCategory(c).value for c in row.get("categories", [])],
                levels=[Level(v).value for v in row.get("levels", [])],
                count_mode=CountMode(row["count_mode"]) if row.get("count_mode") else None,
                source=row.get("source", ""),
                note=row.get("note", ""),
                sort_order=order,
            )
        )
        created["targets"] += 1

    plan = json.loads((seed_dir / "policy_tasks.json").read_text(encoding="utf-8"))
    have_tasks = set(session.scalars(select(PolicyTask.number).where(PolicyTask.plan == plan["plan"])))
    for row in plan["tasks"]:
        if row["number"] in have_tasks:
            continue
        session.add(
            PolicyTask(
                plan=plan["plan"],
                number=row["number"],
                section=row["section"],
                title=row["title"],
                summary=row["summary"],
                departments=row["departments"],
            )
        )
        created["policy_tasks"] += 1

    have_entries = existing_identities(session)
    org_ids = dict(session.execute(select(Organisation.credit_code, Organisation.id)).all())
    for row in read_json("registry.json", seed_dir):
        data = check_entry({**row, "category": EntryCategory(row["category"]), "level": Level(row["level"])}, today)
        if data.identity in have_entries:
            continue
        have_entries.add(data.identity)
        session.add(
            RegistryEntry(
                name=data.name,
                unit_name=data.unit_name,
                credit_code=data.credit_code,
                unit_key=unit_key(data),
                org_id=org_ids.get(data.credit_code or ""),
                category=data.category,
                level=data.level,
                recognized_year=data.recognized_year,
                recognized_on=data.recognized_on,
                certificate_no=data.certificate_no,
                town=data.town,
                local=data.local,
                note=data.note,
            )
        )
        created["registry"] += 1
    session.flush()
    return created


def _demo_pdf(title: str) -> bytes:
    """A small valid PDF standing in for a scanned document in the demo (ASCII only: a placeholder)."""
    body = f"techmarket demo document: {title.encode('unicode_escape').decode('ascii')}"
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"% " + body.encode("ascii") + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def load_contracts(
    session: Session, upload_folder: str, limit: int, seed_dir: Path = SEED_DIR, *, today: date | None = None
) -> tuple[dict[str, int], list]:
    """Registered demo contracts with payments and evidence, driven through the real services (by 登记编号).

    Returns what was created and the staged evidence files: the caller commits, then promotes them.
    """
    import io

    from techmarket import uploads
    from techmarket.domain.contracts import ContractType, EvidenceKind
    from techmarket.domain.listings import IPType, TechField
    from techmarket.models import Contract
    from techmarket.services import contracts as svc

    today = today or date.today()
    created = {"contracts": 0}
    have = set(session.scalars(select(Contract.registration_no).where(Contract.registration_no.is_not(None))))
    orgs = {row["key"]: normalize_credit_code(row["credit_code"]) for row in read_json("organisations.json", seed_dir)}
    by_code = {o.credit_code: o for o in session.scalars(select(Organisation))}
    clerk = session.scalar(select(User).where(User.role == Role.BUREAU).order_by(User.id))
    staged_files: list[uploads.StagedFile] = []

    def member(org: Organisation | None) -> User | None:
        if org is None:
            return None
        return session.scalar(
            select(User)
            .where(User.org_id == org.id, User.role.in_((Role.ENTERPRISE, Role.INSTITUTE)))
            .order_by(User.id)
        )

    def party(spec: dict) -> tuple[svc.PartyData, Organisation | None]:
        if "org" in spec:
            org = by_code[orgs[spec["org"]]]
            return svc.PartyData(org.name, org.credit_code, org.town or ("偃师市" if org.local else ""), org.local), org
        ext = spec["external"]
        return svc.PartyData(ext["name"], ext["credit_code"], ext["region"], ext["local"]), None

    def attach(actor: User, contract, kind: EvidenceKind, name: str, payment=None) -> None:
        staged = uploads.stage(io.BytesIO(_demo_pdf(name)), f"{name}.pdf", upload_folder, limit)
        staged_files.append(staged)
        svc.add_evidence(session, actor, contract, kind, staged, payment=payment)

    for row in read_json("contracts.json", seed_dir):
        if row["registration_no"] in have:
            continue
        buyer, buyer_org = party(row["buyer"])
        seller, seller_org = party(row["seller"])
        broker = session.scalar(select(User).where(User.username == row["broker"])) if row.get("broker") else None
        actor = broker or member(buyer_org) or member(seller_org)
        data = svc.ContractData(
            title=row["title"],
            contract_type=ContractType(row["type"]),
            buyer=buyer,
            seller=seller,
            signed_on=date.fromisoformat(row["signed_on"]),
            contract_amount=Decimal(row["contract_amount"]),
            technology_amount=Decimal(row["technology_amount"]),
            tech_field=TechField(row["field"]),
            ip_type=IPType(row["ip_type"]),
            subsidized=bool(row.get("subsidized")),
        )
        contract = svc.create_contract(session, actor, data, form_token=f"seed-{row['key']}", today=today)
        attach(actor, contract, EvidenceKind.CONTRACT, f"{row['key']}-contract")
        svc.submit(session, member(seller_org) or broker or actor, contract)
        svc.register(
            session,
            clerk,
            contract,
            registration_no=row["registration_no"],
            registered_on=date.fromisoformat(row["registered_on"]),
            technology_amount=None,
            today=today,
        )
        for i, pay in enumerate(row["payments"], start=1):
            payment = svc.add_payment(
                session,
                clerk,
                contract,
                paid_on=date.fromisoformat(pay["paid_on"]),
                amount=Decimal(pay["amount"]),
                technology_amount=None,
                confirm_over_total=False,
                today=today,
            )
            if pay["evidence"]:
                attach(clerk, contract, EvidenceKind.VOUCHER, f"{row['key']}-voucher-{i}", payment)
                attach(clerk, contract, EvidenceKind.INVOICE, f"{row['key']}-invoice-{i}", payment)
        created["contracts"] += 1
    session.flush()
    return created, staged_files

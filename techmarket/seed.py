"""Load the demo data in ``seed_data/`` (idempotent: existing rows are left as they are)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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

"""Use cases of the innovation registry, the targets and the policy tasks: they flush, the request commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from techmarket.domain.registry import EntryCategory, EntryData, Level
from techmarket.domain.targets import Recognition
from techmarket.models import Organisation, PolicyTask, RegistryEntry, Target, TaskReport, TaskReportFile, User
from techmarket.rewards.model import INSTITUTION_LEVELS
from techmarket.rewards.model import Institution as RewardInstitution
from techmarket.services import audit
from techmarket.services.accounts import ServiceError

# --- the registry ---------------------------------------------------------------------------------


def unit_key(data: EntryData) -> str:
    return data.credit_code or data.name


def existing_identities(session: Session) -> set[tuple[str, str, str, int]]:
    rows = session.execute(
        select(RegistryEntry.unit_key, RegistryEntry.category, RegistryEntry.level, RegistryEntry.recognized_year)
    ).all()
    return {(key, category.value, level.value, year) for key, category, level, year in rows}


def _org_ids_by_code(session: Session, codes: Iterable[str]) -> dict[str, int]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return dict(
        session.execute(
            select(Organisation.credit_code, Organisation.id).where(Organisation.credit_code.in_(codes))
        ).all()
    )


def _new_entry(data: EntryData, org_id: int | None, actor: User | None) -> RegistryEntry:
    return RegistryEntry(
        name=data.name,
        unit_name=data.unit_name,
        credit_code=data.credit_code,
        unit_key=unit_key(data),
        org_id=org_id,
        category=data.category,
        level=data.level,
        recognized_year=data.recognized_year,
        recognized_on=data.recognized_on,
        certificate_no=data.certificate_no,
        town=data.town,
        local=data.local,
        note=data.note,
        created_by_id=actor.id if actor else None,
    )


def add_entry(session: Session, actor: User | None, data: EntryData, *, ip: str | None = None) -> RegistryEntry:
    """One recognition; linked to the platform's organisation with the same credit code."""
    identity = (unit_key(data), data.category.value, data.level.value, data.recognized_year)
    if identity in existing_identities(session):
        raise ServiceError(
            f"“{data.name}”的{data.level.label}{data.category.label}（{data.recognized_year}年）已在名录中。", "name"
        )
    org_id = _org_ids_by_code(session, [data.credit_code or ""]).get(data.credit_code or "")
    entry = _new_entry(data, org_id, actor)
    session.add(entry)
    session.flush()
    audit.record(
        session,
        "registry_add",
        actor_id=actor.id if actor else None,
        object_type="registry_entry",
        object_id=entry.id,
        ip=ip,
        name=entry.name,
        category=entry.category.value,
        level=entry.level.value,
        year=entry.recognized_year,
        org_id=org_id,
    )
    return entry


def import_entries(
    session: Session,
    actor: User | None,
    rows: Sequence[tuple[int, EntryData]],
    *,
    filename: str = "",
    skipped_rows: Sequence[int] = (),
    ip: str | None = None,
) -> list[RegistryEntry]:
    """The checked rows of a sheet, all in the request's one transaction; one audit entry names them all."""
    org_ids = _org_ids_by_code(session, [data.credit_code or "" for _, data in rows])
    entries = [_new_entry(data, org_ids.get(data.credit_code or ""), actor) for _, data in rows]
    session.add_all(entries)
    session.flush()
    audit.record(
        session,
        "registry_import",
        actor_id=actor.id if actor else None,
        object_type="registry_entry",
        ip=ip,
        filename=filename[:200],
        imported=len(entries),
        entry_ids=[e.id for e in entries],
        skipped_rows=list(skipped_rows),
    )
    return entries


ENTRY_FIELDS = (
    "name",
    "unit_name",
    "credit_code",
    "category",
    "level",
    "recognized_year",
    "recognized_on",
    "certificate_no",
    "town",
    "local",
    "note",
)


def update_entry(
    session: Session, actor: User | None, entry: RegistryEntry, data: EntryData, *, ip: str | None = None
) -> dict[str, list[Any]]:
    """Correct a recognition; the changed fields (old → new) go to the audit trail."""
    identity = (unit_key(data), data.category.value, data.level.value, data.recognized_year)
    own = (entry.unit_key, entry.category.value, entry.level.value, entry.recognized_year)
    if identity != own and identity in existing_identities(session):
        raise ServiceError(
            f"“{data.name}”的{data.level.label}{data.category.label}（{data.recognized_year}年）已在名录中。", "name"
        )
    changes = audit.apply_changes(entry, {name: getattr(data, name) for name in ENTRY_FIELDS})
    if not changes:
        return changes
    entry.unit_key = unit_key(data)
    if "credit_code" in changes:
        entry.org_id = _org_ids_by_code(session, [data.credit_code or ""]).get(data.credit_code or "")
    session.flush()
    audit.record(
        session,
        "registry_update",
        actor_id=actor.id if actor else None,
        object_type="registry_entry",
        object_id=entry.id,
        ip=ip,
        changes=changes,
    )
    return changes


def platform_links(session: Session, entries: Iterable[RegistryEntry]) -> dict[int, int]:
    """Entry id → organisation id: the stored link, else the organisation that has since joined with the same code."""
    links = {e.id: e.org_id for e in entries if e.org_id is not None}
    pending = {e.id: e.credit_code for e in entries if e.org_id is None and e.credit_code}
    by_code = _org_ids_by_code(session, pending.values())
    links.update({entry_id: by_code[code] for entry_id, code in pending.items() if code in by_code})
    return links


def revoke_entry(
    session: Session, actor: User | None, entry: RegistryEntry, revoked_on: date, *, ip: str | None = None
) -> None:
    if entry.revoked_on is not None:
        raise ServiceError(f"该认定已于{entry.revoked_on.isoformat()}标记为撤销或失效。")
    if revoked_on.year < entry.recognized_year:
        raise ServiceError("撤销日期不能早于认定年度。", "revoked_on")
    entry.revoked_on = revoked_on
    session.flush()
    audit.record(
        session,
        "registry_revoke",
        actor_id=actor.id if actor else None,
        object_type="registry_entry",
        object_id=entry.id,
        ip=ip,
        revoked_on=revoked_on.isoformat(),
    )


def registry_query(category: str = "", level: str = "", q: str = "", town: str = "") -> Select:
    stmt = select(RegistryEntry).order_by(
        RegistryEntry.recognized_year.desc(), RegistryEntry.category, RegistryEntry.name, RegistryEntry.id
    )
    if category in {c.value for c in EntryCategory}:
        stmt = stmt.where(RegistryEntry.category == EntryCategory(category))
    if level in {lv.value for lv in Level}:
        stmt = stmt.where(RegistryEntry.level == Level(level))
    if town:
        stmt = stmt.where(RegistryEntry.town == town[:20])
    if q:
        like = f"%{q[:50].replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(RegistryEntry.name.like(like), RegistryEntry.unit_name.like(like)))
    return stmt


def recognitions(session: Session) -> list[Recognition]:
    rows = session.execute(
        select(
            RegistryEntry.unit_key,
            RegistryEntry.category,
            RegistryEntry.level,
            RegistryEntry.recognized_year,
            RegistryEntry.revoked_on,
        )
    ).all()
    return [Recognition(*row) for row in rows]


def category_counts(session: Session) -> dict[str, int]:
    """Standing (not revoked) recognitions per category."""
    rows = session.execute(
        select(RegistryEntry.category, func.count())
        .where(RegistryEntry.revoked_on.is_(None))
        .group_by(RegistryEntry.category)
    ).all()
    return {category.value: n for category, n in rows}


def transfer_institutions(session: Session) -> list[RewardInstitution]:
    """The registry's 技术转移示范机构 recognitions, as the reward calculator reads them.

    Only national, provincial and Luoyang recognitions carry an award; entries without a credit code
    cannot be paid and are left out (see :func:`institutions_missing_code`). A recognition known by its
    year only is dated 31 December of that year.
    """
    rows = session.scalars(
        select(RegistryEntry)
        .where(
            RegistryEntry.category == EntryCategory.TRANSFER_DEMO,
            RegistryEntry.level.in_([Level(v) for v in INSTITUTION_LEVELS]),
            RegistryEntry.credit_code.is_not(None),
            RegistryEntry.revoked_on.is_(None),
        )
        .order_by(RegistryEntry.recognized_year, RegistryEntry.id)
    )
    return [
        RewardInstitution(
            name=e.name,
            credit_code=e.credit_code or "",
            local=e.local,
            level=e.level.value,
            recognized_on=e.recognized_on or date(e.recognized_year, 12, 31),
        )
        for e in rows
    ]


def institutions_missing_code(session: Session) -> list[RegistryEntry]:
    return list(
        session.scalars(
            select(RegistryEntry).where(
                RegistryEntry.category == EntryCategory.TRANSFER_DEMO, RegistryEntry.credit_code.is_(None)
            )
        )
    )


# --- targets --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetChange:
    name: str
    target_value: Decimal
    period_start: date
    deadline: date
    note: str


def update_target(
    session: Session, actor: User | None, target: Target, change: TargetChange, *, ip: str | None = None
) -> dict[str, list[Any]]:
    """The bureau's new numbers for a target; the changed fields (old → new) go to the audit trail."""
    if change.deadline <= change.period_start:
        raise ServiceError("目标期限应晚于统计起始日期。", "deadline")
    changes: dict[str, list[Any]] = {}
    for name in ("name", "target_value", "period_start", "deadline", "note"):
        old, new = getattr(target, name), getattr(change, name)
        if old != new:
            changes[name] = [str(old), str(new)]
            setattr(target, name, new)
    if not changes:
        return changes
    target.updated_by_id = actor.id if actor else None
    session.flush()
    audit.record(
        session,
        "target_update",
        actor_id=actor.id if actor else None,
        object_type="policy_target",
        object_id=target.id,
        ip=ip,
        changes=changes,
    )
    return changes


# --- policy tasks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportData:
    reported_on: date
    text: str
    department: str = ""


def find_report_by_token(session: Session, token: str) -> TaskReport | None:
    return session.scalar(select(TaskReport).where(TaskReport.form_token == token))


def add_report(
    session: Session,
    actor: User | None,
    task: PolicyTask,
    data: ReportData,
    staged_files: Sequence[Any] = (),
    *,
    form_token: str | None = None,
    today: date,
    ip: str | None = None,
) -> TaskReport:
    """A progress report with its attachments (files already checked and staged by uploads.stage)."""
    if data.reported_on > today:
        raise ServiceError("报告日期不能晚于今天。", "reported_on")
    if data.reported_on.year < 2021:
        raise ServiceError("报告日期不能早于实施方案印发的2021年。", "reported_on")
    report = TaskReport(
        task_id=task.id,
        reported_on=data.reported_on,
        department=data.department,
        text=data.text,
        form_token=form_token,
        author_id=actor.id if actor else None,
    )
    session.add(report)
    session.flush()
    for staged in staged_files:
        session.add(
            TaskReportFile(
                report_id=report.id,
                stored_name=staged.stored_name,
                original_name=staged.original_name,
                content_type=staged.content_type,
                size=staged.size,
                sha256=staged.sha256,
                uploaded_by_id=actor.id if actor else None,
            )
        )
    session.flush()
    audit.record(
        session,
        "task_report_add",
        actor_id=actor.id if actor else None,
        object_type="policy_task",
        object_id=task.id,
        ip=ip,
        report_id=report.id,
        reported_on=data.reported_on.isoformat(),
        department=data.department,
        files=[{"name": s.original_name, "sha256": s.sha256, "size": s.size} for s in staged_files],
    )
    return report


def last_reports(session: Session, plan: str) -> dict[int, date]:
    """Each task's latest report date."""
    rows = session.execute(
        select(TaskReport.task_id, func.max(TaskReport.reported_on))
        .join(PolicyTask, PolicyTask.id == TaskReport.task_id)
        .where(PolicyTask.plan == plan)
        .group_by(TaskReport.task_id)
    ).all()
    return dict(rows)

"""What the bureau's dashboard shows: facts read from the database, grouped by the pure rules in domain/.

Counted contracts are the registered ones (已登记 and 已终止; a terminated contract stays registered,
a revoked one never counts), dated by their registration date. Amounts are read per contract and summed
as Decimal (SQLite stores NUMERIC as a float, so SUM() in SQL there would not be exact).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from techmarket.domain import stats
from techmarket.domain.contracts import ContractStatus
from techmarket.domain.projection import (
    Month,
    add_months,
    cumulative,
    month_label,
    month_of,
    monthly_series,
    projected_path,
)
from techmarket.domain.regions import TOWNS_AND_SUBDISTRICTS
from techmarket.domain.registry import EntryCategory, Level
from techmarket.domain.stats import Column, ContractFact, Table
from techmarket.domain.targets import ContractSide, CountMode, Metric, Progress, counted, new_by_month, progress
from techmarket.models import Contract, Organisation, Target, User
from techmarket.services import registry as registry_service

COUNTED_STATUSES = (ContractStatus.REGISTERED, ContractStatus.TERMINATED)
#: The 成交额 target's measure when a target row names none (see docs/dashboard.md).
DEFAULT_SIDE = ContractSide.EITHER
FUNNEL_STAGES = ("已推荐", "双方已确认意向", "洽谈中", "已签约")
FUNNEL_LOST = "未成交"
CASES_PENDING = "对接项目功能上线后显示"


def contract_facts(session: Session, *, since: date | None = None, until: date | None = None) -> list[ContractFact]:
    """One fact per counted contract, with each party's platform type and town (None when not on the platform)."""
    buyer = aliased(Organisation)
    seller = aliased(Organisation)
    stmt = (
        select(
            Contract.id,
            Contract.registered_on,
            Contract.contract_type,
            Contract.tech_field,
            Contract.contract_amount,
            func.coalesce(Contract.registered_technology_amount, Contract.technology_amount),
            Contract.buyer_name,
            Contract.buyer_credit_code,
            Contract.buyer_local,
            Contract.seller_name,
            Contract.seller_credit_code,
            Contract.seller_local,
            buyer.kind,
            seller.kind,
            buyer.town,
            seller.town,
            Contract.broker_id,
            Contract.match_case_id,
        )
        .outerjoin(buyer, buyer.id == Contract.buyer_org_id)
        .outerjoin(seller, seller.id == Contract.seller_org_id)
        .where(Contract.status.in_(COUNTED_STATUSES), Contract.registered_on.is_not(None))
        .order_by(Contract.registered_on, Contract.id)
    )
    if since is not None:
        stmt = stmt.where(Contract.registered_on >= since)
    if until is not None:
        stmt = stmt.where(Contract.registered_on <= until)
    facts = []
    for row in session.execute(stmt):
        (cid, registered_on, ctype, tfield, amount, tech, bname, bcode, blocal, sname, scode, slocal, *rest) = row
        bkind, skind, btown, stown, broker_id, case_id = rest
        facts.append(
            ContractFact(
                id=cid,
                registered_on=registered_on,
                contract_type=ctype,
                tech_field=tfield,
                contract_amount=_money(amount),
                technology_amount=_money(tech),
                buyer_name=bname,
                buyer_credit_code=bcode,
                buyer_local=bool(blocal),
                seller_name=sname,
                seller_credit_code=scode,
                seller_local=bool(slocal),
                buyer_kind=bkind,
                seller_kind=skind,
                buyer_town=btown if blocal else None,
                seller_town=stown if slocal else None,
                broker_id=broker_id,
                match_case_id=case_id,
            )
        )
    return facts


def _money(value: Any) -> Decimal:
    """NUMERIC(14,2) as exact Decimal yuan (coalesce() on SQLite may come back as a float)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


# --- targets --------------------------------------------------------------------------------------


@dataclass
class TargetView:
    target: Target
    progress: Progress
    measure: str  # how it is measured, in Chinese
    yearly: Table
    monthly: Table | None = None
    current: Decimal | None = None  # registry targets: the count today (the progress is at the deadline)
    side_totals: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def is_money(self) -> bool:
        return self.target.metric is Metric.CONTRACT_AMOUNT


def _contract_target(target: Target, facts: list[ContractFact], today: date) -> TargetView:
    side = target.contract_side or DEFAULT_SIDE
    until = min(today, target.deadline)
    counted_facts = [f for f in stats.on_side(facts, side) if target.period_start <= f.registered_on <= until]
    actual = sum((f.contract_amount for f in counted_facts), Decimal("0.00"))
    monthly_values = stats.monthly_amounts(counted_facts, ContractSide.EITHER)
    first, last = month_of(target.period_start), month_of(until)
    series = monthly_series(monthly_values, first, last)
    running = cumulative(series)
    prog = progress(
        actual=actual,
        target=target.target_value,
        deadline=target.deadline,
        monthly=monthly_values,
        today=today,
        start=target.period_start,
    )
    rows: list[list[Any]] = [[month_label(m), v, total, ""] for (m, v), (_, total) in zip(series, running, strict=True)]
    pace = prog.projection.pace
    if prog.projection.projected is not None and pace is not None:
        if rows:
            rows[-1][3] = actual  # the projection starts from where the figure stands
        rows += [[month_label(m), "", "", value] for m, value in projected_path(actual, pace, today, target.deadline)]
    monthly = Table(
        f"target_{target.code}_month",
        f"{target.name}：按月",
        [
            Column("month", "月份"),
            Column("amount", "当月成交额（元）", "money"),
            Column("total", "累计（元）", "money"),
            Column("projected", "按当前进度预计累计（元）", "money"),
        ],
        rows=rows,
        chart={"type": "line", "label": "month", "values": ["total", "projected"]},
    )
    yearly_totals: dict[int, Decimal] = {}
    for (year, _), value in series:
        yearly_totals[year] = yearly_totals.get(year, Decimal("0.00")) + value
    year_running = Decimal("0.00")
    yearly_rows = []
    for year, value in yearly_totals.items():
        year_running += value
        yearly_rows.append([str(year), value, year_running])
    yearly = Table(
        f"target_{target.code}_year",
        f"{target.name}：按年度",
        [Column("year", "年度"), Column("amount", "当年成交额（元）", "money"), Column("total", "累计（元）", "money")],
        rows=yearly_rows,
        chart={"type": "bar", "label": "year", "values": ["amount", "total"]},
    )
    in_period = [f for f in facts if target.period_start <= f.registered_on <= until]
    side_totals = [
        (s.label, sum((f.contract_amount for f in stats.on_side(in_period, s)), Decimal("0.00")))
        for s in (ContractSide.SELLER, ContractSide.BUYER, ContractSide.EITHER)
    ]
    measure = (
        f"已登记技术合同（含已终止，不含已撤销）的合同成交额，按登记日期自{target.period_start.isoformat()}起累计；"
        f"口径：{side.label}。"
    )
    return TargetView(target, prog, measure, yearly, monthly, side_totals=side_totals)


def _registry_target(target: Target, recs: list, today: date) -> TargetView:
    categories = [EntryCategory(c) for c in target.categories]
    levels = [Level(v) for v in target.levels] or list(Level)
    mode = target.count_mode or CountMode.RECOGNITIONS
    as_of = min(today, target.deadline)
    actual = Decimal(counted(recs, categories, levels, mode, as_of))
    current = Decimal(counted(recs, categories, levels, mode, today))
    first_year = min(target.period_start.year, target.deadline.year) - 2
    yearly = Table(
        f"target_{target.code}_year",
        f"{target.name}：按年度（年末数量）",
        [Column("year", "年度"), Column("count", f"年末数量（{target.unit}）", "count")],
        rows=[
            [str(y), counted(recs, categories, levels, mode, min(date(y, 12, 31), today))]
            for y in range(first_year, today.year + 1)
        ],
        chart={"type": "bar", "label": "year", "values": ["count"]},
    )
    monthly_values = new_by_month(recs, categories, levels, mode, first_year, today.year)
    prog = progress(
        actual=actual,
        target=target.target_value,
        deadline=target.deadline,
        monthly=monthly_values,
        today=today,
        start=target.period_start,
    )
    names = "、".join(c.label for c in categories)
    level_names = "、".join(lv.label for lv in levels) if target.levels else "各级"
    measure = f"名录中{level_names}的{names}，{mode.label}，不含已撤销或失效的认定。名录按年度认定，趋势按年度显示。"
    return TargetView(target, prog, measure, yearly, None, current=current)


def targets(session: Session, today: date) -> list[TargetView]:
    rows = session.scalars(select(Target).order_by(Target.sort_order, Target.id)).all()
    facts = contract_facts(session) if any(t.metric is Metric.CONTRACT_AMOUNT for t in rows) else []
    recs = registry_service.recognitions(session) if any(t.metric is Metric.REGISTRY_COUNT for t in rows) else []
    views = []
    for target in rows:
        if target.metric is Metric.CONTRACT_AMOUNT:
            views.append(_contract_target(target, facts, today))
        else:
            views.append(_registry_target(target, recs, today))
    return views


# --- statistics -----------------------------------------------------------------------------------


def _cases_model() -> Any | None:
    """The broker pipeline's MatchCase, when that feature is installed."""
    try:
        return importlib.import_module("techmarket.models.cases").MatchCase
    except (ImportError, AttributeError):
        return None


def _status_label(status: Any) -> str:
    return getattr(status, "label", str(status))


def broker_and_funnel(
    session: Session, facts: list[ContractFact], year: int | None
) -> tuple[Table | None, Table | None]:
    match_case = _cases_model()
    if match_case is None:
        return None, None
    stmt = select(match_case.broker_id, match_case.status, func.count()).group_by(
        match_case.broker_id, match_case.status
    )
    if year is not None:
        from datetime import UTC, datetime

        stmt = stmt.where(
            match_case.created_at >= datetime(year, 1, 1, tzinfo=UTC),
            match_case.created_at < datetime(year + 1, 1, 1, tzinfo=UTC),
        )
    cases_by_broker: dict[int, int] = {}
    by_status: dict[str, int] = {}
    for broker_id, status, n in session.execute(stmt):
        if broker_id is not None:
            cases_by_broker[broker_id] = cases_by_broker.get(broker_id, 0) + n
        label = _status_label(status)
        by_status[label] = by_status.get(label, 0) + n
    broker_ids = set(cases_by_broker) | {f.broker_id for f in facts if f.broker_id is not None}
    names = (
        dict(session.execute(select(User.id, User.display_name).where(User.id.in_(broker_ids))).all())
        if broker_ids
        else {}
    )
    return stats.broker_table(facts, cases_by_broker, names), stats.funnel_table(by_status, FUNNEL_STAGES, FUNNEL_LOST)


@dataclass
class Statistics:
    year: int | None
    years: list[int]
    facts_count: int
    tables: list[Table]
    brokers: Table | None
    funnel: Table | None

    def table(self, key: str) -> Table | None:
        for t in self.all_tables():
            if t.key == key:
                return t
        return None

    def all_tables(self) -> list[Table]:
        return [*self.tables, *(t for t in (self.brokers, self.funnel) if t is not None)]


def statistics(session: Session, today: date, year: int | None = None) -> Statistics:
    """Every statistic of registered contracts, for one registration year or all of them."""
    all_facts = contract_facts(session)
    years = sorted({f.registered_on.year for f in all_facts} | {today.year})
    facts = [f for f in all_facts if year is None or f.registered_on.year == year]
    if year is not None:
        first, last = (year, 1), (year, 12) if year < today.year else month_of(today)
    else:
        last = month_of(today)
        first = add_months(last, -23)
    target = session.scalar(select(Target).where(Target.metric == Metric.CONTRACT_AMOUNT).order_by(Target.sort_order))
    side = (target.contract_side if target else None) or DEFAULT_SIDE
    tables = [
        stats.side_table(facts, side),
        stats.by_year(facts),
        stats.by_month(facts, first, last),
        stats.by_contract_type(facts),
        stats.by_tech_field(facts),
        stats.by_town(facts, TOWNS_AND_SUBDISTRICTS),
        stats.by_party_type(facts),
        stats.top_parties(facts, "buyer"),
        stats.top_parties(facts, "seller"),
    ]
    if year is None:
        tables[2].title = f"按登记月份（最近24个月：{month_label(first)} 至 {month_label(last)}）"
    brokers, funnel = broker_and_funnel(session, facts, year)
    return Statistics(year, years, len(facts), tables, brokers, funnel)


def month_range_label(first: Month, last: Month) -> str:
    return f"{month_label(first)} 至 {month_label(last)}"


# --- tables for the pages and the exports ----------------------------------------------------------


def targets_table(views: list[TargetView], today: date) -> Table:
    table = Table(
        "targets",
        "建设目标完成情况",
        [
            Column("name", "目标"),
            Column("target", "目标值"),
            Column("actual", "完成值"),
            Column("percent", "完成比例（%）", "percent"),
            Column("deadline", "期限"),
            Column("status", "状态"),
            Column("projected", "按当前进度到期预计"),
            Column("measure", "统计口径"),
        ],
    )
    for v in views:
        unit = v.target.unit
        if v.is_money:
            target_text, actual_text = f"{v.target.target_value:,.2f}{unit}", f"{v.progress.actual:,.2f}{unit}"
            projected = v.progress.projection.projected
            projected_text = f"{projected:,.2f}{unit}" if projected is not None else "—"
        else:
            target_text, actual_text = f"{int(v.target.target_value)}{unit}", f"{int(v.progress.actual)}{unit}"
            projected = v.progress.projection.projected
            projected_text = f"{projected:.0f}{unit}" if projected is not None else "—"
        table.rows.append(
            [
                v.target.name,
                target_text,
                actual_text,
                v.progress.percent,
                v.target.deadline.isoformat(),
                v.progress.status(today),
                projected_text,
                v.measure,
            ]
        )
    return table


def registry_table(entries: list) -> Table:
    from techmarket.domain.registry import SHEET_COLUMNS

    headers = dict((key, title) for key, title, _ in SHEET_COLUMNS)
    table = Table(
        "registry",
        "创新主体与平台名录",
        [Column(key, headers[key]) for key, _, _ in SHEET_COLUMNS] + [Column("revoked_on", "撤销或失效日期")],
        note="列与导入模板一致，导出的文件可作为台账继续维护。",
    )
    for e in entries:
        table.rows.append(
            [
                e.name,
                e.unit_name,
                e.credit_code or "",
                e.category.label,
                e.level.label,
                e.recognized_year,
                e.recognized_on.isoformat() if e.recognized_on else "",
                e.certificate_no,
                e.town or "",
                "是" if e.local else "否",
                e.note,
                e.revoked_on.isoformat() if e.revoked_on else "",
            ]
        )
    return table


def tasks_table(tasks: list, last: dict[int, date], today: date) -> Table:
    from techmarket.domain.tasks import Quarter, chinese_number

    quarter = Quarter.of(today)
    table = Table(
        "tasks",
        f"政策任务督办情况（{quarter.label}）",
        [
            Column("number", "序号"),
            Column("title", "任务"),
            Column("departments", "责任单位"),
            Column("last", "最近一次进展报告"),
            Column("this_quarter", "本季度已报告"),
        ],
    )
    for t in tasks:
        reported = last.get(t.id)
        table.rows.append(
            [
                f"（{chinese_number(t.number)}）",
                t.title,
                t.departments or "方案未列明",
                reported.isoformat() if reported else "尚无报告",
                "是" if reported and quarter.contains(reported) else "否",
            ]
        )
    return table

"""Reward rounds: gather the year's registered contracts and recognitions, compute, adjust, approve, export.

The calculation itself is the pure ``techmarket.rewards`` package; this module only turns rows into its
plain input, stores the input and the result as JSON snapshots, and keeps the approval rules:
- one approved round per (year, policy) (a partial UNIQUE index), approval under a row lock;
- an approved round is frozen; recomputing creates a new draft linked to it that shows the differences,
  and approving that draft supersedes the earlier round in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import extract, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from techmarket import rewards
from techmarket.domain.contracts import COUNTED
from techmarket.models import Contract, RewardRound, RoundAdjustment, User
from techmarket.models.types import utcnow
from techmarket.services import audit
from techmarket.services.accounts import ServiceError
from techmarket.services.contracts import to_reward_contract
from techmarket.services.registry import transfer_institutions

AWARD_KIND_LABELS = {"buyer": "技术吸纳方（买方）", "seller": "技术输出方（卖方）", "institution": "技术转移示范机构"}


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def earlier_city_awards(session: Session, year: int, policy: rewards.Policy) -> list[rewards.PriorAward]:
    """Buyer awards this city approved for earlier years, per contract (for the lifetime cap)."""
    rounds = session.scalars(select(RewardRound).where(RewardRound.status == "approved", RewardRound.year < year))
    prior = []
    for r in rounds:
        for award in r.result.get("awards", []):
            if award["kind"] != "buyer":
                continue
            for line in award.get("lines", []):
                amount = Decimal(line["amount"])
                if amount > 0:
                    prior.append(
                        rewards.PriorAward(
                            recipient=award["recipient"],
                            kind="buyer",
                            contract_id=line["contract_id"],
                            year=r.year,
                            source=policy.payer,
                            amount=amount,
                        )
                    )
    return prior


def gather(
    session: Session, year: int, policy: rewards.Policy, adjustments: list[RoundAdjustment]
) -> rewards.RewardInput:
    first_year = year - policy.registration_years_before
    contracts = session.scalars(
        select(Contract)
        .where(
            Contract.status.in_(COUNTED),
            Contract.registration_no.is_not(None),
            extract("year", Contract.registered_on).between(first_year, year),
        )
        .order_by(Contract.registration_no)
    ).all()
    prior = earlier_city_awards(session, year, policy)
    prior += [
        rewards.PriorAward(
            recipient=a.recipient or "",
            kind=a.award_kind,
            contract_id=a.contract_id,
            year=a.prior_year or year,
            source=next(iter(policy.exclusive_with), "luoyang"),
            amount=a.amount or Decimal("0.00"),
        )
        for a in adjustments
        if a.kind == "prior_award"
    ]
    exclusions = tuple(
        rewards.Exclusion(a.contract_id or "", a.award_kind, a.reason) for a in adjustments if a.kind == "exclude"
    )
    institutions = tuple(i for i in transfer_institutions(session) if i.recognized_on.year <= year)
    return rewards.RewardInput(
        year=year,
        contracts=tuple(to_reward_contract(c) for c in contracts),
        institutions=institutions,
        prior_awards=tuple(prior),
        policy=policy.id,
        exclusions=exclusions,
    )


def _compute(session: Session, round_: RewardRound) -> None:
    """Recalculate the round from the current rows and its adjustments (as just added or removed)."""
    session.flush()
    session.refresh(round_, ["adjustments"])
    policy = rewards.load_policy(round_.policy_id)
    data = gather(session, round_.year, policy, list(round_.adjustments))
    result = rewards.calculate(data, policy)
    round_.input_snapshot = _json(asdict(data))
    round_.result = _json(rewards.result_to_dict(result))
    round_.total = result.total
    round_.computed_at = utcnow()
    session.flush()


def open_round(
    session: Session, actor: User, year: int, policy_id: str, *, today: date, ip: str | None = None
) -> RewardRound:
    if policy_id not in rewards.available_policies():
        raise ServiceError("未知的奖励政策。", "policy_id")
    if not 2000 <= year <= today.year:
        raise ServiceError(f"奖励年度应在2000年至{today.year}年之间。", "year")
    draft = session.scalar(
        select(RewardRound).where(
            RewardRound.year == year, RewardRound.policy_id == policy_id, RewardRound.status == "draft"
        )
    )
    if draft is not None:
        raise ServiceError(f"{year}年度已有一个未审批的草稿（第{draft.id}轮），请在其上继续。", "year")
    approved = session.scalar(
        select(RewardRound).where(
            RewardRound.year == year, RewardRound.policy_id == policy_id, RewardRound.status == "approved"
        )
    )
    round_ = RewardRound(
        year=year,
        policy_id=policy_id,
        status="draft",
        created_by_id=actor.id,
        previous_id=approved.id if approved else None,
    )
    session.add(round_)
    session.flush()
    if approved is not None:  # carry the clerk's earlier decisions into the recomputation
        for a in approved.adjustments:
            session.add(
                RoundAdjustment(
                    round_id=round_.id,
                    kind=a.kind,
                    award_kind=a.award_kind,
                    contract_id=a.contract_id,
                    recipient=a.recipient,
                    prior_year=a.prior_year,
                    amount=a.amount,
                    reason=a.reason,
                    created_by_id=a.created_by_id,
                )
            )
    _compute(session, round_)
    audit.record(
        session,
        "reward_round_open",
        actor_id=actor.id,
        object_type="reward_round",
        object_id=round_.id,
        ip=ip,
        year=year,
        policy=policy_id,
        total=str(round_.total),
        previous=round_.previous_id,
    )
    return round_


def _require_draft(round_: RewardRound) -> None:
    if round_.status != "draft":
        raise ServiceError(f"第{round_.id}轮当前为“{round_.status_label}”，已冻结，不能修改。如需重算请新开一轮。")


def recompute(session: Session, actor: User, round_: RewardRound, *, ip: str | None = None) -> None:
    _require_draft(round_)
    old = str(round_.total)
    _compute(session, round_)
    audit.record(
        session,
        "reward_round_recompute",
        actor_id=actor.id,
        object_type="reward_round",
        object_id=round_.id,
        ip=ip,
        old=old,
        new=str(round_.total),
    )


def adjust(
    session: Session, actor: User, round_: RewardRound, adjustment: RoundAdjustment, *, ip: str | None = None
) -> None:
    _require_draft(round_)
    if not adjustment.reason.strip():
        raise ServiceError("请填写理由。", "reason")
    if adjustment.kind == "exclude":
        ids = {c["id"] for c in round_.input_snapshot.get("contracts", [])}
        if adjustment.contract_id not in ids:
            raise ServiceError("本轮计算中没有这个合同登记编号。", "contract_id")
    adjustment.round_id = round_.id
    adjustment.created_by_id = actor.id
    session.add(adjustment)
    old = str(round_.total)
    _compute(session, round_)
    audit.record(
        session,
        "reward_round_adjust",
        actor_id=actor.id,
        object_type="reward_round",
        object_id=round_.id,
        ip=ip,
        kind=adjustment.kind,
        award_kind=adjustment.award_kind,
        contract_id=adjustment.contract_id,
        recipient=adjustment.recipient,
        amount=str(adjustment.amount) if adjustment.amount else None,
        reason=adjustment.reason,
        old=old,
        new=str(round_.total),
    )


def remove_adjustment(
    session: Session, actor: User, round_: RewardRound, adjustment_id: int, *, ip: str | None = None
) -> None:
    _require_draft(round_)
    adjustment = session.get(RoundAdjustment, adjustment_id)
    if adjustment is None or adjustment.round_id != round_.id:
        raise ServiceError("该调整不存在。")
    session.delete(adjustment)
    _compute(session, round_)
    audit.record(
        session,
        "reward_round_unadjust",
        actor_id=actor.id,
        object_type="reward_round",
        object_id=round_.id,
        ip=ip,
        adjustment=adjustment_id,
        new=str(round_.total),
    )


def lock(session: Session, round_id: int) -> RewardRound | None:
    return session.scalar(select(RewardRound).where(RewardRound.id == round_id).with_for_update())


def approve(session: Session, actor: User, round_id: int, *, ip: str | None = None) -> RewardRound:
    """Freeze the round. Under a row lock and the partial UNIQUE index, N concurrent approvals give one."""
    round_ = lock(session, round_id)
    if round_ is None:
        raise ServiceError("该奖补轮次不存在。")
    _require_draft(round_)
    previous = session.scalar(
        select(RewardRound)
        .where(
            RewardRound.year == round_.year, RewardRound.policy_id == round_.policy_id, RewardRound.status == "approved"
        )
        .with_for_update()
    )
    if previous is not None:
        previous.status = "superseded"
        session.flush()
    round_.status = "approved"
    round_.approved_by_id = actor.id
    round_.approved_at = utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ServiceError("该年度已有审批通过的奖补轮次，不能重复审批。") from exc
    audit.record(
        session,
        "reward_round_approve",
        actor_id=actor.id,
        object_type="reward_round",
        object_id=round_.id,
        ip=ip,
        year=round_.year,
        policy=round_.policy_id,
        total=str(round_.total),
        superseded=previous.id if previous else None,
    )
    return round_


def differences(current: RewardRound, previous: RewardRound | None) -> list[dict[str, Any]]:
    """Per unit and kind: the earlier round's amount, this round's, and the change (only where they differ)."""
    if previous is None:
        return []

    def amounts(r: RewardRound) -> dict[tuple[str, str], tuple[str, Decimal]]:
        return {(a["recipient"], a["kind"]): (a["name"], Decimal(a["amount"])) for a in r.result.get("awards", [])}

    old, new = amounts(previous), amounts(current)
    rows = []
    for key in sorted(set(old) | set(new)):
        before = old.get(key, ("", Decimal("0.00")))
        after = new.get(key, ("", Decimal("0.00")))
        if before[1] != after[1]:
            rows.append(
                {
                    "recipient": key[0],
                    "kind": key[1],
                    "name": after[0] or before[0],
                    "old": before[1],
                    "new": after[1],
                    "change": after[1] - before[1],
                }
            )
    return rows


def unit_awards(session: Session, credit_code: str) -> list[tuple[RewardRound, dict[str, Any]]]:
    """A unit's awards in approved rounds (what it may see of the rewards), newest year first."""
    rounds = session.scalars(
        select(RewardRound).where(RewardRound.status == "approved").order_by(RewardRound.year.desc())
    ).all()
    return [(r, a) for r in rounds for a in r.result.get("awards", []) if a["recipient"] == credit_code]


def export_rows(round_: RewardRound) -> list[list[Any]]:
    """Finance office layout: unit, credit code, kind, base, amount, lines."""
    rows = []
    for award in round_.result.get("awards", []):
        base = sum((Decimal(line["base"]) for line in award.get("lines", []) if line.get("base")), Decimal("0.00"))
        lines = "；".join(
            f"{line['contract_id'] or ''} 基数{line['base'] or '—'} 奖励{line['amount']}"
            for line in award.get("lines", [])
        )
        rows.append(
            [
                award["name"],
                award["recipient"],
                AWARD_KIND_LABELS.get(award["kind"], award["kind"]),
                base,
                Decimal(award["amount"]),
                lines,
                award.get("explanation", ""),
            ]
        )
    return rows

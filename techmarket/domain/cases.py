"""Match cases (对接项目): the broker's pipeline from a candidate pair to a signed deal, as pure rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from techmarket.domain.listings import LABELS, LabelledEnum


class CaseStatus(LabelledEnum):
    """对接状态"""

    RECOMMENDED = "recommended"
    INTENT_CONFIRMED = "intent_confirmed"
    NEGOTIATING = "negotiating"
    SIGNED = "signed"
    FAILED = "failed"


class Side(LabelledEnum):
    """对接方"""

    BUYER = "buyer"
    SELLER = "seller"


class EventKind(LabelledEnum):
    """记录类型"""

    NOTE = "note"
    MEETING = "meeting"
    MESSAGE = "message"
    STATUS = "status"
    ACCEPTANCE = "acceptance"
    ASSIGNMENT = "assignment"


LABELS[CaseStatus] = {
    CaseStatus.RECOMMENDED: "已推荐",
    CaseStatus.INTENT_CONFIRMED: "双方已确认意向",
    CaseStatus.NEGOTIATING: "洽谈中",
    CaseStatus.SIGNED: "已签约",
    CaseStatus.FAILED: "未成交",
}
LABELS[Side] = {Side.BUYER: "需求方（企业）", Side.SELLER: "成果方"}
LABELS[EventKind] = {
    EventKind.NOTE: "备注",
    EventKind.MEETING: "会谈",
    EventKind.MESSAGE: "留言",
    EventKind.STATUS: "状态变更",
    EventKind.ACCEPTANCE: "意向确认",
    EventKind.ASSIGNMENT: "经纪人",
}

FUNNEL = (CaseStatus.RECOMMENDED, CaseStatus.INTENT_CONFIRMED, CaseStatus.NEGOTIATING, CaseStatus.SIGNED)
FINAL = frozenset({CaseStatus.SIGNED, CaseStatus.FAILED})
#: status changes a person may make; 双方已确认意向 is reached only through both acceptances
MANUAL_TRANSITIONS = {
    CaseStatus.INTENT_CONFIRMED: frozenset({CaseStatus.NEGOTIATING, CaseStatus.FAILED}),
    CaseStatus.NEGOTIATING: frozenset({CaseStatus.SIGNED, CaseStatus.FAILED}),
    CaseStatus.RECOMMENDED: frozenset({CaseStatus.FAILED}),
}
STALE_AFTER = timedelta(days=30)


class CaseRuleError(ValueError):
    """A step the case's state does not allow (message in Chinese)."""


def check_manual_transition(current: CaseStatus, target: CaseStatus, reason: str = "") -> None:
    if current in FINAL:
        raise CaseRuleError(f"该对接项目已{current.label}，不能再变更状态。")
    if target not in MANUAL_TRANSITIONS.get(current, frozenset()):
        raise CaseRuleError(f"不能从“{current.label}”直接变更为“{target.label}”。")
    if target == CaseStatus.FAILED and not reason.strip():
        raise CaseRuleError("标记为未成交时必须填写原因。")


def after_acceptance(current: CaseStatus, accepted_sides: set[Side]) -> CaseStatus:
    """Both sides accepted: the case moves to 双方已确认意向 (from 已推荐 only)."""
    if current == CaseStatus.RECOMMENDED and accepted_sides >= {Side.BUYER, Side.SELLER}:
        return CaseStatus.INTENT_CONFIRMED
    return current


def is_stale(status: CaseStatus, last_activity: datetime, now: datetime) -> bool:
    return status not in FINAL and now - last_activity > STALE_AFTER


STRONG_RATIO = 1.45
MEDIUM_RATIO = 1.2


def strength(score: float, threshold: float) -> str:
    """A plain-language strength for a match score above the no-match threshold.

    Bands relative to the calibrated threshold: with the shipped 0.378, 强 from about 0.55 and 中 from
    about 0.45. On the demo data the best match of a need that has a real solver scores 0.38–0.67.
    """
    if score >= threshold * STRONG_RATIO:
        return "强"
    if score >= threshold * MEDIUM_RATIO:
        return "中"
    return "弱"


def funnel_counts(statuses: list[CaseStatus]) -> dict[CaseStatus, int]:
    """How many cases reached each funnel stage (a signed case also passed the earlier stages)."""
    order = {s: i for i, s in enumerate(FUNNEL)}
    counts = dict.fromkeys(FUNNEL, 0)
    for status in statuses:
        reached = order.get(status)
        if reached is None:  # 未成交: counted at the first stage only (its furthest stage is not kept)
            reached = 0
        for stage in FUNNEL[: reached + 1]:
            counts[stage] += 1
    return counts


def due_soon(due: date | None, today: date) -> bool:
    return due is not None and due <= today + timedelta(days=3)

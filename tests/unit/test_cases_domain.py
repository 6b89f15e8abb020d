from datetime import UTC, datetime, timedelta

import pytest

from techmarket.domain.cases import (
    CaseRuleError,
    CaseStatus,
    Side,
    after_acceptance,
    check_manual_transition,
    funnel_counts,
    is_stale,
    strength,
)

C = CaseStatus


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        (C.RECOMMENDED, C.FAILED, True),
        (C.RECOMMENDED, C.NEGOTIATING, False),  # both parties must accept first
        (C.RECOMMENDED, C.SIGNED, False),
        (C.RECOMMENDED, C.INTENT_CONFIRMED, False),  # only through acceptances
        (C.INTENT_CONFIRMED, C.NEGOTIATING, True),
        (C.INTENT_CONFIRMED, C.SIGNED, False),
        (C.NEGOTIATING, C.SIGNED, True),
        (C.NEGOTIATING, C.RECOMMENDED, False),
        (C.SIGNED, C.FAILED, False),
        (C.FAILED, C.NEGOTIATING, False),
    ],
)
def test_manual_transitions(current, target, ok):
    if ok:
        check_manual_transition(current, target, reason="价格谈不拢")
    else:
        with pytest.raises(CaseRuleError):
            check_manual_transition(current, target, reason="价格谈不拢")


def test_failing_needs_a_reason():
    with pytest.raises(CaseRuleError, match="必须填写原因"):
        check_manual_transition(C.NEGOTIATING, C.FAILED, reason=" ")


def test_intent_confirmed_only_when_both_accept():
    assert after_acceptance(C.RECOMMENDED, {Side.BUYER}) == C.RECOMMENDED
    assert after_acceptance(C.RECOMMENDED, {Side.BUYER, Side.SELLER}) == C.INTENT_CONFIRMED
    assert after_acceptance(C.FAILED, {Side.BUYER, Side.SELLER}) == C.FAILED


def test_stale_after_thirty_days_unless_finished():
    now = datetime(2026, 11, 26, tzinfo=UTC)
    assert is_stale(C.NEGOTIATING, now - timedelta(days=31), now)
    assert not is_stale(C.NEGOTIATING, now - timedelta(days=29), now)
    assert not is_stale(C.SIGNED, now - timedelta(days=90), now)


def test_funnel_counts_reached_stages():
    counts = funnel_counts([C.RECOMMENDED, C.SIGNED, C.NEGOTIATING, C.FAILED])
    assert counts == {C.RECOMMENDED: 4, C.INTENT_CONFIRMED: 2, C.NEGOTIATING: 2, C.SIGNED: 1}


def test_strength_levels():
    assert strength(0.56, 0.378) == "强" and strength(0.46, 0.378) == "中" and strength(0.40, 0.378) == "弱"

from datetime import date
from decimal import Decimal

import pytest

from techmarket.domain.listings import (
    TRANSITIONS,
    AmountError,
    Cooperation,
    ListingStatus,
    TechField,
    TransitionError,
    add_months,
    cooperation_from_mask,
    cooperation_mask,
    effective_status,
    format_yuan,
    next_status,
    parse_amount,
)

S = ListingStatus
LEGAL = {
    (S.DRAFT, "submit"): S.PENDING,
    (S.PENDING, "withdraw"): S.DRAFT,
    (S.PENDING, "approve"): S.PUBLISHED,
    (S.PENDING, "reject"): S.DRAFT,
    (S.PUBLISHED, "mark_dealt"): S.DEALT,
    (S.DRAFT, "close"): S.CLOSED,
    (S.PENDING, "close"): S.CLOSED,
    (S.PUBLISHED, "close"): S.CLOSED,
    (S.EXPIRED, "close"): S.CLOSED,
    (S.PUBLISHED, "expire"): S.EXPIRED,
    (S.PUBLISHED, "renew"): S.PUBLISHED,
    (S.EXPIRED, "renew"): S.PUBLISHED,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_transition_is_legal_or_refused(status, action):
    if (status, action) in LEGAL:
        assert next_status(status, action) == LEGAL[(status, action)]
    else:
        with pytest.raises(TransitionError, match=f"当前状态为“{status.label}”"):
            next_status(status, action)


def test_dealt_and_closed_are_final():
    for final in (S.DEALT, S.CLOSED):
        assert not [a for a in TRANSITIONS if (final, a) in LEGAL]


def test_effective_status_expires_published_listings_only():
    assert effective_status(S.PUBLISHED, date(2027, 1, 1), date(2027, 1, 1)) == S.PUBLISHED
    assert effective_status(S.PUBLISHED, date(2027, 1, 1), date(2027, 1, 2)) == S.EXPIRED
    assert effective_status(S.DRAFT, date(2027, 1, 1), date(2027, 1, 2)) == S.DRAFT


def test_add_months_clamps_to_month_end():
    assert add_months(date(2026, 11, 26), 12) == date(2027, 11, 26)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("500000", Decimal("500000.00")),
        ("1,200,000.5", Decimal("1200000.50")),
        (" 0.01 ", Decimal("0.01")),
        ("", None),
        (None, None),
    ],
)
def test_parse_amount_accepts(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-5", "必须大于0"),
        ("0", "必须大于0"),
        ("12.345", "两位小数"),
        ("abc", "应为数字"),
        ("1e12", "超过10亿元"),
        ("NaN", "应为数字"),
        ("Infinity", "应为数字"),
    ],
)
def test_parse_amount_refuses(raw, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(raw, "参考价格")


def test_cooperation_mask_round_trip():
    modes = [Cooperation.LICENSE, Cooperation.SERVICE]
    assert cooperation_from_mask(cooperation_mask(modes)) == modes
    assert cooperation_mask([]) == 0


def test_labels_and_formatting():
    assert TechField.from_label("生物、医药和医疗器械") == TechField.BIOMEDICINE
    assert len(TechField) == 11
    assert format_yuan(None) == "面议"
    assert format_yuan(Decimal("450000.00")) == "45万元"
    assert format_yuan(Decimal("1234.50")) == "1,234.50元"
    with pytest.raises(ValueError, match="未知的技术领域"):
        TechField.from_label("量子玄学")

"""Contract rules without an app: the status machine, amounts to the fen, dates, registration numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from techmarket.domain import contracts as rules
from techmarket.domain.contracts import ActionError, ContractStatus, ContractType

S = ContractStatus
LEGAL = {
    (S.DRAFT, "submit"): S.SUBMITTED,
    (S.RETURNED, "submit"): S.SUBMITTED,
    (S.SUBMITTED, "register"): S.REGISTERED,
    (S.SUBMITTED, "return"): S.RETURNED,
    (S.REGISTERED, "terminate"): S.TERMINATED,
    (S.REGISTERED, "revoke"): S.REVOKED,
    (S.TERMINATED, "revoke"): S.REVOKED,
}
ALL = [(status, action) for status in ContractStatus for action in rules.TRANSITIONS]


@pytest.mark.parametrize(("status", "action"), ALL)
def test_every_transition_is_either_legal_or_refused_in_chinese(status, action):
    if (status, action) in LEGAL:
        assert rules.next_status(status, action) == LEGAL[(status, action)]
    else:
        with pytest.raises(ActionError, match="合同当前状态为"):
            rules.next_status(status, action)


def test_revoked_is_final_and_unknown_actions_refused():
    for action in rules.TRANSITIONS:
        with pytest.raises(ActionError):
            rules.next_status(S.REVOKED, action)
    with pytest.raises(ActionError, match="未知操作"):
        rules.next_status(S.DRAFT, "approve")


def test_only_draft_and_returned_are_editable_and_revoked_takes_no_payment():
    assert {S.DRAFT, S.RETURNED} == rules.EDITABLE
    assert S.REVOKED not in rules.PAYABLE and S.REGISTERED in rules.PAYABLE


def test_contract_type_labels_map_to_the_five_main_types():
    mains = {t.main_label for t in ContractType}
    assert mains == {"技术开发", "技术转让", "技术许可", "技术咨询", "技术服务"}
    assert ContractType.SERVICE_TRAINING.main_label == "技术服务"
    assert ContractType.TRANSFER_PATENT.label == "技术转让（专利权）"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-1", "大于0"),
        ("0", "大于0"),
        ("0.00", "大于0"),
        ("abc", "应为数字"),
        ("1.234", "两位小数"),
        ("NaN", "应为数字"),
        ("", "请填写"),
        (None, "请填写"),
    ],
)
def test_bad_amounts_refused(raw, message):
    with pytest.raises(ActionError, match=message) as info:
        rules.require_amount(raw, "合同成交额", "contract_amount")
    assert info.value.field == "contract_amount"
    assert "面议" not in info.value.message


def test_amounts_exact_to_the_fen():
    assert rules.require_amount("1,000,000.10", "x") == Decimal("1000000.10")
    assert rules.require_amount("0.01", "x") == Decimal("0.01")
    assert str(rules.require_amount("5", "x")) == "5.00"
    total = sum([rules.require_amount("0.10", "x")] * 3, Decimal("0.00"))
    assert total == Decimal("0.30")  # float would give 0.30000000000000004


def test_technology_amount_never_above_contract_amount():
    rules.check_contract_amounts(Decimal("100.00"), Decimal("100.00"))
    with pytest.raises(ActionError, match="不能大于合同成交额") as info:
        rules.check_contract_amounts(Decimal("100.00"), Decimal("100.01"))
    assert info.value.field == "technology_amount"


TODAY = date(2026, 11, 26)
SIGNED = date(2026, 3, 1)


def _pay(**kw):
    args = {
        "amount": Decimal("100.00"),
        "technology_amount": None,
        "paid_on": date(2026, 4, 1),
        "signed_on": SIGNED,
        "today": TODAY,
        "contract_amount": Decimal("300.00"),
        "earlier_payments": [],
        "confirmed_over_total": False,
    } | kw
    return rules.check_payment(**args)


def test_payment_dates():
    with pytest.raises(ActionError, match="不能早于合同签订日期"):
        _pay(paid_on=date(2026, 2, 28))
    with pytest.raises(ActionError, match="不能晚于今天"):
        _pay(paid_on=date(2026, 11, 27))
    assert not _pay(paid_on=SIGNED).over_total
    assert not _pay(paid_on=TODAY).over_total
    with pytest.raises(ActionError, match="终止"):
        _pay(paid_on=date(2026, 6, 2), terminated_on=date(2026, 6, 1))


def test_payments_beyond_the_total_need_confirmation_and_are_flagged():
    earlier = [Decimal("100.00"), Decimal("199.99")]
    assert _pay(amount=Decimal("0.01"), earlier_payments=earlier).paid_total == Decimal("300.00")
    with pytest.raises(ActionError, match="超过合同成交额") as info:
        _pay(amount=Decimal("0.02"), earlier_payments=earlier)
    assert info.value.field == "confirm_over_total"
    flagged = _pay(amount=Decimal("0.02"), earlier_payments=earlier, confirmed_over_total=True)
    assert flagged.over_total and flagged.paid_total == Decimal("300.01")


def test_payment_technology_portion_not_above_the_payment():
    _pay(technology_amount=Decimal("100.00"))
    with pytest.raises(ActionError, match="本次实现技术交易额"):
        _pay(technology_amount=Decimal("100.01"))


def test_registration_corrects_downward_only():
    ok = {
        "declared_technology_amount": Decimal("500.00"),
        "registered_technology_amount": Decimal("400.00"),
        "signed_on": SIGNED,
        "registered_on": date(2026, 5, 1),
        "today": TODAY,
    }
    rules.check_registration(**ok)
    with pytest.raises(ActionError, match="只能等于或低于"):
        rules.check_registration(**(ok | {"registered_technology_amount": Decimal("500.01")}))
    with pytest.raises(ActionError, match="不能早于合同签订日期"):
        rules.check_registration(**(ok | {"registered_on": date(2026, 2, 1)}))
    with pytest.raises(ActionError, match="不能晚于今天"):
        rules.check_registration(**(ok | {"registered_on": date(2026, 12, 1)}))


def test_contract_dates():
    rules.check_contract_dates(SIGNED, SIGNED, date(2027, 3, 1), TODAY)
    with pytest.raises(ActionError, match="签订日期不能晚于今天"):
        rules.check_contract_dates(date(2026, 12, 1), None, None, TODAY)
    with pytest.raises(ActionError, match="有效期"):
        rules.check_contract_dates(SIGNED, None, date(2026, 2, 1), TODAY)
    with pytest.raises(ActionError, match="有效期"):
        rules.check_contract_dates(SIGNED, date(2026, 5, 1), date(2026, 4, 1), TODAY)


@pytest.mark.parametrize(
    ("raw", "expected"), [("2026410381000012", "2026410381000012"), (" 2026-4103-81a ", "2026-4103-81A")]
)
def test_registration_numbers(raw, expected):
    assert rules.normalize_registration_no(raw) == expected


@pytest.mark.parametrize("raw", ["", "12", "2026/41", "登记2026", "-2026410381", "x" * 41])
def test_bad_registration_numbers(raw):
    with pytest.raises(ActionError, match="登记编号"):
        rules.normalize_registration_no(raw)


def test_submission_needs_the_contract_text_and_a_certificate_when_registered_elsewhere():
    assert rules.submission_problems(has_contract_file=True, registered_elsewhere=False, has_certificate=False) == []
    assert rules.submission_problems(has_contract_file=False, registered_elsewhere=False, has_certificate=False)
    problems = rules.submission_problems(has_contract_file=True, registered_elsewhere=True, has_certificate=False)
    assert "登记证明" in problems[0]

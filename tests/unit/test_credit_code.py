import pytest

from techmarket.domain.credit_code import CreditCodeError, check_character, is_valid_credit_code, normalize_credit_code

# Published codes of two well-known companies; their check characters come from their registrations,
# not from this code: 914403001922038216 (check "6") and 91110000100017643K (check "K").
PUBLISHED = ["914403001922038216", "91110000100017643K"]
VALID = "914403001922038216"


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_validate(code):
    assert check_character(code[:17]) == code[17]
    assert normalize_credit_code(code) == code


def test_lowercase_and_spaces_are_normalised():
    assert normalize_credit_code(f"  {VALID.lower()} ") == VALID


def test_wrong_check_digit_is_rejected_with_a_message_saying_so():
    wrong = VALID[:17] + "7"
    with pytest.raises(CreditCodeError, match="校验位不正确"):
        normalize_credit_code(wrong)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "请填写"),
        ("91440300192203821", "应为18位"),
        ("9144030019220382160", "应为18位"),
        ("91440300192203O216", "不允许的字符：O"),
        ("914A03001922038216", "行政区划代码"),
    ],
)
def test_malformed_codes_name_the_problem(code, message):
    with pytest.raises(CreditCodeError, match=message):
        normalize_credit_code(code)


def test_every_seeded_organisation_has_a_valid_code():
    from techmarket.seed import read_json

    codes = [row["credit_code"] for row in read_json("organisations.json")]
    assert codes and all(is_valid_credit_code(c) for c in codes)
    assert len(set(codes)) == len(codes)

"""统一社会信用代码 (GB 32100-2015) validation.

Eighteen characters: 登记管理部门码 (1), 机构类别码 (1), 登记管理机关行政区划码 (6),
主体标识码 (9) and a check character computed modulo 31 over the first seventeen.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class CreditCodeError(ValueError):
    """The code is not a valid 统一社会信用代码; the message is Chinese and says why."""


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    check = 31 - total % 31
    return ALPHABET[0 if check == 31 else check]


def normalize_credit_code(raw: str) -> str:
    """Return the canonical (upper-case, trimmed) code or raise CreditCodeError."""
    code = (raw or "").strip().upper()
    if not code:
        raise CreditCodeError("请填写统一社会信用代码。")
    if len(code) != 18:
        raise CreditCodeError(f"统一社会信用代码应为18位，您输入了{len(code)}位。")
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        shown = "、".join(bad)
        raise CreditCodeError(f"统一社会信用代码含有不允许的字符：{shown}（不使用I、O、Z、S、V）。")
    if not code[2:8].isdigit():
        raise CreditCodeError("统一社会信用代码第3至8位应为行政区划代码（6位数字）。")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError("统一社会信用代码校验位不正确，请核对后重新输入。")
    return code


def is_valid_credit_code(raw: str) -> bool:
    try:
        normalize_credit_code(raw)
    except CreditCodeError:
        return False
    return True

"""Password rules (OWASP ASVS 5.0 L2): length and a common-password list, no composition rules."""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

MIN_LENGTH = 8
MAX_LENGTH = 128


@cache
def common_passwords() -> frozenset[str]:
    data = resources.files("techmarket") / "data"
    with gzip.open(str(data / "common-passwords.txt.gz"), "rt", encoding="utf-8") as fh:
        words = {line.strip().lower() for line in fh if line.strip()}
    extra = (data / "common-passwords-zh.txt").read_text(encoding="utf-8")
    words |= {w.strip().lower() for w in extra.splitlines() if w.strip() and not w.startswith("#")}
    return frozenset(words)


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Chinese messages for every rule the password breaks; empty when it is acceptable."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少需要{MIN_LENGTH}个字符。")
    if len(password) > MAX_LENGTH:
        problems.append(f"密码不能超过{MAX_LENGTH}个字符。")
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("该密码过于常见，容易被猜中，请换一个。")
    elif username and lowered == username.lower():
        problems.append("密码不能与用户名相同。")
    return problems

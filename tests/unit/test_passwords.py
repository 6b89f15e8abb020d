import base64

import pytest

from techmarket.domain.hashing import hash_password, verify_password
from techmarket.domain.passwords import common_passwords, password_problems


def test_seven_characters_refused_eight_accepted():
    assert password_problems("k7#mq2x") == ["密码至少需要8个字符。"]
    assert password_problems("k7#mq2xv") == []


def test_long_passphrases_allowed_and_no_composition_rules():
    assert password_problems("x" * 63 + "y") == []  # 64 characters
    assert password_problems("偃师牡丹花开四月天好风光") == []  # Chinese passphrase, no digits or symbols


@pytest.mark.parametrize("pw", ["password", "PASSWORD1", "12345678", "iloveyou", "woaini1314", "qwertyuiop"])
def test_common_passwords_refused(pw):
    assert "该密码过于常见，容易被猜中，请换一个。" in password_problems(pw)


def test_list_is_large_and_shipped():
    assert len(common_passwords()) > 19000


def test_password_equal_to_username_refused():
    assert password_problems("zhangsan2026", username="ZhangSan2026") == ["密码不能与用户名相同。"]


def test_hash_is_argon2id_with_at_least_19_mib():
    stored = hash_password("a reasonably long secret")
    algorithm, _version, params, salt, _digest = stored.split("$")[1:]
    assert algorithm == "argon2id"
    values = dict(p.split("=") for p in params.split(","))
    assert int(values["m"]) >= 19 * 1024
    assert int(values["t"]) >= 2
    assert len(base64.b64decode(salt + "==")) >= 16


def test_verify_is_exact_and_not_truncated():
    long_pw = "a" * 100 + "b"
    stored = hash_password(long_pw)
    assert verify_password(stored, long_pw)
    assert not verify_password(stored, "a" * 100)  # a truncated password does not match
    assert not verify_password(stored, long_pw[:72])
    assert not verify_password(None, long_pw)
    assert not verify_password("not-a-hash", long_pw)

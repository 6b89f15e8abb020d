"""Password hashing with argon2id at OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MEMORY_KIB = 19 * 1024
_hasher = PasswordHasher(time_cost=2, memory_cost=MEMORY_KIB, parallelism=1, type=Type.ID)
# Verified against when the account does not exist, so a miss costs as much as a hit.
_DUMMY_HASH = _hasher.hash("techmarket-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)

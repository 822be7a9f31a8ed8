"""Secrets at rest: argon2id password hashes, and SHA-256 digests of session and API tokens."""

from __future__ import annotations

import hashlib
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the username is unknown, so that both failures take the same time.
_DUMMY_HASH = _hasher.hash("thidua-no-such-user")


def nfc(text: str) -> str:
    """Passwords and usernames compare in Unicode NFC, however the keyboard composed them."""
    return unicodedata.normalize("NFC", text)


def hash_password(password: str) -> str:
    return _hasher.hash(nfc(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; without a hash (an unknown user) it takes as long to say no."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, nfc(password)) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with older argon2 parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()

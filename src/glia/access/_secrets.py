"""Passwords and secrets: argon2 for passwords, SHA-256 for random tokens.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's
second recommended option). Tokens and session ids are 256 random bits;
only their SHA-256 is stored, which is enough for a secret that cannot be
guessed and costs nothing on every request (argon2 on each API call would
cost tens of milliseconds).

>>> hashed = hash_password("correct horse")
>>> verify_password(hashed, "correct horse"), verify_password(hashed, "wrong")
(True, False)
>>> token = new_secret("glia_")
>>> token.startswith("glia_") and len(digest(token)) == 64
True
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["DUMMY_HASH", "digest", "hash_password", "new_secret", "verify_password"]

_hasher = PasswordHasher()

#: Checked against when the username is unknown, so that a refusal takes as long
#: as a wrong password and does not tell which usernames exist.
DUMMY_HASH = _hasher.hash("not a password anyone has")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    """Whether ``password`` matches ``hashed``."""
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str = "") -> str:
    """A fresh random secret (256 bits, URL-safe), with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The SHA-256 of a secret, as 64 hex digits: what the store keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()

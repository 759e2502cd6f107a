"""The API key format, ``dpk_<id>_<secret>``, and how secrets are generated, hashed and compared.

The id (16 hex digits) is public and names the key in lists, logs and principal ids (``api_key:<id>``). The
secret has 256 random bits, so a plain SHA-256 of it is enough to store (no slow hash needed: it cannot be
guessed), and it is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "dpk"
_KEY = re.compile(r"^dpk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_NO_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True, slots=True)
class KeyParts:
    id: str
    secret: str

    def __str__(self) -> str:
        return f"{PREFIX}_{self.id}_{self.secret}"

    def __repr__(self) -> str:
        return f"KeyParts(id={self.id!r}, secret=...)"


def new_id() -> str:
    return secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def parse_key(key: str) -> KeyParts | None:
    match = _KEY.match(key)
    return None if match is None else KeyParts(match[1], match[2])


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, secret_hash: str | None) -> bool:
    """Constant-time comparison; with no stored hash (unknown key) it still compares, and fails."""
    expected = _NO_HASH if secret_hash is None else secret_hash
    return hmac.compare_digest(hash_secret(secret), expected) and secret_hash is not None

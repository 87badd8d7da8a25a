"""API key and token secrets: generation and hashing.

Keys are 256-bit random secrets, so a single SHA-256 is the right hash: it is what lets
ext_proc look a key up in a dict on the hot path, and brute force is out of reach.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "omg-"
ADMIN_TOKEN_PREFIX = "omga-"
VISIBLE_PREFIX_CHARS = 12


def new_secret(prefix: str = KEY_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def visible_prefix(secret: str) -> str:
    return secret[:VISIBLE_PREFIX_CHARS]

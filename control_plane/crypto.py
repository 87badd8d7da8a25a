"""Provider credentials at rest: Fernet (AES-128-CBC + HMAC) under a key from OMG_SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def fernet_from_secret(secret: str) -> Fernet:
    digest = hashlib.sha256(secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def load_or_create_secret(configured: str, home: Path) -> str:
    """The configured secret, else one kept in `<home>/secret.key` (created 0600 once)."""
    if configured:
        return configured
    path = home / "secret.key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


class CredentialCipher:
    def __init__(self, secret: str) -> None:
        self._fernet = fernet_from_secret(secret)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode() if plaintext else ""

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode() if token else ""


def fingerprint(plaintext: str) -> str:
    """What the API shows instead of a credential: enough to tell two apart, no more."""
    if not plaintext:
        return ""
    return "sha256:" + hashlib.sha256(plaintext.encode()).hexdigest()[:12]

"""Unit tests of credential encryption at rest and API key secrets."""

from __future__ import annotations

import hashlib
import re
import stat
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken

from control_plane.crypto import CredentialCipher, fingerprint, load_or_create_secret
from omg_common.keys import (
    ADMIN_TOKEN_PREFIX,
    KEY_PREFIX,
    hash_secret,
    new_secret,
    visible_prefix,
)

CREDENTIAL = "sk-proj-THIS-IS-A-PROVIDER-CREDENTIAL-0123456789"


def test_encrypt_decrypt_round_trip() -> None:
    cipher = CredentialCipher("server-secret")
    token = cipher.encrypt(CREDENTIAL)
    assert token != CREDENTIAL
    assert CREDENTIAL not in token
    assert "PROVIDER-CREDENTIAL" not in token
    assert cipher.decrypt(token) == CREDENTIAL
    assert CredentialCipher("server-secret").decrypt(token) == CREDENTIAL


def test_encryption_is_randomized() -> None:
    cipher = CredentialCipher("server-secret")
    assert cipher.encrypt(CREDENTIAL) != cipher.encrypt(CREDENTIAL)


def test_empty_credential_stays_empty() -> None:
    cipher = CredentialCipher("server-secret")
    assert cipher.encrypt("") == ""
    assert cipher.decrypt("") == ""


def test_unicode_round_trip() -> None:
    cipher = CredentialCipher("s")
    assert cipher.decrypt(cipher.encrypt("clé-🔑")) == "clé-🔑"


def test_other_secret_cannot_decrypt() -> None:
    token = CredentialCipher("secret-a").encrypt(CREDENTIAL)
    with pytest.raises(InvalidToken):
        CredentialCipher("secret-b").decrypt(token)


def test_tampered_token_is_rejected() -> None:
    cipher = CredentialCipher("secret-a")
    token = cipher.encrypt(CREDENTIAL)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(InvalidToken):
        cipher.decrypt(tampered)


def test_fingerprint() -> None:
    fp = fingerprint(CREDENTIAL)
    assert fp == fingerprint(CREDENTIAL)
    assert re.fullmatch(r"sha256:[0-9a-f]{12}", fp)
    assert CREDENTIAL not in fp
    assert fp == "sha256:" + hashlib.sha256(CREDENTIAL.encode()).hexdigest()[:12]
    assert fingerprint(CREDENTIAL + "x") != fp
    assert fingerprint("") == ""


def test_load_or_create_secret_prefers_configured(tmp_path: Path) -> None:
    assert load_or_create_secret("configured", tmp_path / "home") == "configured"
    assert not (tmp_path / "home").exists()


def test_load_or_create_secret_creates_0600_file_once(tmp_path: Path) -> None:
    home = tmp_path / "nested" / "home"
    first = load_or_create_secret("", home)
    path = home / "secret.key"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 40
    assert path.read_text() == first + "\n"
    before = path.stat().st_mtime_ns
    assert load_or_create_secret("", home) == first
    assert path.stat().st_mtime_ns == before
    # A second home gets its own secret.
    assert load_or_create_secret("", tmp_path / "other") != first


def test_load_or_create_secret_reads_existing(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("  kept-secret\n")
    assert load_or_create_secret("", tmp_path) == "kept-secret"


def test_new_secret() -> None:
    key = new_secret()
    assert key.startswith(KEY_PREFIX) and KEY_PREFIX == "omg-"
    body = key[len(KEY_PREFIX) :]
    assert len(body) == 43  # 32 random bytes, url-safe base64 without padding
    assert re.fullmatch(r"[A-Za-z0-9_-]+", body)
    assert len({new_secret() for _ in range(50)}) == 50
    admin = new_secret(ADMIN_TOKEN_PREFIX)
    assert admin.startswith("omga-")
    assert len(admin) == len(ADMIN_TOKEN_PREFIX) + 43


def test_hash_secret_is_sha256_hex() -> None:
    assert hash_secret("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    digest = hash_secret(CREDENTIAL)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hashlib.sha256(CREDENTIAL.encode()).hexdigest()
    assert hash_secret(CREDENTIAL + " ") != digest


def test_visible_prefix() -> None:
    key = new_secret()
    assert visible_prefix(key) == key[:12]
    assert visible_prefix(key).startswith(KEY_PREFIX)

"""Credentials at rest: Fernet under a key derived from LMS_SECRET_KEY (or the dev secret).

Workers and the web process both need this, so it lives in the domain, not in `web`.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from models.settings import Settings

log = logging.getLogger(__name__)

# Binds the derived key to this one use: the same secret never yields the JWT key and this.
_INFO = b"lms/payment-gateway-credentials/v1"


class CredentialError(Exception):
    """A stored credential cannot be decrypted (the secret key changed)."""


def _dev_secret(path: Path) -> str:
    """The development secret file `make run` uses, created private (0600) when missing."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


@functools.lru_cache(maxsize=8)
def _fernet(material: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def cipher(settings: Settings) -> Fernet:
    """The Fernet that seals this deployment's credentials."""
    if settings.secret_key:
        return _fernet(settings.secret_key)
    return _fernet(_dev_secret(settings.dev_secret_file))


def seal(settings: Settings, value: str) -> str:
    return cipher(settings).encrypt(value.encode()).decode()


def unseal(settings: Settings, token: str) -> str:
    try:
        return cipher(settings).decrypt(token.encode()).decode()
    except InvalidToken:
        # Never log the token or the key: only that the key no longer opens it.
        raise CredentialError("a stored credential does not open with this key") from None

"""Signed lesson-file links: a short-lived URL that works without a token.

A browser following `<a href>` sends no Authorization header, so whoever may read a lesson's
file can ask for a link that carries its own proof instead: an HMAC-SHA256, under a key
derived from LMS_SECRET_KEY (the development secret without it), over the tenant, the
lesson, the stored file's generated name and the expiry time. All four are in the link, so
a forged one is refused before any lookup. Replacing or deleting the file ends its links at
once; otherwise a link works until it expires, for whoever holds it, like any download
URL, which is why it is short-lived.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from models.payments.crypto import _dev_secret
from models.settings import Settings

# Binds the derived key to this one use: the same secret never signs anything else.
_INFO = b"lms/lesson-file-links/v1"
# A signature is 32 bytes: 43 characters of unpadded base64url.
_SIGNATURE_LENGTH = 43


@dataclass(frozen=True, slots=True)
class FileLink:
    file_key: str  # the stored file's generated name: `<uuid hex><extension>`
    expires: int  # Unix time
    signature: str

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires, UTC)


@functools.lru_cache(maxsize=8)
def _derived_key(material: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode()
    )


@functools.lru_cache(maxsize=8)
def _dev_material(path: str) -> str:
    # Read (or made) once per process: links are signed on the event loop.
    return _dev_secret(Path(path))


def _key(settings: Settings) -> bytes:
    material = settings.secret_key or _dev_material(str(settings.dev_secret_file))
    return _derived_key(material)


def file_key_of(stored_path: str) -> str:
    return stored_path.rpartition("/")[2]


def _signature(
    settings: Settings, *, tenant: str, lesson_id: int, file_key: str, expires: int
) -> str:
    message = f"lesson-file\n{tenant}\n{lesson_id}\n{file_key}\n{expires}".encode()
    digest = hmac.new(_key(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_file_link(
    settings: Settings, *, tenant: str, lesson_id: int, stored_path: str, now: float
) -> FileLink:
    expires = int(now) + settings.lesson_file_link_seconds
    file_key = file_key_of(stored_path)
    signature = _signature(
        settings, tenant=tenant, lesson_id=lesson_id, file_key=file_key, expires=expires
    )
    return FileLink(file_key=file_key, expires=expires, signature=signature)


def is_expired(expires: int, *, now: float) -> bool:
    return expires < now


def is_valid_signature(
    settings: Settings,
    *,
    tenant: str,
    lesson_id: int,
    file_key: str,
    expires: int,
    signature: str,
) -> bool:
    if len(signature) != _SIGNATURE_LENGTH:
        return False
    expected = _signature(
        settings, tenant=tenant, lesson_id=lesson_id, file_key=file_key, expires=expires
    )
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))

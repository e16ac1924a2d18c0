"""The development signing secret: generated once, kept in a file, reused by every run."""

from __future__ import annotations

import os
import secrets

from web.config import Settings


def dev_secret(settings: Settings, *, create: bool) -> str | None:
    path = settings.dev_secret_file
    if path.exists():
        return path.read_text().strip() or None
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # Created private (0600) at once, so it is never readable by others even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def signing_secret(settings: Settings, *, create: bool = True) -> str | None:
    """LMS_JWT_SECRET when set; with no key configured at all, the development secret."""
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.jwt_public_key or settings.jwks_url:
        return None
    return dev_secret(settings, create=create)
